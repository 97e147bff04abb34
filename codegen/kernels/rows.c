/* Softmax, MVN and swish in f32 (interface in rows.h), 16 lanes at a time with the
 * row's last partial vector padded: one pass over a row for each reduction, where
 * MLIR's generated ops write an intermediate tensor per step. */
#include "codegen/kernels/rows.h"

#include "codegen/kernels/kutil.h"

/* Elements [i, i + 16) of a row of n, lanes past n set to `pad`. */
INLINE f32x16 load_part(const float *p, int64_t i, int64_t n, float pad) {
  if (i + 16 <= n) return load_f32(p + i);
  f32x16 v = (f32x16){} + pad;
  for (int64_t j = i; j < n; j++) v[j - i] = p[j];
  return v;
}

INLINE void store_part(float *p, int64_t i, int64_t n, f32x16 v) {
  if (i + 16 <= n) {
    store_f32(p + i, v);
    return;
  }
  for (int64_t j = i; j < n; j++) p[j] = v[j - i];
}

/* A row's work, for the pool's threshold: a few operations per element. */
#define ROW_COST(n) (8 * (n))

typedef struct {
  const float *x;
  float *y;
  int64_t n;
  float eps, beta;
  int64_t flags;
} rows_job;

static void softmax_task(void *ctx, int64_t begin, int64_t end) {
  const rows_job *j = ctx;
  int64_t n = j->n;
  for (int64_t r = begin; r < end; r++) {
    const float *x = j->x + r * n;
    float *y = j->y + r * n;
    f32x16 mx = (f32x16){} - __builtin_inff();
    i32x16 nan = {0};
    for (int64_t i = 0; i < n; i += 16) {
      f32x16 v = load_part(x, i, n, -__builtin_inff());
      nan |= v != v;
      mx = __builtin_elementwise_max(mx, v);
    }
    float m = __builtin_reduce_max(mx);
    if (__builtin_reduce_or(nan)) m = __builtin_nanf("");
    f32x16 sum = {0};
    for (int64_t i = 0; i < n; i += 16) {
      f32x16 e = vexp(load_part(x, i, n, -__builtin_inff()) - m);
      if (m != m) e = (f32x16){} + m; /* NaN in, NaN out (vexp would clamp it) */
      sum += e;
      store_part(y, i, n, e);
    }
    float s = hsum16(sum);
    for (int64_t i = 0; i < n; i += 16) store_part(y, i, n, load_part(y, i, n, 0.0f) / s);
  }
}

void tdm_rows_softmax_f32(const float *x, float *y, int64_t rows, int64_t n) {
  rows_job j = {x, y, n, 0, 0, 0};
  parallel(softmax_task, &j, rows, rows * ROW_COST(n));
}

static void mvn_task(void *ctx, int64_t begin, int64_t end) {
  const rows_job *j = ctx;
  int64_t n = j->n;
  float inv = 1.0f / (float)n;
  for (int64_t r = begin; r < end; r++) {
    const float *x = j->x + r * n;
    float *y = j->y + r * n;
    f32x16 acc = {0};
    for (int64_t i = 0; i < n; i += 16) acc += load_part(x, i, n, 0.0f);
    float mean = hsum16(acc) * inv, scale = 1.0f;
    if (j->flags & TDM_MVN_VARIANCE) {
      acc = (f32x16){0};
      for (int64_t i = 0; i < n; i += 16) {
        f32x16 c = load_part(x, i, n, mean) - mean; /* padding lanes give 0 */
        acc += c * c;
      }
      float var = hsum16(acc) * inv;
      float den = j->flags & TDM_MVN_INSIDE_SQRT ? __builtin_sqrtf(var + j->eps) : __builtin_sqrtf(var) + j->eps;
      scale = den;
    }
    for (int64_t i = 0; i < n; i += 16) {
      f32x16 c = load_part(x, i, n, 0.0f) - mean;
      store_part(y, i, n, j->flags & TDM_MVN_VARIANCE ? c / scale : c);
    }
  }
}

static void sum_task(void *ctx, int64_t begin, int64_t end) {
  const rows_job *j = ctx;
  for (int64_t r = begin; r < end; r++) {
    f32x16 acc = {0};
    for (int64_t i = 0; i < j->n; i += 16) acc += load_part(j->x + r * j->n, i, j->n, 0.0f);
    j->y[r] = hsum16(acc) * j->beta;
  }
}

void tdm_rows_sum_f32(const float *x, float *y, int64_t rows, int64_t n, float scale) {
  rows_job j = {x, y, n, 0, scale, 0};
  parallel(sum_task, &j, rows, rows * ROW_COST(n));
}

void tdm_rows_mvn_f32(const float *x, float *y, int64_t rows, int64_t n, float eps, int64_t flags) {
  rows_job j = {x, y, n, eps, 0, flags};
  parallel(mvn_task, &j, rows, rows * ROW_COST(n));
}

/* v / (1 + exp(-beta v)); past exp's range (vexp clamps at 88) the quotient is v * 0:
 * +-0, or NaN for an infinite v, as v / (1 + inf). */
INLINE f32x16 swish16(f32x16 v, float beta) {
  f32x16 t = v * -beta, q = v / (1.0f + vexp(t)), z = v * 0.0f;
  i32x16 big = t > 88.0f;
  return (f32x16)(((i32x16)q & ~big) | ((i32x16)z & big));
}

