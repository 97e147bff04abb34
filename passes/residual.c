/* Finding the residual stream (see residual.h). */
#include "passes/residual.h"

#include <stdlib.h>
#include <string.h>

#include "support/ptrmap.h"

typedef struct graph {
  MlirOperation *ops;
  int n;
  ptrmap index; /* op -> position */
} graph;

static tdm_status graph_load(MlirBlock block, graph *g) {
  int cap = 256;
  g->n = 0;
  ptrmap_init(&g->index);
  g->ops = malloc(sizeof *g->ops * (size_t)cap);
  if (!g->ops) return TDM_INTERNAL("out of memory");
  for (MlirOperation op = mlirBlockGetFirstOperation(block); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    if (g->n == cap) {
      MlirOperation *p = realloc(g->ops, sizeof *p * (size_t)(cap *= 2));
      if (!p) return TDM_INTERNAL("out of memory");
      g->ops = p;
    }
    if (!ptrmap_put(&g->index, op.ptr, g->n)) return TDM_INTERNAL("out of memory");
    g->ops[g->n++] = op;
  }
  return NULL;
}

static void graph_free(graph *g) {
  free(g->ops);
  ptrmap_free(&g->index);
}

/* The position of the op defining v, or -1 for a block argument. */
static int def_of(const graph *g, MlirValue v) {
  return mlirValueIsAOpResult(v) ? ptrmap_get(&g->index, mlirOpResultGetOwner(v).ptr) : -1;
}

/* Marks in `mark` every op on which `v` depends, not looking past `stop`; returns
 * whether `stop` was reached. */
static int ancestors(const graph *g, MlirValue v, MlirValue stop, char *mark, int *stack) {
  int reached = 0, top = 0, d = def_of(g, v);
  if (mlirValueEqual(v, stop)) return 1;
  if (d >= 0 && !mark[d]) mark[d] = 1, stack[top++] = d;
  while (top) {
    MlirOperation op = g->ops[stack[--top]];
    for (intptr_t k = 0; k < mlirOperationGetNumOperands(op); k++) {
      MlirValue u = mlirOperationGetOperand(op, k);
      if (mlirValueEqual(u, stop)) {
        reached = 1;
        continue;
      }
      int e = def_of(g, u);
      if (e >= 0 && !mark[e]) mark[e] = 1, stack[top++] = e;
    }
  }
  return reached;
}

/* Marks in `mark` every op that depends on `v`. */
static void descendants(const graph *g, MlirValue v, char *mark, int *stack) {
  int top = 0;
  for (MlirOpOperand u = mlirValueGetFirstUse(v); !mlirOpOperandIsNull(u); u = mlirOpOperandGetNextUse(u)) {
    int i = ptrmap_get(&g->index, mlirOpOperandGetOwner(u).ptr);
    if (i >= 0 && !mark[i]) mark[i] = 1, stack[top++] = i;
  }
  while (top) {
    MlirOperation op = g->ops[stack[--top]];
    for (intptr_t r = 0; r < mlirOperationGetNumResults(op); r++)
      for (MlirOpOperand u = mlirValueGetFirstUse(mlirOperationGetResult(op, r)); !mlirOpOperandIsNull(u);
           u = mlirOpOperandGetNextUse(u)) {
        int i = ptrmap_get(&g->index, mlirOpOperandGetOwner(u).ptr);
        if (i >= 0 && !mark[i]) mark[i] = 1, stack[top++] = i;
      }
  }
}

/* A residual add: one operand is an ancestor of the other. */
typedef struct candidate {
  int add;             /* position */
  MlirValue in, out;   /* stream input, branch output */
  int next, prev;      /* chain links (candidate indices), -1 if none */
} candidate;

static void describe_op(MlirOperation op, strbuf *sb) {
  tdm_loc_describe(mlirOperationGetLocation(op), sb);
}

