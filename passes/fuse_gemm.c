/* fuse-gemm: fewer, larger GEMMs over compile-time weights.
 *
 * 1. Norm scales into weights. When every user of norm(x) * g (tdm.rms_norm(x, g),
 *    or a mul by a weight vector g) is a GEMM by a weight B, g moves into B's rows:
 *    (n * g) B = n (diag(g) B). The norm keeps a scale of ones (rms_norm) or goes
 *    (mul), so branches that normalise the same input now compute the same thing.
 * 2. Common subexpressions: identical ops over identical operands merge (the
 *    norms above, their constants), so paired branches share one normalised input.
 * 3. Horizontal fusion: GEMMs with the same left operand and weights B_1..B_k
 *    become one GEMM by concat(B_1..B_k) along N, then slices: Q/K/V of a layer
 *    (of both layers of a pair), gate/up of an MLP (of both MLPs).
 * 4. Fusion over K: s + A_1 B_1 + A_2 B_2, where the inner sum feeds only the
 *    outer one, becomes s + concat(A_1, A_2) concat(B_1; B_2): a pair's two output
 *    projections and its two down projections.
 *
 * GEMMs by block-encoded weights (GGUF's Q4_1..., kept [N, K] behind transpose_b:
 * tdm_weight_is_blocked) fuse too, steps 3 and 4, when their weights share an
 * encoding: concatenating whole rows of blocks (along N) or rows block by block
 * (along K) keeps the format, and lower-graph does it on the bytes. Step 1 leaves
 * them alone (scaling their rows would mean re-quantising them).
 *
 * New weights are recipes (mul, reshape, concat of weights) that lower-graph
 * evaluates at compile time into the weights blob. Fused ops keep the
 * tdm.lp_pair mark their sources share. Each step is exact in real arithmetic;
 * in floats results move by rounding only. --fuse-gemm=off skips the pass. */
#include <stdlib.h>
#include <string.h>

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "passes/pass.h"
#include "passes/residual.h"
#include "support/ptrmap.h"

#define MAX_GROUP 64

/* A value computed from weights alone (lower-graph folds it). */
static int is_const(MlirValue v) {
  if (!mlirValueIsAOpResult(v)) return 0;
  MlirOperation def = mlirOpResultGetOwner(v);
  tdm_op_kind k = tdm_op_kind_of(def);
  if (k == TDM_OP_WEIGHT) return 1;
  if (k != TDM_OP_RESHAPE && k != TDM_OP_CONVERT && k != TDM_OP_TRANSPOSE && k != TDM_OP_CONCAT &&
      k != TDM_OP_MUL)
    return 0;
  for (intptr_t i = 0; i < mlirOperationGetNumOperands(def); i++)
    if (!is_const(mlirOperationGetOperand(def, i))) return 0;
  return 1;
}

static tdm_status type_of(MlirValue v, tdm_type *t) { return tdm_type_from_mlir(mlirValueGetType(v), t); }

/* A plain GEMM by a weight: matmul(a, B) with B [K, N] constant, no transposes. */
static int is_weight_gemm(MlirOperation op) {
  if (tdm_op_kind_of(op) != TDM_OP_MATMUL) return 0;
  tdm_attrs a;
  if (tdm_attrs_from_op(op, TDM_OP_MATMUL, &a) || a.transpose_a || a.transpose_b) return 0;
  tdm_type at, bt;
  if (type_of(mlirOperationGetOperand(op, 0), &at) || type_of(mlirOperationGetOperand(op, 1), &bt)) return 0;
  return bt.shape.rank == 2 && at.shape.rank >= 2 && at.dtype == TANDEM_DTYPE_F32 && bt.dtype == TANDEM_DTYPE_F32 &&
         is_const(mlirOperationGetOperand(op, 1));
}

/* The storage encoding of a block-encoded weight matrix, or of a concatenation of
 * such matrices in one encoding; NULL for anything else. */