/* Swish by chunks of this many elements. */
#define SWISH_CHUNK 4096

static void swish_task(void *ctx, int64_t begin, int64_t end) {
  const rows_job *j = ctx;
  int64_t count = j->n;
  for (int64_t c = begin; c < end; c++) {
    int64_t i1 = (c + 1) * SWISH_CHUNK < count ? (c + 1) * SWISH_CHUNK : count;
    for (int64_t i = c * SWISH_CHUNK; i < i1; i += 16) {
      store_part(j->y, i, i1, swish16(load_part(j->x, i, i1, 0.0f), j->beta));
    }
  }
}

void tdm_rows_swish_f32(const float *x, float *y, int64_t count, float beta) {
  rows_job j = {x, y, count, 0, beta, 0};
  parallel(swish_task, &j, (count + SWISH_CHUNK - 1) / SWISH_CHUNK, ROW_COST(count));
}

typedef struct {
  const float *g, *u;
  float *y;
  int64_t n, g_off, g_stride, u_off, u_stride;
  float beta;
} swiglu_job;

static void swiglu_task(void *ctx, int64_t begin, int64_t end) {
  const swiglu_job *j = ctx;
  int64_t n = j->n;
  for (int64_t r = begin; r < end; r++) {
    const float *g = j->g + j->g_off + r * j->g_stride, *u = j->u + j->u_off + r * j->u_stride;
    float *y = j->y + r * n;
    for (int64_t i = 0; i < n; i += 16)
      store_part(y, i, n, swish16(load_part(g, i, n, 0.0f), j->beta) * load_part(u, i, n, 0.0f));
  }
}

void tdm_rows_swiglu_f32(const float *g, const float *u, float *y, int64_t rows, int64_t n, int64_t g_off,
                         int64_t g_stride, int64_t u_off, int64_t u_stride, float beta) {
  swiglu_job j = {g, u, y, n, g_off, g_stride, u_off, u_stride, beta};
  parallel(swiglu_task, &j, rows, rows * ROW_COST(n));
}

/* ---- Data movement and arithmetic ---------------------------------------------------- */

typedef struct {
  const float *x;
  float *y;
  int64_t d1, d2, s0, s1, s2, base, inner;
} copy_job;

static void copy_task(void *ctx, int64_t begin, int64_t end) {
  const copy_job *j = ctx;
  for (int64_t r = begin; r < end; r++) {
    int64_t i2 = r % j->d2, i1 = r / j->d2 % j->d1, i0 = r / j->d2 / j->d1;
    const float *src = j->x + j->base + i0 * j->s0 + i1 * j->s1 + i2 * j->s2;
    __builtin_memcpy(j->y + r * j->inner, src, sizeof(float) * (__SIZE_TYPE__)j->inner);
  }
}

void tdm_rows_copy_f32(const float *x, float *y, int64_t d0, int64_t d1, int64_t d2, int64_t s0, int64_t s1,
                       int64_t s2, int64_t base, int64_t inner) {
  copy_job j = {x, y, d1, d2, s0, s1, s2, base, inner};
  int64_t rows = d0 * d1 * d2;
  if (rows > 0 && d1 > 0 && d2 > 0) parallel(copy_task, &j, rows, rows * inner);
}

/* Element-wise arithmetic by chunks of this many elements. */
#define BINARY_CHUNK 4096

typedef struct {
  const float *a, *b;
  float *y;
  int64_t count, b_count, op;
} binary_job;

/* b's 16 elements for y's [i, i + 16): b repeats every b_count elements. */
INLINE f32x16 load_b(const binary_job *j, int64_t i, int64_t end) {
  if (j->b_count == 1) return (f32x16){} + j->b[0];
  int64_t at = i % j->b_count;
  if (at + 16 <= j->b_count && i + 16 <= end) return load_f32(j->b + at);
  f32x16 v = (f32x16){} + 1.0f;
  for (int64_t k = i; k < end && k < i + 16; k++) v[k - i] = j->b[k % j->b_count];
  return v;
}

INLINE f32x16 apply(int64_t op, f32x16 a, f32x16 b) {
  switch (op) {
    case TDM_ROWS_ADD: return a + b;
    case TDM_ROWS_SUB: return a - b;
    case TDM_ROWS_MUL: return a * b;
    default: return a / b;
  }
}

static void binary_task(void *ctx, int64_t begin, int64_t end) {
  const binary_job *j = ctx;
  for (int64_t c = begin; c < end; c++) {
    int64_t i1 = (c + 1) * BINARY_CHUNK < j->count ? (c + 1) * BINARY_CHUNK : j->count;
    for (int64_t i = c * BINARY_CHUNK; i < i1; i += 16) {
      store_part(j->y, i, i1, apply(j->op, load_part(j->a, i, i1, 1.0f), load_b(j, i, i1)));
    }
  }
}

void tdm_rows_binary_f32(const float *a, const float *b, float *y, int64_t count, int64_t b_count, int64_t op) {
  binary_job j = {a, b, y, count, b_count, op};
  parallel(binary_task, &j, (count + BINARY_CHUNK - 1) / BINARY_CHUNK, count);
}
