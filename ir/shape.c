/* Shape rules of the graph dialect: one function derives every op's result type.
 *
 * Frontends call tdm_infer (through tdm_build) to type what they import, and the
 * verify-graph pass calls it again on every op, so a hand-edited .mlir gets the same
 * checks as an imported model. Semantics follow OpenVINO's opset specifications. */
#include <string.h>

#include "ir/tdm.h"

static tdm_status bad_shapes(const char *what, const tdm_type *a, const tdm_type *b) {
  strbuf sb;
  sb_init(&sb);
  tdm_type_print(a, &sb);
  if (b) {
    sb_puts(&sb, " and ");
    tdm_type_print(b, &sb);
  }
  tdm_status s = TDM_BAD("%s: %s", what, sb_str(&sb));
  sb_free(&sb);
  return s;
}

/* numpy broadcasting: align right, each pair of dims equal or one of them 1. */
static tdm_status broadcast(const tdm_type *a, const tdm_type *b, tdm_type *out) {
  if (a->dtype != b->dtype)
    return bad_shapes("operands have different element types", a, b);
  int rank = a->shape.rank > b->shape.rank ? a->shape.rank : b->shape.rank;
  out->dtype = a->dtype;
  out->shape.rank = rank;
  for (int i = 0; i < rank; i++) {
    int ia = i - (rank - a->shape.rank), ib = i - (rank - b->shape.rank);
    int64_t da = ia >= 0 ? a->shape.dim[ia] : 1, db = ib >= 0 ? b->shape.dim[ib] : 1;
    if (da != db && da != 1 && db != 1)
      return bad_shapes("shapes do not broadcast", a, b);
    out->shape.dim[i] = da == 1 ? db : da;
  }
  return NULL;
}

static tdm_status matmul(const tdm_type *a, const tdm_type *b, const tdm_attrs *at,
                         tdm_type *out) {
  if (a->dtype != b->dtype) return bad_shapes("operands have different element types", a, b);
  if (!tdm_dtype_is_float(a->dtype) && !tdm_dtype_is_int(a->dtype))
    return bad_shapes("unsupported element type", a, NULL);
  if (a->shape.rank < 1 || b->shape.rank < 1) return bad_shapes("matmul of a scalar", a, b);
  /* 1-D operands: a becomes [1,K] (transpose ignored), b becomes [K,1]. */
  tdm_shape sa = a->shape, sb = b->shape;
  int ta = at->transpose_a, tb = at->transpose_b;
  if (sa.rank == 1) sa = (tdm_shape){2, {1, sa.dim[0]}}, ta = 0;
  if (sb.rank == 1) sb = (tdm_shape){2, {sb.dim[0], 1}}, tb = 0;
  int64_t m = sa.dim[sa.rank - 2 + ta], ka = sa.dim[sa.rank - 1 - ta];
  int64_t kb = sb.dim[sb.rank - 2 + tb], n = sb.dim[sb.rank - 1 - tb];
  if (ka != kb) return bad_shapes("matmul inner dimensions differ", a, b);
  tdm_type ba = {a->dtype, {sa.rank - 2, {0}}}, bb = {b->dtype, {sb.rank - 2, {0}}};
  memcpy(ba.shape.dim, sa.dim, sizeof(int64_t) * (size_t)(sa.rank - 2));
  memcpy(bb.shape.dim, sb.dim, sizeof(int64_t) * (size_t)(sb.rank - 2));
  tdm_status s = broadcast(&ba, &bb, out);
  if (s) {
    tdm_status_free(s);
    return bad_shapes("matmul batch dimensions do not broadcast", a, b);
  }
  if (out->shape.rank + 2 > TDM_MAX_RANK) return bad_shapes("rank too large", a, b);
  if (a->shape.rank > 1) out->shape.dim[out->shape.rank++] = m;
  if (b->shape.rank > 1) out->shape.dim[out->shape.rank++] = n;
  return NULL;
}

static tdm_status check_axes(const int64_t *axes, int n, int rank, const char *what) {
  for (int i = 0; i < n; i++) {
    if (axes[i] < 0 || axes[i] >= rank)
      return TDM_BAD("%s %lld is out of range for rank %d", what, (long long)axes[i], rank);
    if (i > 0 && axes[i] <= axes[i - 1])
      return TDM_BAD("%s must be sorted and unique", what);
  }
  return NULL;
}