tdm_status tdm_branch_ops(MlirBlock block, const tdm_branch *b, MlirOperation **out, int *n) {
  graph g;
  *out = NULL;
  *n = 0;
  tdm_status st = graph_load(block, &g);
  char *up = st ? NULL : calloc((size_t)g.n + 1, 2);
  int *stack = st ? NULL : malloc(sizeof(int) * ((size_t)g.n + 1));
  if (!st && (!up || !stack)) st = TDM_INTERNAL("out of memory");
  if (!st) {
    char *down = up + g.n + 1;
    ancestors(&g, b->out, b->in, up, stack);
    int d = def_of(&g, b->out);
    if (d >= 0) up[d] = 1;
    descendants(&g, b->in, down, stack);
    *out = malloc(sizeof **out * ((size_t)g.n + 1));
    if (!*out) st = TDM_INTERNAL("out of memory");
    for (int i = 0; !st && i < g.n; i++)
      if (up[i] && down[i]) (*out)[(*n)++] = g.ops[i];
  }
  free(up);
  free(stack);
  graph_free(&g);
  return st;
}

static int contains_attention(const graph *g, const char *up, const char *down) {
  for (int i = 0; i < g->n; i++) {
    if (!up[i] || !down[i]) continue;
    tdm_op_kind k = tdm_op_kind_of(g->ops[i]);
    if (k == TDM_OP_ATTENTION || k == TDM_OP_SOFTMAX) return 1;
  }
  return 0;
}

static tdm_status find_candidates(const graph *g, candidate **out, int *n, char *mark, int *stack) {
  *out = calloc((size_t)g->n + 1, sizeof **out);
  *n = 0;
  if (!*out) return TDM_INTERNAL("out of memory");
  for (int i = 0; i < g->n; i++) {
    if (tdm_op_kind_of(g->ops[i]) != TDM_OP_ADD) continue;
    MlirValue a = mlirOperationGetOperand(g->ops[i], 0), b = mlirOperationGetOperand(g->ops[i], 1);
    if (!mlirTypeEqual(mlirValueGetType(a), mlirValueGetType(b))) continue; /* no broadcasting */
    for (int side = 0; side < 2; side++) {
      MlirValue s = side ? b : a, br = side ? a : b;
      memset(mark, 0, (size_t)g->n);
      if (!ancestors(g, br, s, mark, stack)) continue;
      (*out)[(*n)++] = (candidate){i, s, br, -1, -1};
      break;
    }
  }
  return NULL;
}

tdm_status tdm_residual_analyze(MlirBlock block, tdm_residual *out) {
  memset(out, 0, sizeof *out);
  sb_init(&out->rejected);
  graph g;
  TDM_TRY(graph_load(block, &g));
  char *up = calloc((size_t)g.n + 1, 2);
  int *stack = malloc(sizeof(int) * ((size_t)g.n + 1));
  candidate *c = NULL;
  int nc = 0;
  tdm_status st = up && stack ? find_candidates(&g, &c, &nc, up, stack) : TDM_INTERNAL("out of memory");
  char *down = up ? up + g.n + 1 : NULL;
  /* Chains: candidate j follows i when j's stream input is i's result. */
  for (int i = 0; !st && i < nc; i++) {
    MlirValue res = mlirOperationGetResult(g.ops[c[i].add], 0);
    for (int j = 0; j < nc; j++) {
      if (!mlirValueEqual(c[j].in, res)) continue;
      if (c[i].next < 0 && c[j].prev < 0) {
        c[i].next = j;
        c[j].prev = i;
      }
    }
  }
  int best = -1, best_len = 0;
  for (int i = 0; !st && i < nc; i++) {
    if (c[i].prev >= 0) continue;
    int len = 0;
    for (int k = i; k >= 0; k = c[k].next) len++;
    if (len > best_len) best = i, best_len = len;
  }
  if (!st && best_len) {
    out->branches = calloc((size_t)best_len, sizeof *out->branches);
    out->layers = calloc((size_t)best_len, sizeof *out->layers);
    if (!out->branches || !out->layers) st = TDM_INTERNAL("out of memory");
  }
  char *on_chain = st ? NULL : calloc((size_t)nc + 1, 1);
  for (int k = best; !st && k >= 0; k = c[k].next) {
    on_chain[k] = 1;
    tdm_branch *b = &out->branches[out->nbranches++];
    b->in = c[k].in;
    b->out = c[k].out;
    b->add = g.ops[c[k].add];
    memset(up, 0, (size_t)(2 * g.n + 2));
    ancestors(&g, b->out, b->in, up, stack);
    int d = def_of(&g, b->out);
    if (d >= 0) up[d] = 1;
    descendants(&g, b->in, down, stack);
    for (int i = 0; i < g.n; i++) b->nops += up[i] && down[i];
    b->is_attention = contains_attention(&g, up, down);
  }
  for (int i = 0; !st && i < nc; i++) {
    if (on_chain[i]) continue;
    describe_op(g.ops[c[i].add], &out->rejected);
    sb_puts(&out->rejected, ": a residual add, but not on the model's main residual stream\n");
  }
  /* Layers: attention followed by a non-attention block, else one block each. */
  for (int k = 0; !st && k < out->nbranches;) {
    tdm_layer *l = &out->layers[out->nlayers++];
    l->branch = k;
    if (out->branches[k].is_attention && k + 1 < out->nbranches && !out->branches[k + 1].is_attention) {
      l->kind = TDM_LAYER_TRANSFORMER;
      l->nbranches = 2;
    } else {
      l->kind = TDM_LAYER_RESIDUAL;
      l->nbranches = 1;
    }
    k += l->nbranches;
  }
  free(on_chain);
  free(c);
  free(up);
  free(stack);
  graph_free(&g);
  if (st) tdm_residual_free(out);
  return st;
}

