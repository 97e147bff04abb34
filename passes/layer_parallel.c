/* layer-parallel: adjacent residual layers run as parallel pairs
 * (arXiv 2502.02790; the math is in DESIGN.md).
 *
 * For transformer layers i and j = i + 1 with input x:
 *
 *   sequential                         paired
 *   h_i = x + A_i(x)                   h  = x + A_i(x) + A_j(x)
 *   y_i = h_i + M_i(h_i)               y  = h + M_i(h) + M_j(h)
 *   h_j = y_i + A_j(y_i)
 *   y_j = h_j + M_j(h_j)
 *
 * Every branch keeps its own norms and weights; A_j's K/V are computed from x and
 * go to layer j's cache slot as before. Two plain residual blocks become
 * y = x + f_i(x) + f_j(x). The layers are those residual.c finds in each graph
 * function, numbered along the residual stream; the session's window
 * [lp_start, lp_end) says which run as pairs (lp_start, lp_start + 1), ...
 * Each op of a pair carries tdm.lp_pair = array<i64: i, j>; fuse-gemm then merges
 * the pair's GEMMs. An empty window leaves the graph untouched. */
#include <stdlib.h>
#include <string.h>

#include "mlir-c/BuiltinAttributes.h"
#include "passes/lp.h"
#include "passes/pass.h"
#include "passes/residual.h"

/* Replaces `from` by `to` in the operands of `ops`. */
static void rewire(MlirOperation *ops, int n, MlirValue from, MlirValue to) {
  for (int i = 0; i < n; i++)
    for (intptr_t k = 0; k < mlirOperationGetNumOperands(ops[i]); k++)
      if (mlirValueEqual(mlirOperationGetOperand(ops[i], k), from)) mlirOperationSetOperand(ops[i], k, to);
}

static void mark(MlirOperation *ops, int n, MlirAttribute pair) {
  for (int i = 0; i < n; i++) mlirOperationSetAttributeByName(ops[i], tdm_str("tdm.lp_pair"), pair);
}

static tdm_status add_before(MlirOperation before, MlirValue a, MlirValue b, MlirValue *out) {
  tdm_type t;
  TDM_TRY(tdm_type_from_mlir(mlirValueGetType(a), &t));
  tdm_attrs none = {0};
  MlirValue ops[2] = {a, b};
  return tdm_build_before(mlirOperationGetBlock(before), before, mlirOperationGetLocation(before), TDM_OP_ADD,
                          ops, 2, &none, &t, out);
}

typedef struct branch_ops {
  MlirOperation *ops;
  int n;
} branch_ops;

/* Pairs layers `i` and `i + 1` (checked by tdm_residual_pair_problem). */
static tdm_status pair_layers(MlirBlock block, tdm_residual *r, int i) {
  const tdm_layer *li = &r->layers[i];
  int first = li->branch, nb = li->nbranches * 2;
  branch_ops bo[4] = {{0}};
  tdm_status st = NULL;
  for (int k = 0; k < nb && !st; k++) st = tdm_branch_ops(block, &r->branches[first + k], &bo[k].ops, &bo[k].n);
  MlirContext ctx = mlirOperationGetContext(r->branches[first].add);
  int64_t ids[2] = {i, i + 1};
  MlirAttribute pair = mlirDenseI64ArrayGet(ctx, 2, ids);
  if (!st && li->kind == TDM_LAYER_RESIDUAL) {
    /* y = (x + f_i(x)) + f_j(x): only f_j's input changes. */
    const tdm_branch *bi = &r->branches[first], *bj = &r->branches[first + 1];
    rewire(bo[1].ops, bo[1].n, bj->in, bi->in);
    for (int k = 0; k < 2; k++) mark(bo[k].ops, bo[k].n, pair);
    MlirOperation adds[2] = {bi->add, bj->add};
    mark(adds, 2, pair);
  } else if (!st) {
    const tdm_branch *ai = &r->branches[first], *mi = &r->branches[first + 1];
    const tdm_branch *aj = &r->branches[first + 2], *mj = &r->branches[first + 3];
    MlirValue x = ai->in, hi = mlirOperationGetResult(ai->add, 0);
    MlirValue y_old = mlirOperationGetResult(mj->add, 0);
    rewire(bo[2].ops, bo[2].n, aj->in, x); /* A_j reads x */
    MlirValue h, t, y;
    st = add_before(mj->add, hi, aj->out, &h); /* h = x + A_i + A_j */
    if (!st) {
      rewire(bo[1].ops, bo[1].n, mi->in, h);
      rewire(bo[3].ops, bo[3].n, mj->in, h);
      st = add_before(mj->add, h, mi->out, &t);
    }
    if (!st) st = add_before(mj->add, t, mj->out, &y);
    if (!st) {
      mlirValueReplaceAllUsesOfWith(y_old, y);
      if (first + 4 < r->nbranches) r->branches[first + 4].in = y; /* the next layer reads y now */
      for (int k = 0; k < 4; k++) mark(bo[k].ops, bo[k].n, pair);
      MlirOperation adds[4] = {ai->add, mlirOpResultGetOwner(h), mlirOpResultGetOwner(t), mlirOpResultGetOwner(y)};
      mark(adds, 4, pair);
    }
  }
  for (int k = 0; k < 4; k++) free(bo[k].ops);
  return st;
}

