/* The attention kernel (codegen/kernels/attention.c, compiled from the bitcode tandemc
 * embeds) against a double-precision reference: caches in f32 and f16, grouped-query
 * heads (groups of 1, 3 and 18, past the kernel's 8 heads at a time), head sizes that
 * are and are not multiples of 16, one token (decode) and chunks at several positions,
 * key counts around the 32-key blocks, long decodes whose keys split into segments
 * (merged after), on one thread and on three, with halves converted in hardware or
 * not. Outputs within 2e-5 relative (f32) of the reference
 * computed from the cache the kernel wrote; the new cache rows exact (f32) or the
 * nearest half, ties to even, including Inf, NaN and subnormal rounding. Exit 0 when
 * all pass. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/kernels/attention.h"
#include "tandem/runtime.h"

int tdm_kernel_f16c; /* a constant in a model (codegen/kernel_link.c); here each variant runs */

static int failures, checks;

static uint32_t rng_state = 99;
static float rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return (float)((int)(rng_state % 20001) - 10000) / 10000.0f;
}

static uint16_t to_half(float f) {
  _Float16 h = (_Float16)f;
  uint16_t b;
  memcpy(&b, &h, 2);
  return b;
}

static float from_half(uint16_t b) {
  _Float16 h;
  memcpy(&h, &b, 2);
  return (float)h;
}

static void fail(const char *what, int half, long long T, long long H, long long Hkv, long long D, long long pos) {
  if (failures++ < 10)
    fprintf(stderr, "FAIL %s: kv %s T=%lld H=%lld Hkv=%lld D=%lld pos=%lld f16c=%d threads=%d\n", what,
            half ? "f16" : "f32", T, H, Hkv, D, pos, tdm_kernel_f16c, tandem_threads());
}

static void check(int half, int64_t T, int64_t H, int64_t Hkv, int64_t D, int64_t pos) {
  int64_t L = 2, C = pos + T + 3, layer = 1, cache_n = L * C * Hkv * D;
  float *q = malloc(sizeof(float) * T * H * D), *k = malloc(sizeof(float) * T * Hkv * D);
  float *v = malloc(sizeof(float) * T * Hkv * D), *o = malloc(sizeof(float) * T * H * D);
  void *kc = calloc((size_t)cache_n, half ? 2 : 4), *vc = calloc((size_t)cache_n, half ? 2 : 4);
  for (int64_t i = 0; i < T * H * D; i++) q[i] = 2.0f * rnd();
  for (int64_t i = 0; i < T * Hkv * D; i++) k[i] = 2.0f * rnd(), v[i] = rnd();
  /* earlier positions already in the cache */
  for (int64_t p = 0; p < pos; p++)
    for (int64_t e = 0; e < Hkv * D; e++) {
      int64_t at = (layer * C + p) * Hkv * D + e;
      float kv = 2.0f * rnd(), vv = rnd();
      if (half) ((uint16_t *)kc)[at] = to_half(kv), ((uint16_t *)vc)[at] = to_half(vv);
      else ((float *)kc)[at] = kv, ((float *)vc)[at] = vv;
    }
  float scale = 1.0f / sqrtf((float)D);
  if (half) tdm_attention_f16(q, k, v, kc, vc, pos, o, T, H, Hkv, D, C, layer, scale);
  else tdm_attention_f32(q, k, v, kc, vc, pos, o, T, H, Hkv, D, C, layer, scale);
  checks++;
  /* the new rows */
  for (int64_t t = 0; t < T; t++)
    for (int64_t e = 0; e < Hkv * D; e++) {
      int64_t at = (layer * C + pos + t) * Hkv * D + e;
      float kk = k[t * Hkv * D + e], vv = v[t * Hkv * D + e];
      int ok = half ? ((uint16_t *)kc)[at] == to_half(kk) && ((uint16_t *)vc)[at] == to_half(vv)
                    : ((float *)kc)[at] == kk && ((float *)vc)[at] == vv;
      if (!ok) {
        fail("cache row", half, T, H, Hkv, D, pos);
        t = T;
        break;
      }
    }
  /* the outputs, from what the cache holds */
  int64_t group = H / Hkv;
  for (int64_t t = 0; t < T; t++)
    for (int64_t h = 0; h < H; h++) {
      int64_t g = h / group, n = pos + t + 1;
      double *sc = malloc(sizeof(double) * n), mx = -INFINITY, sum = 0;
      for (int64_t j = 0; j < n; j++) {
        double d = 0;
        for (int64_t e = 0; e < D; e++) {
          int64_t at = ((layer * C + j) * Hkv + g) * D + e;
          double kv = half ? from_half(((uint16_t *)kc)[at]) : ((float *)kc)[at];
          d += (double)q[(t * H + h) * D + e] * kv;
        }
        sc[j] = d * scale;
        if (sc[j] > mx) mx = sc[j];
      }
      for (int64_t j = 0; j < n; j++) sum += sc[j] = exp(sc[j] - mx);
      for (int64_t e = 0; e < D; e++) {
        double ref = 0, mag = 0;
        for (int64_t j = 0; j < n; j++) {
          int64_t at = ((layer * C + j) * Hkv + g) * D + e;
          double vv = half ? from_half(((uint16_t *)vc)[at]) : ((float *)vc)[at];
          ref += sc[j] / sum * vv;
          mag += fabs(sc[j] / sum * vv);
        }
        double got = o[(t * H + h) * D + e];
        if (!(fabs(got - ref) <= 2e-5 * mag + 1e-30)) {
          fail("output", half, T, H, Hkv, D, pos);
          fprintf(stderr, "  o[%lld, %lld, %lld] = %.9g, expected %.9g\n", (long long)t, (long long)h, (long long)e,
                  got, ref);
          t = T, h = H;
          break;
        }
      }
      free(sc);
    }
  free(q), free(k), free(v), free(o), free(kc), free(vc);
}

