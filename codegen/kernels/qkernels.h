/* Kernels over block-encoded weights: GEMM/GEMV and embedding rows, dequantising in
 * registers; and the same GEMM over a dense f32 weight. Written in portable C with
 * vector extensions (qkernels.c), compiled to LLVM bitcode at build time, embedded in
 * tandemc, and linked into each model's LLVM module, where they are inlined and
 * optimised for the model's target CPU (codegen/kernel_link.c). The lowered code calls
 * them from codegen/lower_kernels.c.
 *
 * A weight W [N, K] is stored as ggml stores a matrix: N rows, each K / 32 blocks of
 * 32 consecutive elements in one of these encodings (facts of ggml's formats):
 *   q8_0  34 bytes: f16 d, 32 x int8 q                   w = d * q
 *   q4_0  18 bytes: f16 d, 16 bytes of nibbles           w = d * (q - 8)
 *   q4_1  20 bytes: f16 d, f16 m, 16 bytes of nibbles    w = d * q + m
 *   f16   64 bytes: 32 x IEEE half
 *   bf16  64 bytes: 32 x bfloat16
 * In the nibble formats byte j holds element j (low nibble) and j + 16 (high). All
 * values are little-endian. K must be a multiple of 32. */
#ifndef TANDEM_CODEGEN_KERNELS_QKERNELS_H
#define TANDEM_CODEGEN_KERNELS_QKERNELS_H

#include <stdint.h>

/* ---- Rows interleaved by eight (the x8 encodings) ----------------------------------
 * tandemc repacks q8_0, q4_0 and q4_1 matrices at compile time (codegen/quantize.c,
 * qz_repack_x8) so that decode's integer dot products take eight rows at once: the
 * rows in groups of TDM_X8_ROWS (N rounded up, the padding rows all zero bytes), and
 * in a group, block b of its eight rows as one record, records in the order (group,
 * block): group g's block b at (g * K / 32 + b) * TDM_X8_BYTES(enc).
 *   q8_0x8  272 bytes: int8 elements, byte 32 s + 4 r + i = element 4 s + i of the
 *           group's row r (s < 8, i < 4); then the eight rows' f16 d
 *   q4_0x8  144 bytes: nibbles, byte 32 s + 4 r + i = element 4 s + i of row r (low
 *           nibble) and element 16 + 4 s + i (high) (s < 4); then the eight f16 d
 *   q4_1x8  160 bytes: the same nibbles; the eight f16 d; the eight f16 m
 * So four bytes, one 32-bit lane, hold four consecutive elements of one row, and 32
 * bytes the same four elements of all eight rows: multiplied by x's four elements
 * (broadcast), lane r sums row r's products, and no horizontal sum is needed. */
#define TDM_X8_ROWS 8
#define TDM_X8_BYTES_Q8_0 272
#define TDM_X8_BYTES_Q4_0 144
#define TDM_X8_BYTES_Q4_1 160

/* y [M, N] = x [M, K] . W^T: x and y row-major f32, W as above. */
void tdm_qmatmul_q8_0(const float *x, const uint8_t *w, float *y, int64_t M, int64_t N, int64_t K);
void tdm_qmatmul_q4_0(const float *x, const uint8_t *w, float *y, int64_t M, int64_t N, int64_t K);
void tdm_qmatmul_q4_1(const float *x, const uint8_t *w, float *y, int64_t M, int64_t N, int64_t K);
void tdm_qmatmul_f16(const float *x, const uint8_t *w, float *y, int64_t M, int64_t N, int64_t K);
void tdm_qmatmul_bf16(const float *x, const uint8_t *w, float *y, int64_t M, int64_t N, int64_t K);
void tdm_qmatmul_q8_0x8(const float *x, const uint8_t *w, float *y, int64_t M, int64_t N, int64_t K);
void tdm_qmatmul_q4_0x8(const float *x, const uint8_t *w, float *y, int64_t M, int64_t N, int64_t K);
void tdm_qmatmul_q4_1x8(const float *x, const uint8_t *w, float *y, int64_t M, int64_t N, int64_t K);

/* y [M, N] = x [M, K] . Wt for a dense f32 weight Wt [K, N], which comes packed in panels
 * of TDM_GEMM_PANEL columns: wp [ceil(N / 16), K, 16], panel p holding columns 16p ..
 * 16p + 15 row after row, zero past N (codegen/lower_graph.c packs it at compile
 * time). The prefill GEMM's register-blocked loop, split over the pool by panels. */
#define TDM_GEMM_PANEL 16
void tdm_gemm_f32(const float *x, const float *wp, float *y, int64_t M, int64_t N, int64_t K);

