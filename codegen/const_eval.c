/* Compile-time evaluation of graph ops whose operands are all weights.
 *
 * The graph keeps derived weights as recipes: transpose(weight), convert(weight),
 * concat(weight, weight)... lower-graph evaluates them here, once, into new
 * buffers of the weight store, and the blob receives the result. This is how a
 * layout change (matmul-layout) or a fusion costs nothing at run time. */
#include <stdlib.h>
#include <string.h>

#include "codegen/const_eval.h"

int ce_can_fold(tdm_op_kind kind) {
  return kind == TDM_OP_TRANSPOSE || kind == TDM_OP_RESHAPE || kind == TDM_OP_CONVERT ||
         kind == TDM_OP_CONCAT || kind == TDM_OP_MUL;
}

static void strides_of(const tdm_shape *s, int64_t *strides) {
  int64_t st = 1;
  for (int i = s->rank - 1; i >= 0; i--) {
    strides[i] = st;
    st *= s->dim[i];
  }
}

/* out[i_0..i_r] = in[i_perm^-1...]: walk the output in order with an odometer. */
static void transpose(const uint8_t *in, const tdm_type *it, const int64_t *perm, uint8_t *out,
                      const tdm_type *ot) {
  size_t w = tandem_dtype_size(it->dtype);
  int rank = ot->shape.rank;
  int64_t in_strides[TDM_MAX_RANK], step[TDM_MAX_RANK], idx[TDM_MAX_RANK] = {0}, numel = 1;
  strides_of(&it->shape, in_strides);
  for (int d = 0; d < rank; d++) step[d] = in_strides[perm[d]], numel *= ot->shape.dim[d];
  int64_t src = 0;
  for (int64_t i = 0; i < numel; i++) {
    memcpy(out + (size_t)i * w, in + (size_t)src * w, w);
    for (int d = rank - 1; d >= 0; d--) {
      src += step[d];
      if (++idx[d] < ot->shape.dim[d]) break;
      src -= step[d] * idx[d];
      idx[d] = 0;
    }
  }
}

static double load(const uint8_t *p, int32_t dtype) {
  uint16_t h;
  switch (dtype) {
    case TANDEM_DTYPE_F32: { float f; memcpy(&f, p, 4); return f; }
    case TANDEM_DTYPE_F16: memcpy(&h, p, 2); return tdm_f16_to_f32(h);
    case TANDEM_DTYPE_BF16: memcpy(&h, p, 2); return tdm_bf16_to_f32(h);
    case TANDEM_DTYPE_I8: return (int8_t)*p;
    case TANDEM_DTYPE_U8: return *p;
    case TANDEM_DTYPE_BOOL: return *p != 0;
    case TANDEM_DTYPE_I32: { int32_t v; memcpy(&v, p, 4); return v; }
    default: { int64_t v; memcpy(&v, p, 8); return (double)v; }
  }
}

static int64_t load_int(const uint8_t *p, int32_t dtype) {
  if (dtype == TANDEM_DTYPE_I64) { int64_t v; memcpy(&v, p, 8); return v; }
  return (int64_t)load(p, dtype);
}

/* Same semantics as the generated code (lower_ops.c convert): float -> int
 * truncates toward zero, narrow integers wrap. */
static void store(uint8_t *p, int32_t dtype, double v, int64_t iv, int from_float) {
  int64_t i = from_float ? (v != v ? 0 : v >= 9.2e18 ? INT64_MAX : v <= -9.2e18 ? INT64_MIN : (int64_t)v) : iv;
  switch (dtype) {
    case TANDEM_DTYPE_F32: { float f = (float)v; memcpy(p, &f, 4); return; }
    case TANDEM_DTYPE_F16: { uint16_t h = tdm_f32_to_f16((float)v); memcpy(p, &h, 2); return; }
    case TANDEM_DTYPE_BF16: { uint16_t h = tdm_f32_to_bf16((float)v); memcpy(p, &h, 2); return; }
    case TANDEM_DTYPE_I8:
    case TANDEM_DTYPE_U8: *p = (uint8_t)i; return;
    case TANDEM_DTYPE_BOOL: *p = from_float ? v != 0 : iv != 0; return;
    case TANDEM_DTYPE_I32: { int32_t x = (int32_t)(uint32_t)i; memcpy(p, &x, 4); return; }
    default: memcpy(p, &i, 8);
  }
}

static void convert(const uint8_t *in, int32_t from, uint8_t *out, int32_t to, int64_t n) {
  size_t wi = tandem_dtype_size(from), wo = tandem_dtype_size(to);
  int ff = tdm_dtype_is_float(from);
  for (int64_t i = 0; i < n; i++) {
    const uint8_t *p = in + (size_t)i * wi;
    store(out + (size_t)i * wo, to, ff ? load(p, from) : (double)load_int(p, from),
          ff ? 0 : load_int(p, from), ff);
  }
}

