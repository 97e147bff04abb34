/* The row-wise kernels (codegen/kernels/rows.c, from the bitcode tandemc embeds)
 * against double-precision references: softmax, sums over rows, and MVN (both eps modes, and without
 * variance) over rows of lengths around the 16-lane vectors (1, 5, 16, 17, 128, 300),
 * swish with two betas over counts around its chunks of 4096, on one thread and on
 * three; swish then mul fused (SwiGLU) against the two kernels, bit for bit; row copies (a transpose and a slice) and element-wise arithmetic, exactly;
 * and the edges: a NaN in a softmax row makes the row NaN, swish far past exp's
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

static void check_sum(int64_t rows, int64_t n) {
  float *x = malloc(sizeof(float) * (size_t)(rows * n + 1)), *y = malloc(sizeof(float) * (size_t)rows);
  for (int64_t i = 0; i < rows * n; i++) x[i] = rnd(3.0f);
  float scale = 1.0f / (float)n;
  tdm_rows_sum_f32(x, y, rows, n, scale);
  for (int64_t r = 0; r < rows; r++) {
    double want = 0, mag = 0;
    for (int64_t j = 0; j < n; j++) want += x[r * n + j], mag += fabs(x[r * n + j]);
    expect("mean", rows, n, r, y[r], want * scale, 1e-6 * mag * scale + 1e-30);
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

/* Rows of x [4, 5, 6, inner] moved as a transpose (1, 0, 2) and a slice of axis 2
 * would move them, against index arithmetic. */
static void check_copy(int64_t inner) {
  int64_t D0 = 4, D1 = 5, D2 = 6, n = D0 * D1 * D2 * inner;
  float *x = malloc(sizeof(float) * (size_t)n), *y = malloc(sizeof(float) * (size_t)n);
  for (int64_t i = 0; i < n; i++) x[i] = rnd(1.0f);
  /* transpose to [5, 4, 6, inner]: out (i, j, k) <- x (j, i, k) */
  tdm_rows_copy_f32(x, y, D1, D0, D2, D2 * inner, D1 * D2 * inner, inner, 0, inner);
  for (int64_t i = 0; i < D1; i++)
    for (int64_t j = 0; j < D0; j++)
      for (int64_t k = 0; k < D2; k++)
        for (int64_t c = 0; c < inner; c++) {
          int64_t o = ((i * D0 + j) * D2 + k) * inner + c, s = ((j * D1 + i) * D2 + k) * inner + c;
          expect("copy transpose", D1 * D0 * D2, inner, o, y[o], x[s], 0);
        }
  /* slice of axis 2, elements 2..4: [4, 5, 3, inner] */
  tdm_rows_copy_f32(x, y, D0, D1, 3, D1 * D2 * inner, D2 * inner, inner, 2 * inner, inner);
  for (int64_t i = 0; i < D0; i++)
    for (int64_t j = 0; j < D1; j++)
      for (int64_t k = 0; k < 3; k++)
        for (int64_t c = 0; c < inner; c++) {
          int64_t o = ((i * D1 + j) * 3 + k) * inner + c, s = ((i * D1 + j) * D2 + k + 2) * inner + c;
          expect("copy slice", D0 * D1 * 3, inner, o, y[o], x[s], 0);
        }
  free(x), free(y);
}

/* Each op, with b of the same count, of one element, and repeating every bc
 * elements (bc divides count), exactly as IEEE single. */
static void check_binary(int64_t count, int64_t bc) {
  float *a = malloc(sizeof(float) * (size_t)count), *b = malloc(sizeof(float) * (size_t)count);
  float *y = malloc(sizeof(float) * (size_t)count);
  for (int64_t i = 0; i < count; i++) a[i] = rnd(4.0f), b[i] = rnd(4.0f) + 5.0f;
  for (int op = TDM_ROWS_ADD; op <= TDM_ROWS_DIV; op++)
    for (int form = 0; form < 3; form++) {
      int64_t b_count = form == 0 ? count : form == 1 ? 1 : bc;
      tdm_rows_binary_f32(a, b, y, count, b_count, op);
      for (int64_t i = 0; i < count; i++) {
        float bi = b[i % b_count];
        volatile float want = op == TDM_ROWS_ADD ? a[i] + bi : op == TDM_ROWS_SUB ? a[i] - bi
                              : op == TDM_ROWS_MUL ? a[i] * bi : a[i] / bi;
        expect("binary", op, count, i, y[i], want, 0);
      }
    }
  free(a), free(b), free(y);
}

