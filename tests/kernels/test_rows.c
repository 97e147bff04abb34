/* The row-wise kernels (codegen/kernels/rows.c, from the bitcode tandemc embeds)
 * against double-precision references: softmax and MVN (both eps modes, and without
 * variance) over rows of lengths around the 16-lane vectors (1, 5, 16, 17, 128, 300),
 * swish with two betas over counts around its chunks of 4096, on one thread and on
 * three; and the edges: a NaN in a softmax row makes the row NaN, swish far past exp's
 * range gives +-0 (NaN for -inf), +inf stays +inf. Exit status 0 when all pass. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/kernels/rows.h"
#include "tandem/runtime.h"

int tdm_kernel_f16c; /* read by the shared kernel helpers; a constant in a model */

static int failures, checks;

static uint32_t rng_state = 2024;
static float rnd(float scale) {
  rng_state ^= rng_state << 13, rng_state ^= rng_state >> 17, rng_state ^= rng_state << 5;
  return scale * ((float)(rng_state % 20001) / 10000.0f - 1.0f);
}

static void expect(const char *what, long long a, long long b, long long i, double got, double want, double tol) {
  checks++;
  int ok = isnan(want) ? isnan(got) : fabs(got - want) <= tol;
  if (!ok && failures++ < 10)
    fprintf(stderr, "FAIL %s (%lld x %lld) element %lld: %.9g, expected %.9g\n", what, a, b, i, got, want);
}

static void check_softmax(int64_t rows, int64_t n) {
  float *x = malloc(sizeof(float) * (size_t)(rows * n + 1)), *y = malloc(sizeof(float) * (size_t)(rows * n + 1));
  for (int64_t i = 0; i < rows * n; i++) x[i] = rnd(20.0f);
  tdm_rows_softmax_f32(x, y, rows, n);
  for (int64_t r = 0; r < rows; r++) {
    double m = -INFINITY, s = 0;
    for (int64_t j = 0; j < n; j++) m = fmax(m, x[r * n + j]);
    for (int64_t j = 0; j < n; j++) s += exp((double)x[r * n + j] - m);
    for (int64_t j = 0; j < n; j++) {
      double want = exp((double)x[r * n + j] - m) / s;
      expect("softmax", rows, n, r * n + j, y[r * n + j], want, 1e-6 * want + 1e-12);
    }
  }
  free(x), free(y);
}

static void check_mvn(int64_t rows, int64_t n, int64_t flags, float eps) {
  float *x = malloc(sizeof(float) * (size_t)(rows * n + 1)), *y = malloc(sizeof(float) * (size_t)(rows * n + 1));
  for (int64_t i = 0; i < rows * n; i++) x[i] = 3.0f + rnd(2.0f);
  tdm_rows_mvn_f32(x, y, rows, n, eps, flags);
  for (int64_t r = 0; r < rows; r++) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < n; j++) mean += x[r * n + j];
    mean /= (double)n;
    for (int64_t j = 0; j < n; j++) var += ((double)x[r * n + j] - mean) * ((double)x[r * n + j] - mean);
    var /= (double)n;
    double den = !(flags & TDM_MVN_VARIANCE) ? 1.0
                 : flags & TDM_MVN_INSIDE_SQRT ? sqrt(var + eps)
                                               : sqrt(var) + eps;
    for (int64_t j = 0; j < n; j++) {
      double want = ((double)x[r * n + j] - mean) / den;
      expect("mvn", rows, n, r * n + j, y[r * n + j], want, 2e-5 * (fabs(want) + 1.0 / den));
    }
  }
  free(x), free(y);
}

static void check_swish(int64_t count, float beta) {
  float *x = malloc(sizeof(float) * (size_t)(count + 1)), *y = malloc(sizeof(float) * (size_t)(count + 1));
  for (int64_t i = 0; i < count; i++) x[i] = rnd(12.0f);
  tdm_rows_swish_f32(x, y, count, beta);
  for (int64_t i = 0; i < count; i++) {
    double want = x[i] / (1.0 + exp(-(double)beta * x[i]));
    expect("swish", 1, count, i, y[i], want, 3e-6 * fabs(want) + 1e-30); /* vexp: a few float ulps */
  }
  free(x), free(y);
}

static void check_edges(void) {
  float x[6] = {1.0f, NAN, 2.0f, 0.5f, -1.0f, 3.0f}, y[6];
  tdm_rows_softmax_f32(x, y, 2, 3); /* row 0 holds a NaN, row 1 does not */
  for (int j = 0; j < 3; j++) expect("softmax NaN row", 2, 3, j, y[j], NAN, 0);
  expect("softmax after a NaN row", 2, 3, 5, y[5], exp(3.0) / (exp(0.5) + exp(-1.0) + exp(3.0)), 1e-6);
  float s[5] = {-100.0f, -INFINITY, INFINITY, NAN, 100.0f}, t[5];
  tdm_rows_swish_f32(s, t, 5, 1.0f);
  double want[5] = {-100.0 * exp(-100.0), NAN, INFINITY, NAN, 100.0};
  for (int i = 0; i < 5; i++) {
    if (isinf(want[i])) {
      checks++;
      if (t[i] != (float)want[i] && failures++ < 10) fprintf(stderr, "FAIL swish edge %d: %.9g\n", i, t[i]);
      continue;
    }
    expect("swish edge", 1, 5, i, t[i], want[i], 1e-30);
  }
}

int main(void) {
  static const int64_t rows[] = {1, 3, 37}, ns[] = {1, 5, 16, 17, 128, 300};
  for (int threads = 1; threads <= 3; threads += 2) {
    tandem_set_threads(threads);
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
      for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        check_softmax(rows[r], ns[k]);
        check_mvn(rows[r], ns[k], TDM_MVN_VARIANCE | TDM_MVN_INSIDE_SQRT, 1e-5f);
        check_mvn(rows[r], ns[k], TDM_MVN_VARIANCE, 1e-3f);
        check_mvn(rows[r], ns[k], 0, 1e-5f);
      }
    static const int64_t counts[] = {1, 15, 4096, 4097, 20000};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
      check_swish(counts[c], 1.0f);
      check_swish(counts[c], 1.702f);
    }
    check_edges();
  }
  if (failures) {
    fprintf(stderr, "%d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("%d checks passed\n", checks);
  return 0;
}