static const char *blocked_storage(MlirValue v) {
  if (!mlirValueIsAOpResult(v)) return NULL;
  MlirOperation def = mlirOpResultGetOwner(v);
  tdm_op_kind k = tdm_op_kind_of(def);
  if (k == TDM_OP_WEIGHT) return tdm_weight_is_blocked(def) ? tdm_weight_storage(def) : NULL;
  if (k != TDM_OP_CONCAT || mlirOperationGetNumOperands(def) != 2) return NULL;
  const char *a = blocked_storage(mlirOperationGetOperand(def, 0)), *b = blocked_storage(mlirOperationGetOperand(def, 1));
  return a && b && strcmp(a, b) == 0 ? a : NULL;
}

/* A GEMM by a block-encoded weight: matmul(a, W, transpose_b), W [N, K]. */
static int is_blocked_gemm(MlirOperation op) {
  if (tdm_op_kind_of(op) != TDM_OP_MATMUL) return 0;
  tdm_attrs a;
  if (tdm_attrs_from_op(op, TDM_OP_MATMUL, &a) || a.transpose_a || !a.transpose_b) return 0;
  tdm_type at;
  if (type_of(mlirOperationGetOperand(op, 0), &at)) return 0;
  return at.shape.rank >= 2 && at.dtype == TANDEM_DTYPE_F32 && blocked_storage(mlirOperationGetOperand(op, 1));
}

/* Two GEMMs that can become one: both by f32 weights, or both by blocked weights in
 * one encoding. */
static int fusable_pair(MlirOperation a, MlirOperation b) {
  if (is_weight_gemm(a)) return is_weight_gemm(b);
  if (!is_blocked_gemm(a) || !is_blocked_gemm(b)) return 0;
  return strcmp(blocked_storage(mlirOperationGetOperand(a, 1)), blocked_storage(mlirOperationGetOperand(b, 1))) == 0;
}

static int single_use(MlirValue v) {
  MlirOpOperand u = mlirValueGetFirstUse(v);
  return !mlirOpOperandIsNull(u) && mlirOpOperandIsNull(mlirOpOperandGetNextUse(u));
}

/* Every use of `v` is as the left operand of a weight GEMM. */
static int feeds_weight_gemms_only(MlirValue v) {
  MlirOpOperand u = mlirValueGetFirstUse(v);
  if (mlirOpOperandIsNull(u)) return 0;
  for (; !mlirOpOperandIsNull(u); u = mlirOpOperandGetNextUse(u))
    if (mlirOpOperandGetOperandNumber(u) != 0 || !is_weight_gemm(mlirOpOperandGetOwner(u))) return 0;
  return 1;
}

static MlirAttribute lp_mark(MlirOperation op) {
  return mlirOperationGetAttributeByName(op, tdm_str("tdm.lp_pair"));
}

/* Copies the mark that all of `srcs` share (if any) onto `dst`. */
static void copy_mark(MlirOperation *srcs, int n, MlirOperation dst) {
  MlirAttribute m = lp_mark(srcs[0]);
  if (mlirAttributeIsNull(m)) return;
  for (int i = 1; i < n; i++)
    if (!mlirAttributeEqual(m, lp_mark(srcs[i]))) return;
  mlirOperationSetAttributeByName(dst, tdm_str("tdm.lp_pair"), m);
}

static tdm_status build(MlirOperation before, tdm_op_kind kind, MlirValue *ops, int n, const tdm_attrs *a,
                        tdm_type *t, MlirValue *out) {
  return tdm_build_before(mlirOperationGetBlock(before), before, mlirOperationGetLocation(before), kind, ops, n,
                          a, t, out);
}

/* ---- 1. Norm scales into weights ------------------------------------------------- */

/* B' = B * reshape(g, [K, 1]) for the GEMM `mm`, before `mm`. */
static tdm_status scale_rows(MlirOperation mm, MlirValue g, int64_t K) {
  MlirValue b = mlirOperationGetOperand(mm, 1);
  tdm_type gt = {TANDEM_DTYPE_F32, {2, {K, 1}}}, bt;
  TDM_TRY(type_of(b, &bt));
  tdm_attrs none = {0};
  MlirValue g2, scaled;
  TDM_TRY(build(mm, TDM_OP_RESHAPE, &g, 1, &none, &gt, &g2));
  TDM_TRY(build(mm, TDM_OP_MUL, (MlirValue[]){b, g2}, 2, &none, &bt, &scaled));
  mlirOperationSetOperand(mm, 1, scaled);
  return NULL;
}