void tdm_residual_free(tdm_residual *r) {
  free(r->branches);
  free(r->layers);
  sb_free(&r->rejected);
  memset(r, 0, sizeof *r);
}

/* Every use of `v` is by an op in `inside` (ops) or is `allowed`. */
static int uses_only(MlirValue v, MlirOperation *inside, int n, MlirOperation allowed) {
  for (MlirOpOperand u = mlirValueGetFirstUse(v); !mlirOpOperandIsNull(u); u = mlirOpOperandGetNextUse(u)) {
    MlirOperation o = mlirOpOperandGetOwner(u);
    int ok = mlirOperationEqual(o, allowed);
    for (int i = 0; i < n && !ok; i++) ok = mlirOperationEqual(o, inside[i]);
    if (!ok) return 0;
  }
  return 1;
}

/* The intermediate stream values of a pair must serve the pair only. */
static int private_value(MlirBlock block, const tdm_residual *r, int first, int count, int k) {
  MlirOperation *all = NULL;
  int n = 0;
  for (int b = first; b < first + count; b++) {
    MlirOperation *ops;
    int m;
    if (tdm_branch_ops(block, &r->branches[b], &ops, &m)) return 0;
    MlirOperation *grown = realloc(all, sizeof *all * (size_t)(n + m + 1));
    if (!grown) {
      free(ops);
      free(all);
      return 0;
    }
    all = grown;
    memcpy(all + n, ops, sizeof *ops * (size_t)m);
    n += m;
    all[n++] = r->branches[b].add;
    free(ops);
  }
  int ok = uses_only(mlirOperationGetResult(r->branches[k].add, 0), all, n, (MlirOperation){NULL});
  free(all);
  return ok;
}

const char *tdm_residual_pair_problem(const tdm_residual *r, MlirBlock block, int i) {
  if (i < 0 || i + 1 >= r->nlayers) return "the window runs past the last layer";
  const tdm_layer *a = &r->layers[i], *b = &r->layers[i + 1];
  if (a->kind != b->kind) return "one is a transformer layer, the other a plain residual block";
  int first = a->branch, count = a->nbranches + b->nbranches;
  for (int k = first; k < first + count - 1; k++)
    if (!private_value(block, r, first, count, k))
      return "a stream value between the two layers is used outside them";
  return NULL;
}

int tdm_count_gemms(MlirBlock block) {
  int n = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(block); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op))
    n += tdm_op_kind_of(op) == TDM_OP_MATMUL;
  return n;
}

int tdm_lp_counted_function(const char **names, int n) {
  for (int i = 0; i < n; i++)
    if (strcmp(names[i], "decode") == 0) return i;
  return 0;
}