static tdm_status reduce(const tdm_type *in, const tdm_attrs *at, tdm_type *out) {
  TDM_TRY(check_axes(at->axes, at->naxes, in->shape.rank, "reduction axis"));
  out->dtype = in->dtype;
  out->shape.rank = 0;
  for (int d = 0, j = 0; d < in->shape.rank; d++) {
    int reduced = j < at->naxes && at->axes[j] == d;
    if (reduced) j++;
    if (!reduced) out->shape.dim[out->shape.rank++] = in->shape.dim[d];
    else if (at->keep_dims) out->shape.dim[out->shape.rank++] = 1;
  }
  return NULL;
}

static tdm_status transpose(const tdm_type *in, const tdm_attrs *at, tdm_type *out) {
  if (at->nperm != in->shape.rank)
    return TDM_BAD("transpose order has %d entries for rank %d", at->nperm, in->shape.rank);
  int seen[TDM_MAX_RANK] = {0};
  out->dtype = in->dtype;
  out->shape.rank = in->shape.rank;
  for (int i = 0; i < at->nperm; i++) {
    int64_t p = at->perm[i];
    if (p < 0 || p >= in->shape.rank || seen[p]++)
      return TDM_BAD("transpose order is not a permutation of 0..%d", in->shape.rank - 1);
    out->shape.dim[i] = in->shape.dim[p];
  }
  return NULL;
}

static tdm_status concat(const tdm_type *ins, int n, const tdm_attrs *at, tdm_type *out) {
  *out = ins[0];
  if (at->axis < 0 || at->axis >= ins[0].shape.rank)
    return TDM_BAD("concat axis %lld is out of range for rank %d", (long long)at->axis,
                   ins[0].shape.rank);
  for (int i = 1; i < n; i++) {
    const tdm_type *t = &ins[i];
    int ok = t->dtype == out->dtype && t->shape.rank == out->shape.rank;
    for (int d = 0; ok && d < t->shape.rank; d++)
      ok = d == at->axis || t->shape.dim[d] == out->shape.dim[d];
    if (!ok) return bad_shapes("concat inputs do not match", &ins[0], t);
    out->shape.dim[at->axis] += t->shape.dim[at->axis];
  }
  return NULL;
}

static tdm_status gather(const tdm_type *data, const tdm_type *idx, const tdm_attrs *at,
                         tdm_type *out) {
  if (idx->dtype != TANDEM_DTYPE_I32 && idx->dtype != TANDEM_DTYPE_I64)
    return bad_shapes("gather indices must be i32 or i64", idx, NULL);
  int64_t axis = at->axis, bd = at->batch_dims;
  if (axis < 0 || axis >= data->shape.rank)
    return TDM_BAD("gather axis %lld is out of range for rank %d", (long long)axis,
                   data->shape.rank);
  if (bd < 0 || bd > axis || bd > idx->shape.rank)
    return TDM_BAD("gather batch_dims %lld is invalid", (long long)bd);
  for (int i = 0; i < bd; i++)
    if (data->shape.dim[i] != idx->shape.dim[i])
      return bad_shapes("gather batch dimensions differ", data, idx);
  out->dtype = data->dtype;
  out->shape.rank = 0;
  int rank = (int)axis + (idx->shape.rank - (int)bd) + (data->shape.rank - (int)axis - 1);
  if (rank > TDM_MAX_RANK) return bad_shapes("gather result rank too large", data, idx);
  for (int i = 0; i < axis; i++) out->shape.dim[out->shape.rank++] = data->shape.dim[i];
  for (int i = (int)bd; i < idx->shape.rank; i++)
    out->shape.dim[out->shape.rank++] = idx->shape.dim[i];
  for (int i = (int)axis + 1; i < data->shape.rank; i++)
    out->shape.dim[out->shape.rank++] = data->shape.dim[i];
  return NULL;
}

/* Ops whose result type is given: check it against the operand instead. */
static tdm_status given(tdm_op_kind kind, const tdm_type *in, const tdm_type *out) {
  int64_t n_in = 0, n_out = 0;
  TDM_TRY(tdm_shape_numel(&out->shape, &n_out));
  if (kind == TDM_OP_RESHAPE) {
    TDM_TRY(tdm_shape_numel(&in->shape, &n_in));
    if (n_in != n_out) return bad_shapes("reshape changes the element count", in, out);
    if (in->dtype != out->dtype) return bad_shapes("reshape changes the element type", in, out);
  }
  if (kind == TDM_OP_CONVERT && !tdm_shape_equal(&in->shape, &out->shape))
    return bad_shapes("convert changes the shape", in, out);
  return NULL;
}

