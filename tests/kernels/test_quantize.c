/* The compile-time encoders (codegen/quantize.c): every block format decodes back to
 * within half a step of the input (the step being the block's stored scale; q4_0's
 * range d * [-8, 7] clips the side opposite its largest element at 7 steps), keeps
 * a block of zeros exact and an element of largest magnitude nearly so, and the
 * halves round to nearest. Exit status 0 when all pass. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "codegen/quantize.h"

static int failures;

static void check(int ok, const char *what, const char *enc, int i, float got, float want) {
  if (!ok && failures++ < 10) fprintf(stderr, "FAIL %s %s: element %d = %.9g, expected %.9g\n", enc, what, i, got, want);
}

static float half_at(const uint8_t *p) { return tdm_f16_to_f32((uint16_t)(p[0] | p[1] << 8)); }

/* Largest error allowed for element j of block b: half a step, plus the rounding of
 * d * q (+ m) in floats. */
static float bound(const char *enc, const uint8_t *blk, float x) {
  if (enc[0] == 'f' || enc[0] == 'b') return fabsf(x) * (enc[0] == 'b' ? 0x1p-8f : 0x1p-11f) + 0x1p-24f;
  float d = fabsf(half_at(blk)), m = enc[3] == '1' ? fabsf(half_at(blk + 2)) : 0.0f;
  float rounding = (d * 16 + m) * 0x1p-23f;
  /* q4_0 holds d * [-8, 7]: the side opposite the largest element clips at 7 steps */
  if (enc[3] == '0' && enc[1] == '4' && fabsf(x) > 7.5f * d) return fabsf(x) - 7.0f * d + rounding;
  return d * 0.5f * 1.0001f + rounding;
}

static void round_trip(const char *enc, int bytes_per_block, const float *x, int n) {
  uint8_t *q = malloc((size_t)(n / 32 * bytes_per_block));
  float *y = malloc(sizeof(float) * (size_t)n);
  tdm_status st = qz_quantize(enc, x, n, q);
  if (!st) st = qz_dequantize(enc, q, n, y);
  if (st) {
    fprintf(stderr, "FAIL %s: %s\n", enc, tdm_status_message(st));
    tdm_status_free(st);
    failures++;
  } else {
    for (int i = 0; i < n; i++) {
      const uint8_t *blk = q + (i / 32) * bytes_per_block;
      float b = enc[0] == 'q' ? bound(enc, blk, x[i]) : bound(enc, NULL, x[i]);
      check(fabsf(y[i] - x[i]) <= b, "round trip", enc, i, y[i], x[i]);
    }
  }
  free(q);
  free(y);
}

int main(void) {
  static const struct { const char *enc; int bytes; } encs[] = {
      {"q8_0", 34}, {"q4_0", 18}, {"q4_1", 20}, {"f16", 64}, {"bf16", 64},
  };
  enum { N = 32 * 64 };
  float x[N];
  uint32_t r = 7;
  for (int i = 0; i < N; i++) {
    r = r * 1664525u + 1013904223u;
    float scale = i < 32 ? 0.0f : i < 64 ? 1e-3f : i < 96 ? 1e3f : 1.0f; /* zeros, small, large */
    x[i] = scale * ((float)(r >> 8) / 16777216.0f * 2.0f - 1.0f);
  }
  for (int i = 96; i < 128; i++) x[i] = 0.25f + 0.01f * (float)(i - 96); /* one sign: q4_1's minimum */
  for (size_t e = 0; e < sizeof encs / sizeof encs[0]; e++) round_trip(encs[e].enc, encs[e].bytes, x, N);
  tdm_status st = qz_quantize("q5_0", x, N, (uint8_t *)x);
  check(st != NULL, "unknown encoding rejected", "q5_0", 0, 0, 0);
  tdm_status_free(st);
  if (failures) {
    fprintf(stderr, "%d failures\n", failures);
    return 1;
  }
  printf("encoders pass\n");
  return 0;
}
