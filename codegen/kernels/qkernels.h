/* Kernels over block-encoded weights: GEMM/GEMV and embedding rows, dequantising in
 * registers. Written in portable C with vector extensions (qkernels.c), compiled to
 * LLVM bitcode at build time, embedded in tandemc, and linked into each model's LLVM
 * module, where they are inlined and optimised for the model's target CPU
 * (codegen/kernel_link.c). The lowered code calls them from codegen/lower_kernels.c.
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

/* y [M, N] = x [M, K] . W^T: x and y row-major f32, W as above. */
void tdm_qmatmul_q8_0(const float *x, const uint8_t *w, float *y, int64_t M, int64_t N, int64_t K);
void tdm_qmatmul_q4_0(const float *x, const uint8_t *w, float *y, int64_t M, int64_t N, int64_t K);
void tdm_qmatmul_q4_1(const float *x, const uint8_t *w, float *y, int64_t M, int64_t N, int64_t K);
void tdm_qmatmul_f16(const float *x, const uint8_t *w, float *y, int64_t M, int64_t N, int64_t K);
void tdm_qmatmul_bf16(const float *x, const uint8_t *w, float *y, int64_t M, int64_t N, int64_t K);

/* out [T, K] = rows ids[0..T) of W [N, K], dequantised. An id below 0 counts from the
 * end (id + N, as tdm.gather does); one still outside [0, N) gives a row of zeros. */
void tdm_qgather_q8_0(const uint8_t *w, const int32_t *ids, float *out, int64_t T, int64_t N, int64_t K);
void tdm_qgather_q4_0(const uint8_t *w, const int32_t *ids, float *out, int64_t T, int64_t N, int64_t K);
void tdm_qgather_q4_1(const uint8_t *w, const int32_t *ids, float *out, int64_t T, int64_t N, int64_t K);
void tdm_qgather_f16(const uint8_t *w, const int32_t *ids, float *out, int64_t T, int64_t N, int64_t K);
void tdm_qgather_bf16(const uint8_t *w, const int32_t *ids, float *out, int64_t T, int64_t N, int64_t K);

#endif