/* g's elements when it is a weight-derived vector of K floats (any leading 1s). */
static int is_scale_vector(MlirValue g, int64_t K) {
  tdm_type t;
  if (type_of(g, &t) || t.dtype != TANDEM_DTYPE_F32 || t.shape.rank < 1 || !is_const(g)) return 0;
  for (int d = 0; d + 1 < t.shape.rank; d++)
    if (t.shape.dim[d] != 1) return 0;
  return t.shape.dim[t.shape.rank - 1] == K;
}

static tdm_status scale_all_users(MlirValue v, MlirValue g, int64_t K) {
  MlirOperation users[MAX_GROUP];
  int n = 0;
  for (MlirOpOperand u = mlirValueGetFirstUse(v); !mlirOpOperandIsNull(u) && n < MAX_GROUP;
       u = mlirOpOperandGetNextUse(u))
    users[n++] = mlirOpOperandGetOwner(u);
  for (int i = 0; i < n; i++) TDM_TRY(scale_rows(users[i], g, K));
  return NULL;
}

static int count_uses(MlirValue v) {
  int n = 0;
  for (MlirOpOperand u = mlirValueGetFirstUse(v); !mlirOpOperandIsNull(u); u = mlirOpOperandGetNextUse(u)) n++;
  return n;
}

/* A vector of K ones, f32. */
static tdm_status ones(MlirOperation before, int64_t K, MlirValue *out) {
  MlirContext ctx = mlirOperationGetContext(before);
  tdm_type t = {TANDEM_DTYPE_F32, {1, {K}}};
  tdm_attrs a = {0};
  a.value = mlirDenseElementsAttrFloatSplatGet(tdm_type_to_mlir(ctx, &t), 1.0f);
  return build(before, TDM_OP_CONSTANT, NULL, 0, &a, &t, out);
}

static tdm_status fold_norm_scale(MlirOperation op, int *changed) {
  tdm_op_kind k = tdm_op_kind_of(op);
  if (k != TDM_OP_RMS_NORM && k != TDM_OP_MUL) return NULL;
  MlirValue out = mlirOperationGetResult(op, 0);
  tdm_type ot;
  TDM_TRY(type_of(out, &ot));
  if (ot.shape.rank < 2 || count_uses(out) > MAX_GROUP || !feeds_weight_gemms_only(out)) return NULL;
  int64_t K = ot.shape.dim[ot.shape.rank - 1];
  if (k == TDM_OP_RMS_NORM) {
    MlirValue g = mlirOperationGetOperand(op, 1);
    if (!is_scale_vector(g, K) || !mlirValueIsAOpResult(g)) return NULL;
    MlirValue one;
    TDM_TRY(ones(op, K, &one));
    TDM_TRY(scale_all_users(out, g, K));
    mlirOperationSetOperand(op, 1, one);
    *changed = 1;
    return NULL;
  }
  /* mul(n, g) or mul(g, n) with n of the result's type. */
  for (int side = 0; side < 2; side++) {
    MlirValue n = mlirOperationGetOperand(op, side), g = mlirOperationGetOperand(op, 1 - side);
    if (!mlirTypeEqual(mlirValueGetType(n), mlirValueGetType(out)) || !is_scale_vector(g, K)) continue;
    if (is_const(n)) return NULL; /* a weight times a weight: lower-graph folds it */
    TDM_TRY(scale_all_users(out, g, K));
    mlirValueReplaceAllUsesOfWith(out, n);
    *changed = 1;
    return NULL;
  }
  return NULL;
}

/* ---- 2. Common subexpressions ---------------------------------------------------- */

static int same_attrs(MlirOperation a, MlirOperation b) {
  intptr_t n = mlirOperationGetNumAttributes(a);
  if (n != mlirOperationGetNumAttributes(b)) return 0;
  for (intptr_t i = 0; i < n; i++) {
    MlirNamedAttribute na = mlirOperationGetAttribute(a, i);
    MlirStringRef name = mlirIdentifierStr(na.name);
    if (name.length == 11 && memcmp(name.data, "tdm.lp_pair", 11) == 0) continue;
    MlirAttribute other = mlirOperationGetAttributeByName(b, name);
    if (mlirAttributeIsNull(other) || !mlirAttributeEqual(na.attribute, other)) return 0;
  }
  return 1;
}

