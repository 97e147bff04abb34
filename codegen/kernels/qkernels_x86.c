/* The int8 dot products of the decode kernels (qkernels.h, "Dynamic quantisation") in
 * x86 AVX2: vpmaddubsw multiplies 32 unsigned weight bytes by 32 signed x bytes and
 * adds pairs, vpmaddwd adds pairs again, so one block of 32 is three instructions.
 * LLVM does not form these from portable vector code here (knowing the nibbles are
 * small, it narrows the products first), hence intrinsics, in a file of their own.
 *
 * Compiled by clang with -mavx2 -mfma -mf16c to a second bitcode, which codegen/
 * kernel_link.c links into a model only when its target has AVX2 (and then sets
 * tdm_kernel_avx2), so that no other target ever sees an AVX2 instruction. */
#include <immintrin.h>

#include "codegen/kernels/qkernels.h"

enum { Q8_0, Q4_0, Q4_1 };

#define INLINE static inline __attribute__((always_inline))

INLINE float half_at(const uint8_t *p) { return _cvtsh_ss((unsigned short)(p[0] | p[1] << 8)); }

/* sum_j w_j q_j of one block, in 8 lanes of 4 products each. */
INLINE __m256i dot_block(int kind, const uint8_t *blk, __m256i xq) {
  __m256i p16;
  if (kind == Q4_1) {
    /* byte j: element j (low nibble), j + 16 (high) */
    __m128i q = _mm_loadu_si128((const __m128i *)(blk + 4));
    __m256i nib = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(15));
    p16 = _mm256_maddubs_epi16(nib, xq);
  } else {
    /* Signed weights (int8, or nibble - 8): vpmaddubsw wants unsigned bytes first,
     * so |w| times q with w's sign; pairs stay within int16 (2 * 128 * 127). */
    __m256i w;
    if (kind == Q8_0) {
      w = _mm256_loadu_si256((const __m256i *)(blk + 2));
    } else {
      __m128i q = _mm_loadu_si128((const __m128i *)(blk + 2));
      w = _mm256_sub_epi8(_mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(15)),
                          _mm256_set1_epi8(8));
    }
    p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(xq, w));
  }
  return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

INLINE float hsum8(__m256 v) {
  __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  float f[4];
  _mm_storeu_ps(f, a);
  return (f[0] + f[2]) + (f[1] + f[3]);
}

/* One weight row by the quantised x. (Sharing each x block between two or four rows,
 * or splitting the sum over two accumulators, measured slower or no faster on Zen 3:
 * the x block is an L1 load either way.) */
INLINE float row_dot(int kind, const tdm_xq_block *xq, const uint8_t *row, int64_t nb, int64_t bb) {
  __m256 acc = _mm256_setzero_ps();
  float m = 0.0f;
  for (int64_t b = 0; b < nb; b++) {
    const uint8_t *blk = row + b * bb;
    float d = half_at(blk);
    __m256 s = _mm256_cvtepi32_ps(dot_block(kind, blk, _mm256_loadu_si256((const __m256i *)xq[b].q)));
    acc = _mm256_fmadd_ps(s, _mm256_set1_ps(d * xq[b].d), acc);
    if (kind == Q4_1) m += half_at(blk + 2) * xq[b].s;
  }
  return hsum8(acc) + m;
}

INLINE void rows(int kind, const tdm_xq_block *xq, const uint8_t *w, float *y, int64_t n0, int64_t n1, int64_t K,
                 int64_t row_bytes) {
  int64_t nb = K / 32, bb = kind == Q8_0 ? 34 : kind == Q4_0 ? 18 : 20;
  for (int64_t n = n0; n < n1; n++) y[n] = row_dot(kind, xq, w + n * row_bytes, nb, bb);
}

void tdm_qx86_dot_rows_q8_0(const tdm_xq_block *xq, const uint8_t *w, float *y, int64_t n0, int64_t n1, int64_t K,
                            int64_t row_bytes) {
  rows(Q8_0, xq, w, y, n0, n1, K, row_bytes);
}

void tdm_qx86_dot_rows_q4_0(const tdm_xq_block *xq, const uint8_t *w, float *y, int64_t n0, int64_t n1, int64_t K,
                            int64_t row_bytes) {
  rows(Q4_0, xq, w, y, n0, n1, K, row_bytes);
}

void tdm_qx86_dot_rows_q4_1(const tdm_xq_block *xq, const uint8_t *w, float *y, int64_t n0, int64_t n1, int64_t K,
                            int64_t row_bytes) {
  rows(Q4_1, xq, w, y, n0, n1, K, row_bytes);
}
