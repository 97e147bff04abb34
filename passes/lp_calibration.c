/* The calibration graph --lp=auto measures layer pairs with (tools/lp_auto.c).
 *
 * One graph function keeps the model's sequential layers and adds, for every
 * adjacent pair (l - 1, l), the pair's parallel form computed from the same
 * input, and a switch s_l (an f32 scalar input) choosing which output the rest
 * of the model reads:
 *
 *   in_0 = x_emb,  in_l = sel_{l-1}
 *   seq_l = layer l (in_l)                                 as the model has it
 *   par_l = x + A_{l-1}(x) + A_l(x) + M_{l-1}(h) + M_l(h)  x = in_{l-1}, h = x + A_{l-1}(x) + A_l(x)
 *   sel_0 = seq_0,  sel_l = s_l * seq_l + (1 - s_l) * par_l
 *
 * With every switch 1 the graph computes the model exactly (x * 1 + y * 0 = x), and
 * each par_l is pair (l - 1, l)'s parallel output from the model's own input: one
 * run scores every pair. A window switches its pairs to 0. The parallel copies of
 * attention write their own KV cache slots (layer + n_layer in a cache twice as
 * deep), so both forms keep consistent caches across prefill chunks.
 *
 * Inputs after the model's: lp_switch_1 .. lp_switch_{L-1}. Outputs after the
 * logits: stream_in (x_emb), seq_0 .. seq_{L-1}, par_1 .. par_{L-1}. */
#include <stdlib.h>
#include <string.h>

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "passes/lp.h"
#include "passes/residual.h"
#include "support/ptrmap.h"

typedef struct value_map {
  ptrmap index; /* old value -> slot */
  MlirValue *to;
  int n, cap;
} value_map;

static tdm_status vm_put(value_map *m, MlirValue from, MlirValue to) {
  if (m->n == m->cap) {
    int c = m->cap ? m->cap * 2 : 64;
    MlirValue *p = realloc(m->to, sizeof *p * (size_t)c);
    if (!p) return TDM_INTERNAL("out of memory");
    m->to = p, m->cap = c;
  }
  int i = ptrmap_get(&m->index, from.ptr);
  if (i >= 0) {
    m->to[i] = to;
    return NULL;
  }
  if (!ptrmap_put(&m->index, from.ptr, m->n)) return TDM_INTERNAL("out of memory");
  m->to[m->n++] = to;
  return NULL;
}

static MlirValue vm_get(const value_map *m, MlirValue v) {
  int i = ptrmap_get(&m->index, v.ptr);
  return i >= 0 ? m->to[i] : v;
}

typedef struct calib {
  MlirBlock block;
  MlirOperation term;
  MlirContext ctx;
  int64_t cache_layers; /* the model's cache depth: clones use slot + cache_layers */
} calib;

/* Copies `ops` (in block order) before the terminator, reading `from` as `to`;
 * returns the copy of `out`. Attention copies use the second half of the cache. */
static tdm_status clone_branch(calib *c, MlirOperation *ops, int n, MlirValue from, MlirValue to, MlirValue out,
                               MlirValue *out_copy) {
  value_map m = {0};
  ptrmap_init(&m.index);
  tdm_status st = vm_put(&m, from, to);
  for (int i = 0; i < n && !st; i++) {
    MlirOperation op = mlirOperationClone(ops[i]);
    for (intptr_t k = 0; k < mlirOperationGetNumOperands(op); k++)
      mlirOperationSetOperand(op, k, vm_get(&m, mlirOperationGetOperand(op, k)));
    if (tdm_op_kind_of(op) == TDM_OP_ATTENTION) {
      tdm_attrs a;
      st = tdm_attrs_from_op(op, TDM_OP_ATTENTION, &a);
      if (!st)
        mlirOperationSetAttributeByName(op, tdm_str("layer"),
                                        mlirIntegerAttrGet(mlirIntegerTypeGet(c->ctx, 64), a.layer + c->cache_layers));
    }
    mlirBlockInsertOwnedOperationBefore(c->block, c->term, op);
    for (intptr_t r = 0; r < mlirOperationGetNumResults(op) && !st; r++)
      st = vm_put(&m, mlirOperationGetResult(ops[i], r), mlirOperationGetResult(op, r));
  }
  *out_copy = vm_get(&m, out);
  ptrmap_free(&m.index);
  free(m.to);
  return st;
}