/* Rounding to halves where it is delicate: ties, the largest half and past it,
 * subnormals, zeros, Inf and NaN, through the cache row the kernel writes. */
static void check_halves(void) {
  static const float special[] = {0.0f, -0.0f, 1.0f, 65504.0f, 65519.0f, 65520.0f, 1e6f, -1e6f, INFINITY,
                                  -INFINITY, 6.1035156e-05f, 5.9604645e-08f, 2.9802322e-08f, 8.940697e-08f,
                                  1.0009766f, 1.00048828125f, 1.00146484375f, -3.0517578e-05f, 1e-9f};
  float k[32], v[32] = {0}, q[32] = {0}, o[32];
  uint16_t kc[64] = {0}, vc[64] = {0};
  int n = (int)(sizeof special / sizeof special[0]);
  for (int i = 0; i < 32; i++) k[i] = i < n ? special[i] : rnd() * 1e-5f;
  k[31] = NAN;
  tdm_attention_f16(q, k, v, kc, vc, 0, o, 1, 1, 1, 32, 2, 0, 1.0f);
  checks++;
  for (int i = 0; i < 32; i++) {
    int ok = isnan(k[i]) ? (kc[i] & 0x7c00) == 0x7c00 && (kc[i] & 0x3ff) : kc[i] == to_half(k[i]);
    if (!ok && failures++ < 10)
      fprintf(stderr, "FAIL half of %.9g: 0x%04x, expected 0x%04x (f16c=%d)\n", k[i], kc[i], to_half(k[i]),
              tdm_kernel_f16c);
  }
}

int main(void) {
  static const int64_t shapes[][3] = {{4, 4, 16}, {9, 3, 64}, {18, 1, 24}, {2, 2, 72}};
  static const int64_t chunks[][2] = {{1, 0}, {1, 31}, {1, 32}, {1, 70}, {1, 300}, {1, 1000}, {3, 200}, {5, 0}, {7, 29}, {16, 40}};
  for (int f16c = 0; f16c < 2; f16c++)
    for (int threads = 1; threads <= 3; threads += 2) {
      tdm_kernel_f16c = f16c;
      tandem_set_threads(threads);
      check_halves();
      for (int half = 0; half < 2; half++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
          for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++)
            check(half, chunks[c][0], shapes[s][0], shapes[s][1], shapes[s][2], chunks[c][1]);
    }
  if (failures) {
    fprintf(stderr, "%d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("%d checks passed\n", checks);
  return 0;
}
