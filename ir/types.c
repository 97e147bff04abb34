/* tdm_type: static shapes and dtypes, to and from MLIR types. */
#include <string.h>

#include "ir/tdm.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

tdm_status tdm_shape_numel(const tdm_shape *s, int64_t *out) {
  int64_t n = 1;
  for (int i = 0; i < s->rank; i++) {
    int64_t d = s->dim[i];
    if (d < 0) return TDM_BAD("dimension %d is negative (%lld)", i, (long long)d);
    if (d != 0 && n > TDM_MAX_ELEMENTS / d)
      return TDM_BAD("tensor has more than 2^40 elements");
    n *= d;
  }
  *out = n;
  return NULL;
}

int tdm_shape_equal(const tdm_shape *a, const tdm_shape *b) {
  if (a->rank != b->rank) return 0;
  for (int i = 0; i < a->rank; i++)
    if (a->dim[i] != b->dim[i]) return 0;
  return 1;
}

int tdm_type_equal(const tdm_type *a, const tdm_type *b) {
  return a->dtype == b->dtype && tdm_shape_equal(&a->shape, &b->shape);
}

void tdm_shape_print(const tdm_shape *s, strbuf *sb) {
  sb_puts(sb, "[");
  for (int i = 0; i < s->rank; i++) sb_printf(sb, i ? ",%lld" : "%lld", (long long)s->dim[i]);
  sb_puts(sb, "]");
}

void tdm_type_print(const tdm_type *t, strbuf *sb) {
  sb_puts(sb, tandem_dtype_name(t->dtype));
  tdm_shape_print(&t->shape, sb);
}

/* ---- Half precision ---------------------------------------------------------------- */

float tdm_f16_to_f32(uint16_t h) {
  uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31, m = h & 1023, bits;
  if (e == 0 && m == 0) bits = s;
  else if (e == 31) bits = s | 0x7f800000u | (m << 13);
  else if (e == 0) {
    int shift = 0;
    while (!(m & 1024)) m <<= 1, shift++;
    bits = s | ((uint32_t)(113 - shift) << 23) | ((m & 1023) << 13);
  } else bits = s | ((e + 112) << 23) | (m << 13);
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

/* Round to nearest even; overflow to infinity; NaN stays NaN. */
uint16_t tdm_f32_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u, mant = x & 0x7fffffu;
  int32_t exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
  if (((x >> 23) & 0xff) == 0xff) return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
  if (exp >= 31) return (uint16_t)(sign | 0x7c00u);
  if (exp <= 0) { /* a half subnormal: m * 2^-24 */
    if (exp < -10) return (uint16_t)sign;
    mant |= 0x800000u;
    int shift = 14 - exp;
    uint32_t h = mant >> shift, rem = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (h & 1))) h++;
    return (uint16_t)(sign | h);
  }
  uint32_t h = sign | ((uint32_t)exp << 10) | (mant >> 13), rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++; /* a carry rounds up the exponent */
  return (uint16_t)h;
}

uint16_t tdm_f32_to_bf16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40);
  x += 0x7fffu + ((x >> 16) & 1);
  return (uint16_t)(x >> 16);
}

float tdm_bf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

int tdm_dtype_is_float(int32_t d) {
  return d == TANDEM_DTYPE_F32 || d == TANDEM_DTYPE_F16 || d == TANDEM_DTYPE_BF16;
}

int tdm_dtype_is_int(int32_t d) {
  return d == TANDEM_DTYPE_I8 || d == TANDEM_DTYPE_U8 || d == TANDEM_DTYPE_I32 ||
         d == TANDEM_DTYPE_I64;
}

static const char *const mlir_names[TANDEM_DTYPE_COUNT] = {
    [TANDEM_DTYPE_F32] = "f32", [TANDEM_DTYPE_F16] = "f16", [TANDEM_DTYPE_BF16] = "bf16",
    [TANDEM_DTYPE_I8] = "i8",   [TANDEM_DTYPE_U8] = "ui8",  [TANDEM_DTYPE_I32] = "i32",
    [TANDEM_DTYPE_I64] = "i64", [TANDEM_DTYPE_BOOL] = "i1",
};

const char *tdm_dtype_mlir_name(int32_t dtype) {
  return dtype >= 0 && dtype < TANDEM_DTYPE_COUNT ? mlir_names[dtype] : "?";
}

MlirType tdm_dtype_to_mlir(MlirContext ctx, int32_t dtype) {
  switch (dtype) {
    case TANDEM_DTYPE_F32: return mlirF32TypeGet(ctx);
    case TANDEM_DTYPE_F16: return mlirF16TypeGet(ctx);
    case TANDEM_DTYPE_BF16: return mlirBF16TypeGet(ctx);
    case TANDEM_DTYPE_I8: return mlirIntegerTypeGet(ctx, 8);
    case TANDEM_DTYPE_U8: return mlirIntegerTypeUnsignedGet(ctx, 8);
    case TANDEM_DTYPE_I32: return mlirIntegerTypeGet(ctx, 32);
    case TANDEM_DTYPE_I64: return mlirIntegerTypeGet(ctx, 64);
    case TANDEM_DTYPE_BOOL: return mlirIntegerTypeGet(ctx, 1);
    default: return (MlirType){NULL};
  }
}

MlirType tdm_type_to_mlir(MlirContext ctx, const tdm_type *t) {
  return mlirRankedTensorTypeGet(t->shape.rank, t->shape.dim, tdm_dtype_to_mlir(ctx, t->dtype),
                                 mlirAttributeGetNull());
}

static int dtype_from_mlir(MlirType e) {
  if (mlirTypeIsAF32(e)) return TANDEM_DTYPE_F32;
  if (mlirTypeIsAF16(e)) return TANDEM_DTYPE_F16;
  if (mlirTypeIsABF16(e)) return TANDEM_DTYPE_BF16;
  if (!mlirTypeIsAInteger(e)) return -1;
  unsigned w = mlirIntegerTypeGetWidth(e);
  int is_unsigned = mlirIntegerTypeIsUnsigned(e);
  if (w == 8) return is_unsigned ? TANDEM_DTYPE_U8 : TANDEM_DTYPE_I8;
  if (is_unsigned) return -1;
  if (w == 32) return TANDEM_DTYPE_I32;
  if (w == 64) return TANDEM_DTYPE_I64;
  if (w == 1) return TANDEM_DTYPE_BOOL;
  return -1;
}

tdm_status tdm_type_from_mlir(MlirType t, tdm_type *out) {
  memset(out, 0, sizeof *out);
  if (!mlirTypeIsARankedTensor(t)) return TDM_BAD("expected a ranked tensor type");
  int rank = (int)mlirShapedTypeGetRank(t);
  if (rank > TDM_MAX_RANK) return TDM_BAD("rank %d exceeds %d", rank, TDM_MAX_RANK);
  out->shape.rank = rank;
  for (int i = 0; i < rank; i++) {
    if (mlirShapedTypeIsDynamicDim(t, i))
      return TDM_BAD("dimension %d is dynamic; tandem needs static shapes", i);
    out->shape.dim[i] = mlirShapedTypeGetDimSize(t, i);
  }
  out->dtype = dtype_from_mlir(mlirShapedTypeGetElementType(t));
  if (out->dtype < 0) return TDM_BAD("unsupported element type");
  int64_t n;
  return tdm_shape_numel(&out->shape, &n);
}