static tdm_status build(calib *c, tdm_op_kind kind, MlirValue a, MlirValue b, MlirValue *out) {
  tdm_type ta, tb, t;
  TDM_TRY(tdm_type_from_mlir(mlirValueGetType(a), &ta));
  TDM_TRY(tdm_type_from_mlir(mlirValueGetType(b), &tb));
  t = ta.shape.rank >= tb.shape.rank ? ta : tb;
  tdm_attrs none = {0};
  return tdm_build_before(c->block, c->term, mlirOperationGetLocation(c->term), kind, (MlirValue[]){a, b}, 2, &none,
                          &t, out);
}

static MlirAttribute name_dict(MlirContext ctx, const char *name) {
  MlirNamedAttribute na = mlirNamedAttributeGet(mlirIdentifierGet(ctx, tdm_str("tdm.name")),
                                                mlirStringAttrGet(ctx, tdm_str(name)));
  return mlirDictionaryAttrGet(ctx, 1, &na);
}

typedef struct layer_ops {
  MlirOperation *ops[2];
  int n[2];
} layer_ops;

/* The whole rewrite of one graph function (see the top of the file). */
static tdm_status rewrite(calib *c, MlirOperation func, tdm_residual *r, MlirValue **outs, int *nouts,
                          MlirValue **switches) {
  int L = r->nlayers;
  layer_ops *lo = calloc((size_t)L, sizeof *lo);
  MlirValue *sel = calloc((size_t)L, sizeof *sel), *in = calloc((size_t)L, sizeof *in);
  MlirValue *seq = calloc((size_t)L, sizeof *seq);
  *outs = calloc((size_t)(2 * L + 1), sizeof **outs);
  *switches = calloc((size_t)L + 1, sizeof **switches);
  tdm_status st = lo && sel && in && seq && *outs && *switches ? NULL : TDM_INTERNAL("out of memory");
  /* Every branch's ops, before anything moves. */
  for (int l = 0; l < L && !st; l++)
    for (int k = 0; k < r->layers[l].nbranches && !st; k++)
      st = tdm_branch_ops(c->block, &r->branches[r->layers[l].branch + k], &lo[l].ops[k], &lo[l].n[k]);
  MlirType scalar = mlirRankedTensorTypeGet(0, NULL, mlirF32TypeGet(c->ctx), mlirAttributeGetNull());
  MlirValue one = {NULL};
  if (!st) {
    tdm_type t = {TANDEM_DTYPE_F32, {0, {0}}};
    tdm_attrs a = {0};
    a.value = mlirDenseElementsAttrFloatSplatGet(scalar, 1.0f);
    st = tdm_build_before(c->block, c->term, mlirOperationGetLocation(c->term), TDM_OP_CONSTANT, NULL, 0, &a, &t,
                          &one);
  }
  int n = 0;
  if (!st) (*outs)[n++] = r->branches[0].in;
  for (int l = 0; l < L && !st; l++) {
    const tdm_layer *ly = &r->layers[l];
    in[l] = l ? sel[l - 1] : r->branches[0].in;
    seq[l] = mlirOperationGetResult(r->branches[ly->branch + ly->nbranches - 1].add, 0);
    if (l == 0) {
      sel[0] = seq[0];
      continue;
    }
    /* par_l from x = in_{l-1}. */
    const tdm_layer *pi = &r->layers[l - 1];
    MlirValue x = in[l - 1], par;
    if (ly->kind == TDM_LAYER_TRANSFORMER) {
      const tdm_branch *ai = &r->branches[pi->branch], *mi = &r->branches[pi->branch + 1];
      const tdm_branch *aj = &r->branches[ly->branch], *mj = &r->branches[ly->branch + 1];
      MlirValue aj2, h, mi2, mj2, t;
      /* A_l's ops read in_l (= sel_{l-1}) now; its copy reads x. */
      st = clone_branch(c, lo[l].ops[0], lo[l].n[0], in[l], x, aj->out, &aj2);
      if (!st) st = build(c, TDM_OP_ADD, mlirOperationGetResult(ai->add, 0), aj2, &h);
      if (!st) st = clone_branch(c, lo[l - 1].ops[1], lo[l - 1].n[1], mi->in, h, mi->out, &mi2);
      if (!st) st = clone_branch(c, lo[l].ops[1], lo[l].n[1], mj->in, h, mj->out, &mj2);
      if (!st) st = build(c, TDM_OP_ADD, h, mi2, &t);
      if (!st) st = build(c, TDM_OP_ADD, t, mj2, &par);
    } else {
      const tdm_branch *fi = &r->branches[pi->branch], *fj = &r->branches[ly->branch];
      MlirValue fj2;
      st = clone_branch(c, lo[l].ops[0], lo[l].n[0], in[l], x, fj->out, &fj2);
      if (!st) st = build(c, TDM_OP_ADD, mlirOperationGetResult(fi->add, 0), fj2, &par);
    }
    /* sel_l = s * seq_l + (1 - s) * par_l; everything after layer l reads sel_l. */
    MlirValue s = mlirBlockAddArgument(c->block, scalar, mlirOperationGetLocation(func)), rest, a, b;
    (*switches)[l] = s;
    if (!st) st = build(c, TDM_OP_SUB, one, s, &rest);
    if (!st) st = build(c, TDM_OP_MUL, seq[l], s, &a);
    if (!st) st = build(c, TDM_OP_MUL, par, rest, &b);
    if (!st) st = build(c, TDM_OP_ADD, a, b, &sel[l]);
    if (!st) {
      mlirValueReplaceAllUsesOfWith(seq[l], sel[l]);
      mlirOperationSetOperand(mlirOpResultGetOwner(a), 0, seq[l]);
      (*outs)[L + l] = par;
    }
  }
  for (int l = 0; l < L && !st; l++) (*outs)[n++] = seq[l];
  for (int l = 1; l < L && !st; l++) (*outs)[n++] = (*outs)[L + l];
  *nouts = n;
  for (int l = 0; l < L && lo; l++) free(lo[l].ops[0]), free(lo[l].ops[1]);
  free(lo);
  free(sel);
  free(in);
  free(seq);
  return st;
}