/* Rows of the outer dims, each a run of a's slice then b's. */
static void concat(const uint8_t *a, const tdm_type *at, const uint8_t *b, const tdm_type *bt,
                   int64_t axis, uint8_t *out) {
  size_t w = tandem_dtype_size(at->dtype);
  int64_t outer = 1, inner_a = 1, inner_b = 1;
  for (int d = 0; d < axis; d++) outer *= at->shape.dim[d];
  for (int d = (int)axis; d < at->shape.rank; d++) inner_a *= at->shape.dim[d];
  for (int d = (int)axis; d < bt->shape.rank; d++) inner_b *= bt->shape.dim[d];
  for (int64_t o = 0; o < outer; o++) {
    memcpy(out, a + (size_t)(o * inner_a) * w, (size_t)inner_a * w);
    out += (size_t)inner_a * w;
    memcpy(out, b + (size_t)(o * inner_b) * w, (size_t)inner_b * w);
    out += (size_t)inner_b * w;
  }
}

/* Strides of `in` seen from the output's dims (right-aligned, 0 where it broadcasts). */
static void broadcast_strides(const tdm_shape *in, const tdm_shape *out, int64_t *st) {
  int64_t own[TDM_MAX_RANK];
  strides_of(in, own);
  for (int d = 0; d < out->rank; d++) {
    int k = d - (out->rank - in->rank);
    st[d] = k < 0 || in->dim[k] == 1 ? 0 : own[k];
  }
}

/* Elementwise product with broadcasting, in the generated code's arithmetic: a
 * float product rounded once to the result type (exact in double for f32), a
 * wrapping integer product. */
static void multiply(const uint8_t *a, const tdm_type *at, const uint8_t *b, const tdm_type *bt, uint8_t *out,
                     const tdm_type *ot) {
  int rank = ot->shape.rank;
  int64_t sa[TDM_MAX_RANK], sb[TDM_MAX_RANK], idx[TDM_MAX_RANK] = {0}, numel = 1, ia = 0, ib = 0;
  broadcast_strides(&at->shape, &ot->shape, sa);
  broadcast_strides(&bt->shape, &ot->shape, sb);
  for (int d = 0; d < rank; d++) numel *= ot->shape.dim[d];
  size_t wa = tandem_dtype_size(at->dtype), wb = tandem_dtype_size(bt->dtype), wo = tandem_dtype_size(ot->dtype);
  int is_float = tdm_dtype_is_float(ot->dtype);
  for (int64_t i = 0; i < numel; i++) {
    const uint8_t *pa = a + (size_t)ia * wa, *pb = b + (size_t)ib * wb;
    if (is_float) store(out + (size_t)i * wo, ot->dtype, load(pa, at->dtype) * load(pb, bt->dtype), 0, 1);
    else store(out + (size_t)i * wo, ot->dtype, 0,
               (int64_t)((uint64_t)load_int(pa, at->dtype) * (uint64_t)load_int(pb, bt->dtype)), 0);
    for (int d = rank - 1; d >= 0; d--) {
      ia += sa[d], ib += sb[d];
      if (++idx[d] < ot->shape.dim[d]) break;
      ia -= sa[d] * idx[d], ib -= sb[d] * idx[d];
      idx[d] = 0;
    }
  }
}

tdm_status ce_eval(tdm_op_kind kind, const tdm_attrs *attrs, const uint8_t *const *ins,
                   const tdm_type *in_types, int n, const tdm_type *out_type,
                   uint8_t **out_data, size_t *out_size) {
  *out_data = NULL;
  int64_t numel;
  TDM_TRY(tdm_shape_numel(&out_type->shape, &numel));
  *out_size = (size_t)numel * tandem_dtype_size(out_type->dtype);
  uint8_t *out = malloc(*out_size ? *out_size : 1);
  if (!out) return TDM_INTERNAL("out of memory evaluating a %zu-byte weight", *out_size);
  switch (kind) {
    case TDM_OP_TRANSPOSE: transpose(ins[0], &in_types[0], attrs->perm, out, out_type); break;
    case TDM_OP_RESHAPE: memcpy(out, ins[0], *out_size); break;
    case TDM_OP_CONVERT: convert(ins[0], in_types[0].dtype, out, out_type->dtype, numel); break;
    case TDM_OP_CONCAT:
      if (n != 2) goto unsupported;
      concat(ins[0], &in_types[0], ins[1], &in_types[1], attrs->axis, out);
      break;
    case TDM_OP_MUL:
      if (n != 2) goto unsupported;
      multiply(ins[0], &in_types[0], ins[1], &in_types[1], out, out_type);
      break;
    default: goto unsupported;
  }
  *out_data = out;
  return NULL;
unsupported:
  free(out);
  return TDM_INTERNAL("no compile-time evaluation for tdm.%s", tdm_op_infos[kind].name);
}
