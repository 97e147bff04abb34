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

/* ---- Block-quantised weights (ggml's formats) -------------------------------------
 * Q4_0: f16 d, 16 bytes; element j < 16 is d * ((q[j] & 15) - 8), j + 16 uses q[j] >> 4.
 * Q4_1: f16 d, f16 m, 16 bytes; same nibble order, element = d * q + m.
 * Q8_0: f16 d, 32 int8; element = d * q. */

static float half_at(const uint8_t *p) { return tdm_f16_to_f32((uint16_t)(p[0] | p[1] << 8)); }

static void dequant_q4(const uint8_t *b, float *out, int has_min) {
  float d = half_at(b), m = has_min ? half_at(b + 2) : 0.0f;
  const uint8_t *q = b + (has_min ? 4 : 2);
  for (int j = 0; j < 16; j++) {
    int lo = q[j] & 15, hi = q[j] >> 4;
    out[j] = has_min ? d * (float)lo + m : d * (float)(lo - 8);
    out[j + 16] = has_min ? d * (float)hi + m : d * (float)(hi - 8);
  }
}

static void dequant_q8_0(const uint8_t *b, float *out) {
  float d = half_at(b);
  for (int j = 0; j < 32; j++) out[j] = d * (float)(int8_t)b[2 + j];
}

tdm_status ce_dequantize(const char *encoding, const uint8_t *src, int64_t numel, float *dst) {
  if (strcmp(encoding, "f16") == 0 || strcmp(encoding, "bf16") == 0) {
    int bf = encoding[0] == 'b';
    for (int64_t i = 0; i < numel; i++) {
      uint16_t h = (uint16_t)(src[2 * i] | src[2 * i + 1] << 8);
      dst[i] = bf ? tdm_bf16_to_f32(h) : tdm_f16_to_f32(h);
    }
    return NULL;
  }
  int kind = strcmp(encoding, "q4_0") == 0 ? 0 : strcmp(encoding, "q4_1") == 0 ? 1
             : strcmp(encoding, "q8_0") == 0 ? 2 : -1;
  if (kind < 0 || numel % 32) return TDM_BAD("cannot dequantise weight encoding '%s'", encoding);
  size_t block = kind == 0 ? 18 : kind == 1 ? 20 : 34;
  for (int64_t b = 0; b < numel / 32; b++) {
    const uint8_t *p = src + (size_t)b * block;
    if (kind == 2) dequant_q8_0(p, dst + b * 32);
    else dequant_q4(p, dst + b * 32, kind == 1);
  }
  return NULL;
}