static tdm_status unary(tdm_op_kind kind, const tdm_type *in, const tdm_attrs *at,
                        tdm_type *out) {
  if (kind == TDM_OP_GELU && strcmp(at->approximation, "erf") != 0 &&
      strcmp(at->approximation, "tanh") != 0)
    return TDM_BAD("gelu approximation '%s' is neither 'erf' nor 'tanh'", at->approximation);
  if (kind == TDM_OP_MVN && strcmp(at->eps_mode, "inside_sqrt") != 0 &&
      strcmp(at->eps_mode, "outside_sqrt") != 0)
    return TDM_BAD("MVN eps_mode '%s' is neither 'inside_sqrt' nor 'outside_sqrt'", at->eps_mode);
  if (kind == TDM_OP_CLAMP && !(at->min <= at->max))
    return TDM_BAD("clamp min %g is greater than max %g", at->min, at->max);
  int float_only = kind != TDM_OP_RELU && kind != TDM_OP_CLAMP;
  if (in->dtype == TANDEM_DTYPE_BOOL || (float_only && !tdm_dtype_is_float(in->dtype)))
    return bad_shapes("unsupported element type", in, NULL);
  *out = *in;
  return NULL;
}

static tdm_status rms_norm(const tdm_type *x, const tdm_type *w, tdm_type *out) {
  if (!tdm_dtype_is_float(x->dtype) || x->shape.rank < 1) return bad_shapes("rms_norm of", x, NULL);
  if (w->shape.rank != 1 || w->shape.dim[0] != x->shape.dim[x->shape.rank - 1] || w->dtype != x->dtype)
    return bad_shapes("rms_norm weight must be the input's last dim", x, w);
  *out = *x;
  return NULL;
}

/* The result type names the slice's size along `axis`. */
static tdm_status slice(const tdm_type *in, const tdm_attrs *at, tdm_type *out) {
  if (at->axis < 0 || at->axis >= in->shape.rank || out->shape.rank != in->shape.rank || out->dtype != in->dtype)
    return bad_shapes("slice does not fit its input", in, out);
  for (int d = 0; d < in->shape.rank; d++)
    if (d != at->axis && out->shape.dim[d] != in->shape.dim[d]) return bad_shapes("slice changes another dim", in, out);
  if (at->start < 0 || at->start + out->shape.dim[at->axis] > in->shape.dim[at->axis])
    return TDM_BAD("slice [%lld, +%lld) is out of range for dim %lld", (long long)at->start,
                   (long long)out->shape.dim[at->axis], (long long)in->shape.dim[at->axis]);
  return NULL;
}

static int is_pos(const tdm_type *p) { return p->dtype == TANDEM_DTYPE_I32 && p->shape.rank == 0; }

static tdm_status rope(const tdm_type *x, const tdm_type *p, const tdm_attrs *at, tdm_type *out) {
  if (x->dtype != TANDEM_DTYPE_F32 || x->shape.rank != 3) return bad_shapes("rope takes f32 [tokens, heads, dim]", x, NULL);
  if (!is_pos(p)) return bad_shapes("rope's position must be a scalar i32", p, NULL);
  if (at->dims < 2 || at->dims > x->shape.dim[2] || at->dims % 2)
    return TDM_BAD("rope dims %lld must be even and at most the head dim %lld", (long long)at->dims,
                   (long long)x->shape.dim[2]);
  if (!(at->freq_base > 0)) return TDM_BAD("rope freq_base must be positive");
  *out = *x;
  return NULL;
}