static int same_op(MlirOperation a, MlirOperation b) {
  if (!mlirIdentifierEqual(mlirOperationGetName(a), mlirOperationGetName(b))) return 0;
  intptr_t n = mlirOperationGetNumOperands(a);
  if (n != mlirOperationGetNumOperands(b) || mlirOperationGetNumResults(a) != 1 ||
      mlirOperationGetNumResults(b) != 1 ||
      !mlirTypeEqual(mlirValueGetType(mlirOperationGetResult(a, 0)), mlirValueGetType(mlirOperationGetResult(b, 0))))
    return 0;
  for (intptr_t i = 0; i < n; i++)
    if (!mlirValueEqual(mlirOperationGetOperand(a, i), mlirOperationGetOperand(b, i))) return 0;
  return same_attrs(a, b);
}

/* Merges each pure tdm op into an earlier identical one. Quadratic within buckets
 * of equal kind; graphs are thousands of ops. */
static tdm_status cse(MlirBlock block, int *changed) {
  MlirOperation *seen[TDM_OP_COUNT] = {0};
  int nseen[TDM_OP_COUNT] = {0}, cap[TDM_OP_COUNT] = {0};
  tdm_status st = NULL;
  for (MlirOperation op = mlirBlockGetFirstOperation(block); !mlirOperationIsNull(op) && !st;
       op = mlirOperationGetNextInBlock(op)) {
    tdm_op_kind k = tdm_op_kind_of(op);
    if (k == TDM_OP_NONE || k == TDM_OP_ATTENTION) continue;
    int merged = 0;
    for (int i = 0; i < nseen[k] && !merged; i++)
      if (same_op(seen[k][i], op)) {
        mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(op, 0), mlirOperationGetResult(seen[k][i], 0));
        merged = *changed = 1;
      }
    if (merged) continue;
    if (nseen[k] == cap[k]) {
      int c = cap[k] ? cap[k] * 2 : 16;
      MlirOperation *p = realloc(seen[k], sizeof *p * (size_t)c);
      if (!p) {
        st = TDM_INTERNAL("out of memory");
        break;
      }
      seen[k] = p, cap[k] = c;
    }
    seen[k][nseen[k]++] = op;
  }
  for (int k = 0; k < TDM_OP_COUNT; k++) free(seen[k]);
  TDM_TRY(st);
  return tdm_block_remove_dead(block);
}

/* ---- 3. Horizontal fusion -------------------------------------------------------- */

/* concat(v_0, ..., v_{n-1}) along `axis` as a chain of binary concats. */
static tdm_status concat_all(MlirOperation before, MlirValue *v, int n, int axis, MlirValue *out) {
  MlirValue acc = v[0];
  for (int i = 1; i < n; i++) {
    tdm_type t;
    tdm_attrs a = {0};
    a.axis = axis;
    TDM_TRY(build(before, TDM_OP_CONCAT, (MlirValue[]){acc, v[i]}, 2, &a, &t, &acc));
  }
  *out = acc;
  return NULL;
}

/* The GEMMs in `mms` (same left operand) become one, placed before the first. */
static tdm_status fuse_horizontal(MlirOperation *mms, int n) {
  MlirOperation at = mms[0];
  MlirValue bs[MAX_GROUP];
  int64_t widths[MAX_GROUP];
  int blocked = is_blocked_gemm(at); /* B is [N, K]: concatenate along N = axis 0 */
  for (int i = 0; i < n; i++) {
    bs[i] = mlirOperationGetOperand(mms[i], 1);
    tdm_type bt;
    TDM_TRY(type_of(bs[i], &bt));
    widths[i] = bt.shape.dim[blocked ? 0 : 1];
  }
  /* The weights are defined before every GEMM that reads them; the fused GEMM goes
   * before the first, so its concat must too: place everything before the first
   * GEMM and let the block sort fix weights defined later (lazy frontends). */
  MlirValue bcat, fused;
  TDM_TRY(concat_all(at, bs, n, blocked ? 0 : 1, &bcat));
  tdm_attrs mm = {0};
  mm.transpose_b = blocked;
  tdm_type ft;
  TDM_TRY(build(at, TDM_OP_MATMUL, (MlirValue[]){mlirOperationGetOperand(at, 0), bcat}, 2, &mm, &ft, &fused));
  copy_mark(mms, n, mlirOpResultGetOwner(fused));
  int64_t start = 0;
  for (int i = 0; i < n; i++) {
    tdm_type st;
    TDM_TRY(type_of(mlirOperationGetResult(mms[i], 0), &st));
    tdm_attrs sa = {0};
    sa.axis = st.shape.rank - 1;
    sa.start = start;
    MlirValue part;
    TDM_TRY(build(at, TDM_OP_SLICE, &fused, 1, &sa, &st, &part));
    copy_mark(&mms[i], 1, mlirOpResultGetOwner(part));
    mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(mms[i], 0), part);
    start += widths[i];
  }
  return NULL;
}

