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

/* ---- Eight rows at a time (the x8 encodings, qkernels.h) ---------------------------
 * Lane r of every vector is row r of the group: a 32-byte load holds four elements of
 * each row, x's same four elements are broadcast to every lane, and vpmaddubsw +
 * vpmaddwd leave row r's sum in lane r. The scales load as vectors (vcvtph2ps), and
 * the block's contribution goes into the eight row sums with two FMAs: no horizontal
 * sums, about a third of the instructions per weight byte of the row kernels above,
 * which measured 1.5x the bandwidth on one core (Zen 3). */

/* Each record's lines are asked for this far ahead: the hardware prefetcher alone
 * left decode 10-15% slower (SmolLM2 Q4_1 on 2 threads, Zen 3: 210-226 tok/s without,
 * 245-268 with 1 or 2 KiB; 512 B and 4 KiB measured between). */
#define PREFETCH_BYTES 1024

INLINE __m256i bcast4(const int8_t *q) {
  int32_t v;
  __builtin_memcpy(&v, q, 4);
  return _mm256_set1_epi32(v);
}

/* sum_j w_j q_j of one record: lane r = row r. */
INLINE __m256i dot_record(int kind, const uint8_t *p, const int8_t *q, int32_t isum) {
  if (kind == Q8_0) {
    __m256i acc = _mm256_setzero_si256();
    for (int s = 0; s < 8; s++) {
      __m256i w = _mm256_loadu_si256((const __m256i *)(p + 32 * s)), x = bcast4(q + 4 * s);
      __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
    }
    return acc;
  }
  /* Nibbles times q: each pair sum is at most 2 * 15 * 127, so the eight of them
   * add up in 16 bits (30480 < 32767) before one vpmaddwd. */
  __m256i lo16 = _mm256_setzero_si256(), hi16 = _mm256_setzero_si256(), m4 = _mm256_set1_epi8(15);
  for (int s = 0; s < 4; s++) {
    __m256i v = _mm256_loadu_si256((const __m256i *)(p + 32 * s));
    __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    lo16 = _mm256_add_epi16(lo16, _mm256_maddubs_epi16(lo, bcast4(q + 4 * s)));
    hi16 = _mm256_add_epi16(hi16, _mm256_maddubs_epi16(hi, bcast4(q + 16 + 4 * s)));
  }
  __m256i acc = _mm256_madd_epi16(_mm256_add_epi16(lo16, hi16), _mm256_set1_epi16(1));
  /* q4_0: sum (n - 8) q = sum n q - 8 sum q, exactly */
  return kind == Q4_0 ? _mm256_sub_epi32(acc, _mm256_set1_epi32(8 * isum)) : acc;
}

INLINE void groups(int kind, const tdm_xq_block *xq, const uint8_t *w, float *y, int64_t n0, int64_t n1, int64_t K) {
  int64_t nb = K / 32, rb = kind == Q8_0 ? 272 : kind == Q4_0 ? 144 : 160, qbytes = kind == Q8_0 ? 256 : 128;
  for (int64_t g = n0 / 8; g * 8 < n1; g++) {
    const uint8_t *p = w + g * nb * rb;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++, p += rb) {
      for (int64_t o = 0; o < rb; o += 64) _mm_prefetch((const char *)(p + PREFETCH_BYTES + o), _MM_HINT_T0);
      __m256 s = _mm256_cvtepi32_ps(dot_record(kind, p, xq[b].q, xq[b].isum));
      __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + qbytes)));
      acc = _mm256_fmadd_ps(s, _mm256_mul_ps(d, _mm256_set1_ps(xq[b].d)), acc);
      if (kind == Q4_1)
        acc = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 144))), _mm256_set1_ps(xq[b].s), acc);
    }
    if (g * 8 + 8 <= n1) {
      _mm256_storeu_ps(y + g * 8, acc);
      continue;
    }
    float last[8];
    _mm256_storeu_ps(last, acc);
    for (int64_t r = 0; g * 8 + r < n1; r++) y[g * 8 + r] = last[r];
  }
}

void tdm_qx86_dot_groups_q8_0(const tdm_xq_block *xq, const uint8_t *w, float *y, int64_t n0, int64_t n1, int64_t K) {
  groups(Q8_0, xq, w, y, n0, n1, K);
}

void tdm_qx86_dot_groups_q4_0(const tdm_xq_block *xq, const uint8_t *w, float *y, int64_t n0, int64_t n1, int64_t K) {
  groups(Q4_0, xq, w, y, n0, n1, K);
}

void tdm_qx86_dot_groups_q4_1(const tdm_xq_block *xq, const uint8_t *w, float *y, int64_t n0, int64_t n1, int64_t K) {
  groups(Q4_1, xq, w, y, n0, n1, K);
}