/* swiglu gives what swish and then a mul give, bit for bit. */
static void check_swiglu(int64_t count, float beta) {
  float *g = malloc(sizeof(float) * (size_t)count), *u = malloc(sizeof(float) * (size_t)count);
  float *s = malloc(sizeof(float) * (size_t)count), *want = malloc(sizeof(float) * (size_t)count);
  float *y = malloc(sizeof(float) * (size_t)count);
  for (int64_t i = 0; i < count; i++) g[i] = rnd(12.0f), u[i] = rnd(3.0f);
  g[0] = -INFINITY;
  tdm_rows_swish_f32(g, s, count, beta);
  tdm_rows_binary_f32(s, u, want, count, count, TDM_ROWS_MUL);
  tdm_rows_swiglu_f32(g, u, y, 1, count, 0, count, 0, count, beta);
  for (int64_t i = 0; i < count; i++) {
    checks++;
    int same = isnan(want[i]) ? isnan(y[i]) : memcmp(&want[i], &y[i], 4) == 0;
    if (!same && failures++ < 10)
      fprintf(stderr, "FAIL swiglu count %lld element %lld: %.9g, expected %.9g\n", (long long)count, (long long)i, y[i],
              want[i]);
  }
  /* the two halves of a [rows, 2n] tensor read in place: rows of g at 0, of u at n */
  int64_t rows = 3, n = 37;
  float *f = malloc(sizeof(float) * (size_t)(rows * 2 * n)), *yy = malloc(sizeof(float) * (size_t)(rows * n));
  for (int64_t i = 0; i < rows * 2 * n; i++) f[i] = rnd(8.0f);
  tdm_rows_swiglu_f32(f, f, yy, rows, n, 0, 2 * n, n, 2 * n, beta);
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < n; c++) {
      float sw, want1;
      tdm_rows_swish_f32(&f[r * 2 * n + c], &sw, 1, beta);
      tdm_rows_binary_f32(&sw, &f[r * 2 * n + n + c], &want1, 1, 1, TDM_ROWS_MUL);
      checks++;
      if (memcmp(&want1, &yy[r * n + c], 4) != 0 && failures++ < 10)
        fprintf(stderr, "FAIL swiglu strided row %lld col %lld: %.9g, expected %.9g\n", (long long)r, (long long)c,
                yy[r * n + c], want1);
    }
  free(f), free(yy);
  free(g), free(u), free(s), free(want), free(y);
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
        check_sum(rows[r], ns[k]);
        check_mvn(rows[r], ns[k], TDM_MVN_VARIANCE | TDM_MVN_INSIDE_SQRT, 1e-5f);
        check_mvn(rows[r], ns[k], TDM_MVN_VARIANCE, 1e-3f);
        check_mvn(rows[r], ns[k], 0, 1e-5f);
      }
    static const int64_t counts[] = {1, 15, 4096, 4097, 20000};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
      check_swish(counts[c], 1.0f);
      check_swish(counts[c], 1.702f);
      check_swiglu(counts[c], 1.0f);
    }
    static const int64_t inners[] = {1, 16, 37};
    for (size_t c = 0; c < sizeof inners / sizeof inners[0]; c++) check_copy(inners[c]);
    static const int64_t bcounts[][2] = {{1, 1}, {17, 17}, {4096, 64}, {9000, 45}, {5 * 4099, 4099}};
    for (size_t c = 0; c < sizeof bcounts / sizeof bcounts[0]; c++) check_binary(bcounts[c][0], bcounts[c][1]);
    check_edges();
  }
  if (failures) {
    fprintf(stderr, "%d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("%d checks passed\n", checks);
  return 0;
}