/* A weight GEMM whose result is still used (fused ones linger until the sweep). */
static int live_weight_gemm(MlirOperation op) {
  return (is_weight_gemm(op) || is_blocked_gemm(op)) &&
         !mlirOpOperandIsNull(mlirValueGetFirstUse(mlirOperationGetResult(op, 0)));
}

static tdm_status horizontal(MlirBlock block, int *changed) {
  /* Positions in the block, to put each group in block order. */
  ptrmap pos;
  ptrmap_init(&pos);
  int npos = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(block); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op))
    if (!ptrmap_put(&pos, op.ptr, npos++)) {
      ptrmap_free(&pos);
      return TDM_INTERNAL("out of memory");
    }
  MlirOperation group[MAX_GROUP];
  tdm_status st = NULL;
  for (MlirOperation op = mlirBlockGetFirstOperation(block); !mlirOperationIsNull(op) && !st;
       op = mlirOperationGetNextInBlock(op)) {
    if (!live_weight_gemm(op)) continue;
    MlirValue a = mlirOperationGetOperand(op, 0);
    int n = 0;
    for (MlirOpOperand u = mlirValueGetFirstUse(a); !mlirOpOperandIsNull(u) && n < MAX_GROUP;
         u = mlirOpOperandGetNextUse(u)) {
      MlirOperation user = mlirOpOperandGetOwner(u);
      if (mlirOpOperandGetOperandNumber(u) == 0 && live_weight_gemm(user) && fusable_pair(op, user)) group[n++] = user;
    }
    if (n < 2) continue;
    /* Insertion sort by position; act when `op` is the group's first. */
    for (int i = 1; i < n; i++)
      for (int j = i; j > 0 && ptrmap_get(&pos, group[j].ptr) < ptrmap_get(&pos, group[j - 1].ptr); j--) {
        MlirOperation t = group[j];
        group[j] = group[j - 1], group[j - 1] = t;
      }
    if (!mlirOperationEqual(group[0], op)) continue;
    st = fuse_horizontal(group, n);
    *changed = 1;
  }
  ptrmap_free(&pos);
  TDM_TRY(st);
  TDM_TRY(tdm_block_remove_dead(block));
  return tdm_block_sort(block);
}

/* ---- 4. Fusion over K ------------------------------------------------------------- */

/* The GEMM defining `v` if it is a single-use weight GEMM. */
static int gemm_of(MlirValue v, MlirOperation *out) {
  if (!mlirValueIsAOpResult(v) || !single_use(v)) return 0;
  *out = mlirOpResultGetOwner(v);
  return is_weight_gemm(*out) || is_blocked_gemm(*out);
}