/* The KV caches (attention operands 3, 4: block arguments) become twice as deep. */
static tdm_status deepen_caches(calib *c) {
  for (MlirOperation op = mlirBlockGetFirstOperation(c->block); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    if (tdm_op_kind_of(op) != TDM_OP_ATTENTION) continue;
    for (int k = 3; k <= 4; k++) {
      MlirValue v = mlirOperationGetOperand(op, k);
      tdm_type t;
      TDM_TRY(tdm_type_from_mlir(mlirValueGetType(v), &t));
      if (!mlirValueIsABlockArgument(v) || t.shape.rank != 4)
        return TDM_BAD("calibration needs KV caches that are function arguments");
      if (!c->cache_layers) c->cache_layers = t.shape.dim[0];
      if (t.shape.dim[0] == c->cache_layers) {
        t.shape.dim[0] *= 2;
        mlirValueSetType(v, tdm_type_to_mlir(c->ctx, &t));
      }
    }
  }
  return c->cache_layers ? NULL : TDM_BAD("calibration needs a model with attention and a KV cache");
}

/* function_type, arg_attrs and res_attrs from the block's arguments and the return. */
static tdm_status update_signature(calib *c, MlirOperation func, int model_args, int model_results) {
  int nargs = (int)mlirBlockGetNumArguments(c->block), nres = (int)mlirOperationGetNumOperands(c->term);
  MlirType *types = calloc((size_t)(nargs + nres) + 1, sizeof *types);
  MlirAttribute *attrs = calloc((size_t)(nargs + nres) + 1, sizeof *attrs);
  if (!types || !attrs) {
    free(types), free(attrs);
    return TDM_INTERNAL("out of memory");
  }
  MlirAttribute old_args = mlirOperationGetAttributeByName(func, tdm_str("arg_attrs"));
  MlirAttribute old_res = mlirOperationGetAttributeByName(func, tdm_str("res_attrs"));
  char name[64];
  for (int i = 0; i < nargs; i++) {
    types[i] = mlirValueGetType(mlirBlockGetArgument(c->block, i));
    snprintf(name, sizeof name, "lp_switch_%d", i - model_args + 1);
    attrs[i] = i < model_args && !mlirAttributeIsNull(old_args) ? mlirArrayAttrGetElement(old_args, i)
                                                               : name_dict(c->ctx, name);
  }
  int L = (nres - model_results + 1) / 2; /* stream_in, seq_0..L-1, par_1..L-1 */
  for (int i = 0; i < nres; i++) {
    types[nargs + i] = mlirValueGetType(mlirOperationGetOperand(c->term, i));
    int k = i - model_results;
    if (k == 0) snprintf(name, sizeof name, "stream_in");
    else if (k <= L) snprintf(name, sizeof name, "seq_%d", k - 1);
    else snprintf(name, sizeof name, "par_%d", k - L);
    attrs[nargs + i] = i < model_results && !mlirAttributeIsNull(old_res) ? mlirArrayAttrGetElement(old_res, i)
                                                                         : name_dict(c->ctx, name);
  }
  mlirOperationSetAttributeByName(func, tdm_str("function_type"),
                                  mlirTypeAttrGet(mlirFunctionTypeGet(c->ctx, nargs, types, nres, types + nargs)));
  mlirOperationSetAttributeByName(func, tdm_str("arg_attrs"), mlirArrayAttrGet(c->ctx, nargs, attrs));
  mlirOperationSetAttributeByName(func, tdm_str("res_attrs"), mlirArrayAttrGet(c->ctx, nres, attrs + nargs));
  free(types);
  free(attrs);
  return NULL;
}