/* y[i] [M, N] = a[i] [M, K] . b[i] [K, N] for i < batch, every matrix row-major and
 * the batch contiguous: a product of two activations (attention's scores and their
 * weighted sum in graphs from OpenVINO IR), the same loop over panels of b packed at
 * run time, split over the pool by (matrix, panel). */
void tdm_bmm_f32(const float *a, const float *b, float *y, int64_t batch, int64_t M, int64_t N, int64_t K);

/* out [T, K] = rows ids[0..T) of W [N, K], dequantised. An id below 0 counts from the
 * end (id + N, as tdm.gather does); one still outside [0, N) gives a row of zeros. */
void tdm_qgather_q8_0(const uint8_t *w, const int32_t *ids, float *out, int64_t T, int64_t N, int64_t K);
void tdm_qgather_q4_0(const uint8_t *w, const int32_t *ids, float *out, int64_t T, int64_t N, int64_t K);
void tdm_qgather_q4_1(const uint8_t *w, const int32_t *ids, float *out, int64_t T, int64_t N, int64_t K);
void tdm_qgather_f16(const uint8_t *w, const int32_t *ids, float *out, int64_t T, int64_t N, int64_t K);
void tdm_qgather_bf16(const uint8_t *w, const int32_t *ids, float *out, int64_t T, int64_t N, int64_t K);
void tdm_qgather_q8_0x8(const uint8_t *w, const int32_t *ids, float *out, int64_t T, int64_t N, int64_t K);
void tdm_qgather_q4_0x8(const uint8_t *w, const int32_t *ids, float *out, int64_t T, int64_t N, int64_t K);
void tdm_qgather_q4_1x8(const uint8_t *w, const int32_t *ids, float *out, int64_t T, int64_t N, int64_t K);

/* ---- Dynamic quantisation of x (decode) ---------------------------------------------
 * With tdm_kernel_dynamic_quant set, a product of fewer than 16 rows of x by a q8_0,
 * q4_0 or q4_1 weight first quantises each 32-element block of x to int8, as
 * llama.cpp (ggml's Q8_1 blocks) and OpenVINO's CPU plugin (dynamic quantisation,
 * groups of 32) do: q = round-half-even(x * 127 / max|x|) (0 when max|x| is 0),
 * d = max|x| / 127 and s = d * sum q, both rounded to half precision as ggml stores
 * them; then
 *   y = sum over blocks of  d_w * d * sum_j w_j q_j  (+ m_w * s for q4_1)
 * where w_j is the weight's integer (q4_0: nibble - 8), with integer dot products:
 * two to four times fewer instructions than dequantising the weights to floats. */
typedef struct tdm_xq_block {
  float d;      /* the block's scale */
  float s;      /* d * isum, rounded as d is */
  int32_t isum; /* sum of q */
  int32_t pad;
  int8_t q[32];
} tdm_xq_block;

/* The x86 AVX2 versions (qkernels_x86.c), linked into a model only when its target
 * has AVX2: rows [n0, n1) of W (row_bytes apart) by one quantised row of x into
 * y[n0..n1); for the x8 encodings, n0 a multiple of TDM_X8_ROWS and W the whole
 * repacked matrix. Weak: where they are not linked, their address is null. */
#define TDM_KERNEL_WEAK __attribute__((weak))
TDM_KERNEL_WEAK void tdm_qx86_dot_rows_q8_0(const tdm_xq_block *xq, const uint8_t *w, float *y, int64_t n0, int64_t n1, int64_t K,
                            int64_t row_bytes);
TDM_KERNEL_WEAK void tdm_qx86_dot_rows_q4_0(const tdm_xq_block *xq, const uint8_t *w, float *y, int64_t n0, int64_t n1, int64_t K,
                            int64_t row_bytes);
TDM_KERNEL_WEAK void tdm_qx86_dot_rows_q4_1(const tdm_xq_block *xq, const uint8_t *w, float *y, int64_t n0, int64_t n1, int64_t K,
                            int64_t row_bytes);
TDM_KERNEL_WEAK void tdm_qx86_dot_groups_q8_0(const tdm_xq_block *xq, const uint8_t *w, float *y, int64_t n0, int64_t n1,
                                              int64_t K);
TDM_KERNEL_WEAK void tdm_qx86_dot_groups_q4_0(const tdm_xq_block *xq, const uint8_t *w, float *y, int64_t n0, int64_t n1,
                                              int64_t K);
TDM_KERNEL_WEAK void tdm_qx86_dot_groups_q4_1(const tdm_xq_block *xq, const uint8_t *w, float *y, int64_t n0, int64_t n1,
                                              int64_t K);

#endif