/* outer = add(inner, mm2) or add(mm2, inner), inner = add(s, mm1) or add(mm1, s). */
static tdm_status fuse_k(MlirOperation outer, int *changed) {
  if (tdm_op_kind_of(outer) != TDM_OP_ADD) return NULL;
  for (int os = 0; os < 2; os++) {
    MlirValue inner_v = mlirOperationGetOperand(outer, os), v2 = mlirOperationGetOperand(outer, 1 - os);
    MlirOperation mm2, mm1;
    if (!mlirValueIsAOpResult(inner_v) || !single_use(inner_v) || !gemm_of(v2, &mm2)) continue;
    MlirOperation inner = mlirOpResultGetOwner(inner_v);
    if (tdm_op_kind_of(inner) != TDM_OP_ADD) continue;
    for (int is = 0; is < 2; is++) {
      MlirValue s = mlirOperationGetOperand(inner, is), v1 = mlirOperationGetOperand(inner, 1 - is);
      if (!gemm_of(v1, &mm1) || !fusable_pair(mm1, mm2)) continue;
      int blocked = is_blocked_gemm(mm1); /* B is [N, K]: concatenate along K = axis 1 */
      MlirValue a1 = mlirOperationGetOperand(mm1, 0), a2 = mlirOperationGetOperand(mm2, 0);
      tdm_type t1, t2, r1, r2, st;
      TDM_TRY(type_of(a1, &t1));
      TDM_TRY(type_of(a2, &t2));
      TDM_TRY(type_of(v1, &r1));
      TDM_TRY(type_of(v2, &r2));
      TDM_TRY(type_of(s, &st));
      if (t1.shape.rank != t2.shape.rank || !tdm_type_equal(&r1, &r2) || !tdm_type_equal(&r1, &st)) continue;
      int ok = 1, r = t1.shape.rank;
      for (int d = 0; d + 1 < r; d++) ok &= t1.shape.dim[d] == t2.shape.dim[d];
      if (!ok) continue;
      MlirValue acat, bcat, mm, sum;
      tdm_attrs ca = {0}, none = {0};
      tdm_type t;
      ca.axis = r - 1;
      TDM_TRY(build(outer, TDM_OP_CONCAT, (MlirValue[]){a1, a2}, 2, &ca, &t, &acat));
      ca.axis = blocked;
      TDM_TRY(build(outer, TDM_OP_CONCAT, (MlirValue[]){mlirOperationGetOperand(mm1, 1), mlirOperationGetOperand(mm2, 1)},
                    2, &ca, &t, &bcat));
      tdm_attrs mma = {0};
      mma.transpose_b = blocked;
      TDM_TRY(build(outer, TDM_OP_MATMUL, (MlirValue[]){acat, bcat}, 2, &mma, &t, &mm));
      TDM_TRY(build(outer, TDM_OP_ADD, (MlirValue[]){s, mm}, 2, &none, &t, &sum));
      MlirOperation srcs[2] = {mm1, mm2};
      copy_mark(srcs, 2, mlirOpResultGetOwner(mm));
      copy_mark(srcs, 2, mlirOpResultGetOwner(acat));
      MlirOperation adds[2] = {inner, outer};
      copy_mark(adds, 2, mlirOpResultGetOwner(sum));
      mlirValueReplaceAllUsesOfWith(mlirOperationGetResult(outer, 0), sum);
      *changed = 1;
      return NULL;
    }
  }
  return NULL;
}

static tdm_status over_k(MlirBlock block, int *changed) {
  for (MlirOperation op = mlirBlockGetFirstOperation(block); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op))
    TDM_TRY(tdm_op_error(op, fuse_k(op, changed)));
  return tdm_block_remove_dead(block);
}

/* ---- The pass ------------------------------------------------------------------------ */

static tdm_status fuse_block(MlirBlock block) {
  int changed = 0;
  for (MlirOperation op = mlirBlockGetFirstOperation(block); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op))
    TDM_TRY(tdm_op_error(op, fold_norm_scale(op, &changed)));
  TDM_TRY(tdm_block_remove_dead(block));
  TDM_TRY(cse(block, &changed));
  TDM_TRY(horizontal(block, &changed));
  return over_k(block, &changed);
}

static tdm_status run(MlirOperation module, tdm_session *s) {
  MlirBlock blocks[TDM_MAX_ENTRIES];
  const char *names[TDM_MAX_ENTRIES];
  int n = tdm_graph_functions(module, blocks, names, TDM_MAX_ENTRIES);
  int counted = tdm_lp_counted_function(names, n);
  for (int i = 0; i < n && !s->no_fuse_gemm; i++) TDM_TRY(fuse_block(blocks[i]));
  if (n) {
    s->lp_stats.gemms_after = tdm_count_gemms(blocks[counted]);
  }
  return NULL;
}

const tdm_pass_def tdm_fuse_gemm_def = {
    "fuse-gemm", "Fold norm scales into weights; fuse GEMMs sharing an input, and a pair's GEMMs over K", run};

MlirPass tdm_pass_fuse_gemm(tdm_session *s) { return tdm_pass_create(&tdm_fuse_gemm_def, s); }
