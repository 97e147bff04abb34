/* Weight encodings at compile time (see quantize.h). Decoding follows ggml's formats
 * exactly (the kernels must agree with it to the last bit of each weight); encoding
 * is ours: nearest rounding against the scale as it is stored (a half). */
#include <math.h>
#include <string.h>

#include "codegen/quantize.h"

#include "codegen/kernels/qkernels.h"

typedef enum { ENC_F32, ENC_F16, ENC_BF16, ENC_Q8_0, ENC_Q4_0, ENC_Q4_1, ENC_UNKNOWN } enc_kind;

static enc_kind kind_of(const char *e) {
  static const char *const names[] = {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1"};
  for (int i = 0; i < ENC_UNKNOWN; i++)
    if (strcmp(e, names[i]) == 0) return (enc_kind)i;
  return ENC_UNKNOWN;
}

static float half_at(const uint8_t *p) { return tdm_f16_to_f32((uint16_t)(p[0] | p[1] << 8)); }

static void put_half(uint8_t *p, uint16_t h) {
  p[0] = (uint8_t)h;
  p[1] = (uint8_t)(h >> 8);
}

/* Q4_0: f16 d, 16 bytes; element j < 16 is d * ((q[j] & 15) - 8), j + 16 uses q[j] >> 4.
 * Q4_1: f16 d, f16 m, 16 bytes; same nibble order, element = d * q + m. */
static void dequant_q4(const uint8_t *b, float *out, int has_min) {
  float d = half_at(b), m = has_min ? half_at(b + 2) : 0.0f;
  const uint8_t *q = b + (has_min ? 4 : 2);
  for (int j = 0; j < 16; j++) {
    int lo = q[j] & 15, hi = q[j] >> 4;
    out[j] = has_min ? d * (float)lo + m : d * (float)(lo - 8);
    out[j + 16] = has_min ? d * (float)hi + m : d * (float)(hi - 8);
  }
}

/* Q8_0: f16 d, 32 int8; element = d * q. */
static void dequant_q8_0(const uint8_t *b, float *out) {
  float d = half_at(b);
  for (int j = 0; j < 32; j++) out[j] = d * (float)(int8_t)b[2 + j];
}

tdm_status qz_dequantize(const char *encoding, const uint8_t *src, int64_t numel, float *dst) {
  enc_kind k = kind_of(encoding);
  if (k == ENC_F32) {
    memcpy(dst, src, sizeof(float) * (size_t)numel);
    return NULL;
  }
  if (k == ENC_F16 || k == ENC_BF16) {
    for (int64_t i = 0; i < numel; i++) {
      uint16_t h = (uint16_t)(src[2 * i] | src[2 * i + 1] << 8);
      dst[i] = k == ENC_BF16 ? tdm_bf16_to_f32(h) : tdm_f16_to_f32(h);
    }
    return NULL;
  }
  if (k == ENC_UNKNOWN || numel % 32) return TDM_BAD("cannot dequantise weight encoding '%s'", encoding);
  size_t block = k == ENC_Q4_0 ? 18 : k == ENC_Q4_1 ? 20 : 34;
  for (int64_t b = 0; b < numel / 32; b++) {
    const uint8_t *p = src + (size_t)b * block;
    if (k == ENC_Q8_0) dequant_q8_0(p, dst + b * 32);
    else dequant_q4(p, dst + b * 32, k == ENC_Q4_1);
  }
  return NULL;
}

static int clamp_int(float v, int lo, int hi) {
  float r = floorf(v + 0.5f);
  if (r != r) return 0; /* NaN */
  return r < (float)lo ? lo : r > (float)hi ? hi : (int)r;
}

/* The reciprocal of a stored scale, 0 for a block of zeros. */
static float inverse(float d) { return d != 0.0f ? 1.0f / d : 0.0f; }

/* d = max |x| / 127 */
static void quant_q8_0(const float *x, uint8_t *b) {
  float amax = 0.0f;
  for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
  uint16_t dh = tdm_f32_to_f16(amax / 127.0f);
  float id = inverse(tdm_f16_to_f32(dh));
  put_half(b, dh);
  for (int j = 0; j < 32; j++) b[2 + j] = (uint8_t)(int8_t)clamp_int(x[j] * id, -127, 127);
}

/* The element of largest magnitude maps to q = 0 (d = -max / 8, as ggml does), so
 * the other side keeps 7 steps. */
static void quant_q4_0(const float *x, uint8_t *b) {
  float mx = 0.0f;
  for (int j = 0; j < 32; j++)
    if (fabsf(x[j]) > fabsf(mx)) mx = x[j];
  uint16_t dh = tdm_f32_to_f16(mx / -8.0f);
  float id = inverse(tdm_f16_to_f32(dh));
  put_half(b, dh);
  for (int j = 0; j < 16; j++) {
    int lo = clamp_int(x[j] * id + 8.0f, 0, 15), hi = clamp_int(x[j + 16] * id + 8.0f, 0, 15);
    b[2 + j] = (uint8_t)(lo | hi << 4);
  }
}

/* m = min, d = (max - min) / 15. */
static void quant_q4_1(const float *x, uint8_t *b) {
  float mn = x[0], mx = x[0];
  for (int j = 1; j < 32; j++) mn = fminf(mn, x[j]), mx = fmaxf(mx, x[j]);
  uint16_t dh = tdm_f32_to_f16((mx - mn) / 15.0f), mh = tdm_f32_to_f16(mn);
  float id = inverse(tdm_f16_to_f32(dh)), m = tdm_f16_to_f32(mh);
  put_half(b, dh);
  put_half(b + 2, mh);
  for (int j = 0; j < 16; j++) {
    int lo = clamp_int((x[j] - m) * id, 0, 15), hi = clamp_int((x[j + 16] - m) * id, 0, 15);
    b[4 + j] = (uint8_t)(lo | hi << 4);
  }
}

tdm_status qz_quantize(const char *encoding, const float *src, int64_t numel, uint8_t *dst) {
  enc_kind k = kind_of(encoding);
  if (k == ENC_F32) {
    memcpy(dst, src, sizeof(float) * (size_t)numel);
    return NULL;
  }
  if (k == ENC_F16 || k == ENC_BF16) {
    for (int64_t i = 0; i < numel; i++)
      put_half(dst + 2 * i, k == ENC_BF16 ? tdm_f32_to_bf16(src[i]) : tdm_f32_to_f16(src[i]));
    return NULL;
  }
  if (k == ENC_UNKNOWN || numel % 32) return TDM_BAD("cannot encode a weight as '%s'", encoding);
  size_t block = k == ENC_Q4_0 ? 18 : k == ENC_Q4_1 ? 20 : 34;
  for (int64_t b = 0; b < numel / 32; b++) {
    uint8_t *p = dst + (size_t)b * block;
    if (k == ENC_Q8_0) quant_q8_0(src + b * 32, p);
    else if (k == ENC_Q4_0) quant_q4_0(src + b * 32, p);
    else quant_q4_1(src + b * 32, p);
  }
  return NULL;
}

/* ---- Eight rows interleaved (qkernels.h, the x8 encodings) ------------------------- */

const char *qz_x8_encoding(const char *encoding) {
  enc_kind k = kind_of(encoding);
  return k == ENC_Q8_0 ? "q8_0x8" : k == ENC_Q4_0 ? "q4_0x8" : k == ENC_Q4_1 ? "q4_1x8" : NULL;
}

static int64_t x8_record_bytes(enc_kind k) {
  return k == ENC_Q8_0 ? TDM_X8_BYTES_Q8_0 : k == ENC_Q4_0 ? TDM_X8_BYTES_Q4_0 : TDM_X8_BYTES_Q4_1;
}

uint64_t qz_x8_bytes(const char *encoding, int64_t N, int64_t K) {
  int64_t groups = (N + TDM_X8_ROWS - 1) / TDM_X8_ROWS;
  return (uint64_t)(groups * (K / 32) * x8_record_bytes(kind_of(encoding)));
}

tdm_status qz_repack_x8(const char *encoding, const uint8_t *src, int64_t N, int64_t K, uint8_t *dst) {
  enc_kind k = kind_of(encoding);
  if (!qz_x8_encoding(encoding) || K % 32) return TDM_INTERNAL("no x8 form of a '%s' [%lld, %lld] weight", encoding, (long long)N, (long long)K);
  int64_t nb = K / 32, rec = x8_record_bytes(k), block = k == ENC_Q4_0 ? 18 : k == ENC_Q4_1 ? 20 : 34;
  int steps = k == ENC_Q8_0 ? 8 : 4, data = k == ENC_Q4_1 ? 4 : 2;
  memset(dst, 0, (size_t)qz_x8_bytes(encoding, N, K));
  for (int64_t n = 0; n < N; n++) {
    int r = (int)(n % TDM_X8_ROWS);
    for (int64_t b = 0; b < nb; b++) {
      const uint8_t *blk = src + (n * nb + b) * block;
      uint8_t *p = dst + (n / TDM_X8_ROWS * nb + b) * rec;
      for (int s = 0; s < steps; s++) memcpy(p + 32 * s + 4 * r, blk + data + 4 * s, 4);
      memcpy(p + 32 * steps + 2 * r, blk, 2);                          /* d */
      if (k == ENC_Q4_1) memcpy(p + 32 * steps + 16 + 2 * r, blk + 2, 2); /* m */
    }
  }
  return NULL;
}