static tdm_status attention(const tdm_type *ops, const tdm_attrs *at, tdm_type *out) {
  const tdm_type *q = &ops[0], *k = &ops[1], *v = &ops[2], *kc = &ops[3], *vc = &ops[4], *p = &ops[5];
  for (int i = 0; i < 3; i++)
    if (ops[i].dtype != TANDEM_DTYPE_F32) return bad_shapes("attention works on f32", &ops[i], NULL);
  if ((kc->dtype != TANDEM_DTYPE_F32 && kc->dtype != TANDEM_DTYPE_F16) || vc->dtype != kc->dtype)
    return bad_shapes("attention caches are both f32 or both f16", kc, vc);
  if (q->shape.rank != 3 || k->shape.rank != 3 || !tdm_shape_equal(&k->shape, &v->shape))
    return bad_shapes("attention q is [T, H, D], k and v [T, Hkv, D]", q, k);
  int64_t T = q->shape.dim[0], H = q->shape.dim[1], D = q->shape.dim[2], Hkv = k->shape.dim[1];
  if (k->shape.dim[0] != T || k->shape.dim[2] != D || Hkv == 0 || H % Hkv)
    return bad_shapes("attention k/v do not match q", q, k);
  if (kc->shape.rank != 4 || !tdm_shape_equal(&kc->shape, &vc->shape) || kc->shape.dim[2] != Hkv ||
      kc->shape.dim[3] != D)
    return bad_shapes("attention caches must be [layers, ctx, Hkv, D]", kc, k);
  if (at->layer < 0 || at->layer >= kc->shape.dim[0])
    return TDM_BAD("attention layer %lld is out of range (%lld layers)", (long long)at->layer, (long long)kc->shape.dim[0]);
  if (kc->shape.dim[1] < T) return bad_shapes("attention cache is shorter than the chunk", kc, q);
  if (!is_pos(p)) return bad_shapes("attention's position must be a scalar i32", p, NULL);
  *out = *q;
  return NULL;
}

tdm_status tdm_infer(tdm_op_kind kind, const tdm_type *ops, int n, const tdm_attrs *at,
                     tdm_type *out) {
  const tdm_op_info *info = &tdm_op_infos[kind];
  if (n < info->min_operands || (info->max_operands >= 0 && n > info->max_operands))
    return TDM_BAD("'%s' takes %d operand(s), got %d", info->name, info->min_operands, n);
  switch (kind) {
    case TDM_OP_WEIGHT:
    case TDM_OP_CONSTANT:
    case TDM_OP_RESHAPE:
    case TDM_OP_CONVERT: return given(kind, n ? &ops[0] : NULL, out);
    case TDM_OP_ADD: case TDM_OP_SUB: case TDM_OP_MUL: case TDM_OP_DIV:
    case TDM_OP_POW: case TDM_OP_MAX: case TDM_OP_MIN:
      if (ops[0].dtype == TANDEM_DTYPE_BOOL) return bad_shapes("boolean arithmetic", &ops[0], NULL);
      return broadcast(&ops[0], &ops[1], out);
    case TDM_OP_RELU: case TDM_OP_SIGMOID: case TDM_OP_TANH: case TDM_OP_EXP:
    case TDM_OP_SQRT: case TDM_OP_GELU: case TDM_OP_SWISH: case TDM_OP_CLAMP:
      return unary(kind, &ops[0], at, out);
    case TDM_OP_SOFTMAX:
      if (at->axis < 0 || at->axis >= ops[0].shape.rank)
        return TDM_BAD("softmax axis %lld is out of range for rank %d", (long long)at->axis,
                       ops[0].shape.rank);
      return unary(kind, &ops[0], at, out);
    case TDM_OP_MVN:
      TDM_TRY(check_axes(at->axes, at->naxes, ops[0].shape.rank, "MVN axis"));
      return unary(kind, &ops[0], at, out);
    case TDM_OP_REDUCE_MEAN:
    case TDM_OP_REDUCE_SUM: return reduce(&ops[0], at, out);
    case TDM_OP_TRANSPOSE: return transpose(&ops[0], at, out);
    case TDM_OP_CONCAT: return concat(ops, n, at, out);
    case TDM_OP_GATHER: return gather(&ops[0], &ops[1], at, out);
    case TDM_OP_MATMUL: return matmul(&ops[0], &ops[1], at, out);
    case TDM_OP_RMS_NORM: return rms_norm(&ops[0], &ops[1], out);
    case TDM_OP_SLICE: return slice(&ops[0], at, out);
    case TDM_OP_ROPE: return rope(&ops[0], &ops[1], at, out);
    case TDM_OP_ATTENTION: return attention(ops, at, out);
    case TDM_OP_COUNT:
    case TDM_OP_NONE: break;
  }
  return TDM_INTERNAL("tdm_infer: unknown op kind %d", (int)kind);
}