tdm_status tdm_lp_calibration_graph(MlirModule module, const char *function, int *out_nlayers) {
  MlirOperation mod = mlirModuleGetOperation(module);
  MlirBlock blocks[TDM_MAX_ENTRIES];
  const char *names[TDM_MAX_ENTRIES];
  int nf = tdm_graph_functions(mod, blocks, names, TDM_MAX_ENTRIES), which = -1;
  for (int i = 0; i < nf; i++)
    if (strcmp(names[i], function) == 0) which = i;
  if (which < 0) return TDM_BAD("the model has no @%s function to calibrate", function);
  /* Only `function` stays. */
  for (int i = 0; i < nf; i++)
    if (i != which) mlirOperationDestroy(mlirBlockGetParentOperation(blocks[i]));
  calib c = {blocks[which], mlirBlockGetTerminator(blocks[which]), mlirOperationGetContext(mod), 0};
  MlirOperation func = mlirBlockGetParentOperation(c.block);
  tdm_residual r;
  TDM_TRY(tdm_residual_analyze(c.block, &r));
  tdm_status st = r.nlayers >= 2 ? NULL : TDM_BAD("@%s has %d residual layers: nothing to pair", function, r.nlayers);
  for (int i = 0; i + 1 < r.nlayers && !st; i++) {
    const char *why = tdm_residual_pair_problem(&r, c.block, i);
    if (why) st = TDM_BAD("layers %d and %d of @%s cannot be paired: %s", i, i + 1, function, why);
  }
  int model_args = (int)mlirBlockGetNumArguments(c.block);
  int model_results = (int)mlirOperationGetNumOperands(c.term);
  if (!st) st = deepen_caches(&c);
  MlirValue *outs = NULL, *switches = NULL;
  int nouts = 0;
  if (!st) st = rewrite(&c, func, &r, &outs, &nouts, &switches);
  if (!st) {
    int total = model_results + nouts;
    MlirValue *all = calloc((size_t)total, sizeof *all);
    if (!all) st = TDM_INTERNAL("out of memory");
    for (int i = 0; all && i < model_results; i++) all[i] = mlirOperationGetOperand(c.term, i);
    if (all) memcpy(all + model_results, outs, sizeof *outs * (size_t)nouts);
    if (all) mlirOperationSetOperands(c.term, total, all);
    free(all);
  }
  if (!st) st = update_signature(&c, func, model_args, model_results);
  if (!st) st = tdm_block_sort(c.block);
  if (!st) *out_nlayers = r.nlayers;
  free(outs);
  free(switches);
  tdm_residual_free(&r);
  return st;
}
