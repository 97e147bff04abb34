/* Element types: names, sizes, and decoding one element for printing or comparing. */
#include <stdio.h>
#include <string.h>

#include "rt_dtype.h"

static const struct {
  const char *name;
  size_t size;
} rt_dtypes[] = {
    [TANDEM_DTYPE_F32] = {"f32", 4}, [TANDEM_DTYPE_F16] = {"f16", 2},
    [TANDEM_DTYPE_BF16] = {"bf16", 2}, [TANDEM_DTYPE_I8] = {"i8", 1},
    [TANDEM_DTYPE_U8] = {"u8", 1},   [TANDEM_DTYPE_I32] = {"i32", 4},
    [TANDEM_DTYPE_I64] = {"i64", 8}, [TANDEM_DTYPE_BOOL] = {"bool", 1},
};
_Static_assert(sizeof rt_dtypes / sizeof rt_dtypes[0] == TANDEM_DTYPE_COUNT,
               "one entry per tandem_dtype");

static bool rt_dtype_valid(int32_t dtype) {
  return dtype >= 0 && dtype < TANDEM_DTYPE_COUNT;
}

const char *tandem_dtype_name(int32_t dtype) {
  return rt_dtype_valid(dtype) ? rt_dtypes[dtype].name : "?";
}

size_t tandem_dtype_size(int32_t dtype) {
  return rt_dtype_valid(dtype) ? rt_dtypes[dtype].size : 0;
}

bool rt_dtype_is_float(int32_t dtype) {
  return dtype == TANDEM_DTYPE_F32 || dtype == TANDEM_DTYPE_F16 ||
         dtype == TANDEM_DTYPE_BF16;
}

bool rt_shape_count(int32_t rank, const int64_t *shape, uint64_t *out_count) {
  uint64_t count = 1;
  bool empty = false;
  for (int32_t i = 0; i < rank; i++) {
    if (shape[i] < 0) return false;
    if (shape[i] == 0) empty = true;
    /* Keep checking later dimensions for overflow even after a zero: a header
     * claiming [0, 2^62, 2^62] is still nonsense. */
    if (shape[i] != 0 && count > UINT64_MAX / (uint64_t)shape[i]) return false;
    if (shape[i] != 0) count *= (uint64_t)shape[i];
  }
  *out_count = empty ? 0 : count;
  return true;
}

bool rt_shape_bytes(int32_t dtype, int32_t rank, const int64_t *shape, uint64_t *out_bytes) {
  uint64_t count;
  size_t size = tandem_dtype_size(dtype);
  if (size == 0 || !rt_shape_count(rank, shape, &count)) return false;
  if (count > UINT64_MAX / size) return false;
  *out_bytes = count * size;
  return true;
}

char *rt_shape_format(char *buf, size_t cap, int32_t dtype, int32_t rank,
                      const int64_t *shape) {
  size_t len = (size_t)snprintf(buf, cap, "%s[", tandem_dtype_name(dtype));
  for (int32_t i = 0; i < rank && len < cap; i++)
    len += (size_t)snprintf(buf + len, cap - len, i ? ",%lld" : "%lld", (long long)shape[i]);
  if (len < cap) len += (size_t)snprintf(buf + len, cap - len, "]");
  if (len >= cap && cap >= 4) strcpy(buf + cap - 4, "...");
  return buf;
}

/* IEEE binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. */
float rt_f16_to_f32(uint16_t bits) {
  uint32_t sign = (uint32_t)(bits & 0x8000u) << 16;
  uint32_t exponent = (bits >> 10) & 0x1fu;
  uint32_t mantissa = bits & 0x3ffu;
  uint32_t out;
  if (exponent == 0x1f) {
    out = sign | 0x7f800000u | (mantissa << 13); /* inf or NaN, payload kept */
  } else if (exponent != 0) {
    out = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    out = sign;
  } else {
    /* Subnormal: shift the mantissa up until its leading 1 is the implicit bit. */
    exponent = 113;
    while (!(mantissa & 0x400u)) {
      mantissa <<= 1;
      exponent--;
    }
    out = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float f;
  memcpy(&f, &out, sizeof f);
  return f;
}

/* bfloat16 is the top half of an f32. */
float rt_bf16_to_f32(uint16_t bits) {
  uint32_t out = (uint32_t)bits << 16;
  float f;
  memcpy(&f, &out, sizeof f);
  return f;
}

double rt_dtype_load_f64(int32_t dtype, const void *data, uint64_t index) {
  const unsigned char *bytes = data;
  uint16_t half;
  switch (dtype) {
  case TANDEM_DTYPE_F32: {
    float v;
    memcpy(&v, bytes + index * 4, 4);
    return v;
  }
  case TANDEM_DTYPE_F16:
    memcpy(&half, bytes + index * 2, 2);
    return rt_f16_to_f32(half);
  case TANDEM_DTYPE_BF16:
    memcpy(&half, bytes + index * 2, 2);
    return rt_bf16_to_f32(half);
  case TANDEM_DTYPE_I8:
    return (int8_t)bytes[index];
  case TANDEM_DTYPE_U8:
    return bytes[index];
  case TANDEM_DTYPE_I32: {
    int32_t v;
    memcpy(&v, bytes + index * 4, 4);
    return v;
  }
  case TANDEM_DTYPE_I64: {
    int64_t v;
    memcpy(&v, bytes + index * 8, 8);
    return (double)v;
  }
  case TANDEM_DTYPE_BOOL:
    return bytes[index] != 0;
  default:
    return 0.0;
  }
}