/* Why the window cannot be applied to this function's layers, or NULL. */
static tdm_status check_window(const tdm_residual *r, MlirBlock block, int start, int end, const char *fname) {
  if (end > r->nlayers && r->nlayers == 0)
    return tdm_error(TDM_EXIT_USAGE, "--lp=%d:%d: @%s has no residual layers to pair (see --lp-list)", start, end,
                     fname);
  if (end > r->nlayers)
    return tdm_error(TDM_EXIT_USAGE, "--lp=%d:%d: @%s has %d residual layers (0..%d)", start, end, fname,
                     r->nlayers, r->nlayers - 1);
  for (int i = start; i + 1 < end; i += 2) {
    const char *why = tdm_residual_pair_problem(r, block, i);
    if (why) return tdm_error(TDM_EXIT_USAGE, "--lp=%d:%d: layers %d and %d of @%s cannot be paired: %s", start, end,
                              i, i + 1, fname, why);
  }
  return NULL;
}

static tdm_status run_block(MlirBlock block, const char *fname, tdm_session *s, int counted) {
  tdm_residual r;
  TDM_TRY(tdm_residual_analyze(block, &r));
  if (counted) {
    s->lp_stats.syncs_before = r.nbranches;
    s->lp_stats.gemms_before = tdm_count_gemms(block);
  }
  tdm_status st = s->lp_start < s->lp_end ? check_window(&r, block, s->lp_start, s->lp_end, fname) : NULL;
  /* Pairs do not overlap: rewriting one leaves the others' branches as they were,
   * except that the next layer's input becomes the pair's new output. */
  if (counted) s->lp_stats.syncs_after = r.nbranches;
  for (int i = s->lp_start; !st && i + 1 < s->lp_end; i += 2) {
    st = pair_layers(block, &r, i);
    /* A pair waits for its whole stream once per branch kind: x + A_i + A_j, then
     * h + M_i + M_j (two plain blocks: once), where the layers waited 4 (2) times. */
    if (!st && counted) s->lp_stats.pairs++, s->lp_stats.syncs_after -= r.layers[i].nbranches;
  }
  tdm_residual_free(&r);
  TDM_TRY(st);
  if (s->lp_start >= s->lp_end) return NULL;
  TDM_TRY(tdm_block_remove_dead(block));
  return tdm_block_sort(block);
}

static tdm_status run(MlirOperation module, tdm_session *s) {
  s->lp_stats = (tdm_lp_stats){0};
  MlirBlock blocks[TDM_MAX_ENTRIES];
  const char *names[TDM_MAX_ENTRIES];
  int n = tdm_graph_functions(module, blocks, names, TDM_MAX_ENTRIES);
  int counted = tdm_lp_counted_function(names, n);
  for (int i = 0; i < n; i++) TDM_TRY(run_block(blocks[i], names[i], s, i == counted));
  return NULL;
}

const tdm_pass_def tdm_layer_parallel_def = {
    "layer-parallel", "Run the --lp window's adjacent residual layers as parallel pairs", run};

MlirPass tdm_pass_layer_parallel(tdm_session *s) { return tdm_pass_create(&tdm_layer_parallel_def, s); }

/* ---- --lp-list ------------------------------------------------------------------------ */

static void describe(MlirOperation op, strbuf *sb) { tdm_loc_describe(mlirOperationGetLocation(op), sb); }

static tdm_status list_block(MlirBlock block, const char *fname, FILE *out) {
  tdm_residual r;
  TDM_TRY(tdm_residual_analyze(block, &r));
  int transformers = 0;
  for (int i = 0; i < r.nlayers; i++) transformers += r.layers[i].kind == TDM_LAYER_TRANSFORMER;
  fprintf(out, "@%s: %d residual layers (%d transformer, %d plain) on a stream of %d residual adds\n", fname,
          r.nlayers, transformers, r.nlayers - transformers, r.nbranches);
  strbuf sb;
  sb_init(&sb);
  for (int i = 0; i < r.nlayers; i++) {
    const tdm_layer *l = &r.layers[i];
    const tdm_branch *b = &r.branches[l->branch];
    sb_clear(&sb);
    describe(r.branches[l->branch + l->nbranches - 1].add, &sb);
    if (l->kind == TDM_LAYER_TRANSFORMER)
      fprintf(out, "  layer %3d  transformer  attention %d ops, MLP %d ops   (ends at %s)\n", i, b[0].nops,
              b[1].nops, sb_str(&sb));
    else
      fprintf(out, "  layer %3d  residual     branch %d ops%s   (ends at %s)\n", i, b[0].nops,
              b[0].is_attention ? " (attention)" : "", sb_str(&sb));
  }
  for (int i = 0; i + 1 < r.nlayers; i++) {
    const char *why = tdm_residual_pair_problem(&r, block, i);
    if (why) fprintf(out, "  pair (%d, %d): rejected: %s\n", i, i + 1, why);
    else fprintf(out, "  pair (%d, %d): can run in parallel\n", i, i + 1);
  }
  if (r.nlayers < 2) fprintf(out, "  no pairs: layer parallelism needs two adjacent residual layers\n");
  const char *p = sb_str(&r.rejected);
  while (*p) {
    const char *nl = strchr(p, '\n');
    int len = nl ? (int)(nl - p) : (int)strlen(p);
    fprintf(out, "  rejected: %.*s\n", len, p);
    p += len + (nl != NULL);
  }
  sb_free(&sb);
  tdm_residual_free(&r);
  return NULL;
}

tdm_status tdm_layer_parallel_list(MlirOperation module, FILE *out) {
  MlirBlock blocks[TDM_MAX_ENTRIES];
  const char *names[TDM_MAX_ENTRIES];
  int n = tdm_graph_functions(module, blocks, names, TDM_MAX_ENTRIES);
  for (int i = 0; i < n; i++) TDM_TRY(list_block(blocks[i], names[i], out));
  return NULL;
}
