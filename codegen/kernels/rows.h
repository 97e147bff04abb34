/* Row-wise and element-wise f32 kernels (rows.c) for the ops around the GEMMs of a
 * transformer that MLIR's generated code would run on one thread: softmax and MVN
 * over the last axis, and swish. Linked into the model as bitcode like the other
 * kernels (codegen/kernel_link.c), called from codegen/lower_graph.c, and split over
 * the runtime's pool by rows (swish: by chunks of elements).
 *
 * x and y are row-major [rows, n] (swish: count elements) and may not overlap. */
#ifndef TANDEM_CODEGEN_KERNELS_ROWS_H
#define TANDEM_CODEGEN_KERNELS_ROWS_H

#include <stdint.h>

/* y[r, j] = exp(x[r, j] - max_r) / sum_j exp(x[r, j] - max_r); a row holding a NaN
 * gives NaNs. */
void tdm_rows_softmax_f32(const float *x, float *y, int64_t rows, int64_t n);

/* y = x / (1 + exp(-beta x)). */
void tdm_rows_swish_f32(const float *x, float *y, int64_t count, float beta);
/* y [rows, n] = swish(g) * u (SwiGLU's gate by its up projection), as the two ops one
 * after the other would round it, in one pass; row r of g starts at g + g_off + r *
 * g_stride (u likewise), so that the halves of a fused GEMM's output are read in place. */
void tdm_rows_swiglu_f32(const float *g, const float *u, float *y, int64_t rows, int64_t n, int64_t g_off,
                         int64_t g_stride, int64_t u_off, int64_t u_stride, float beta);

/* y[r] = scale * sum_j x[r, j] (ReduceSum, or ReduceMean with scale 1 / n). */
void tdm_rows_sum_f32(const float *x, float *y, int64_t rows, int64_t n, float scale);

/* OpenVINO's MVN over each row: c = x - mean; with TDM_MVN_VARIANCE, y = c / den,
 * den = sqrt(var + eps) with TDM_MVN_INSIDE_SQRT, else sqrt(var) + eps, var the mean
 * of c^2; without it, y = c. */
#define TDM_MVN_VARIANCE 1
#define TDM_MVN_INSIDE_SQRT 2
void tdm_rows_mvn_f32(const float *x, float *y, int64_t rows, int64_t n, float eps, int64_t flags);

/* Data movement: y [d0, d1, d2, inner] row-major, row (i0, i1, i2) copied from the
 * inner contiguous floats of x at base + i0 s0 + i1 s1 + i2 s2 (a slice, or a
 * transpose that keeps the last axis, of up to four dims). */
void tdm_rows_copy_f32(const float *x, float *y, int64_t d0, int64_t d1, int64_t d2, int64_t s0, int64_t s1,
                       int64_t s2, int64_t base, int64_t inner);

/* y = a OP b element by element over count elements, b repeated every b_count
 * elements (b_count divides count: b is y's trailing dims, broadcast over the
 * leading ones, or one element); OP: TDM_ROWS_ADD, _SUB, _MUL, _DIV (IEEE single, as
 * the generated code computes them). */
enum { TDM_ROWS_ADD, TDM_ROWS_SUB, TDM_ROWS_MUL, TDM_ROWS_DIV };
void tdm_rows_binary_f32(const float *a, const float *b, float *y, int64_t count, int64_t b_count, int64_t op);

#endif
