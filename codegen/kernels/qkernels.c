/* The block-weight kernels (interface and formats in qkernels.h).
 *
 * Compiled by clang to bitcode for a generic x86-64 (or whatever the build host is)
 * and re-optimised inside each model for its target CPU: the code is written in
 * 16-lane vectors (clang vector extensions) that LLVM maps to one zmm register
 * with AVX-512, two ymm with AVX2, four xmm otherwise. No intrinsics, no libc.
 *
 * One block of 32 weights decodes into two vectors, elements 0..15 and 16..31
 * (which is also how the nibble formats split a byte). Few rows of x (decode, M = 1,
 * and M < 16): a tile of MT rows of x by NT rows of W keeps MT x NT accumulators in
 * registers across K, each x block loaded once per NT weight rows. Many rows
 * (prefill): 16 weight rows at a time are decoded once into a float panel, which a
 * dense register-blocked loop then runs every row of x against.
 *
 * Two facts about the target come from codegen/kernel_link.c, which defines them as
 * constants in the model's module, so that the branches on them fold away: whether
 * it converts halves in hardware (F16C: the block scales, F16 weights), and its
 * widest vector registers, which size the tiles (16 zmm accumulators and their
 * operands fit in 32 registers; with 16 ymm registers, half the tile). */
#include "codegen/kernels/qkernels.h"

#include "codegen/kernels/kutil.h"

extern const int tdm_kernel_vector_bits; /* 512, 256 or 128 */
extern const int tdm_kernel_dynamic_quant; /* 1: quantise x for q8_0/q4_0/q4_1 below PANEL_MIN_ROWS rows */
extern const int tdm_kernel_avx2;          /* 1: qkernels_x86.c is linked in */

/* The x8 kinds are their base kind (kind - X8) repacked (qkernels.h). */
enum { Q8_0, Q4_0, Q4_1, F16, BF16, Q8_0X8, Q4_0X8, Q4_1X8, X8 = Q8_0X8 };

/* Bytes of one block (x8: of one record, eight rows' blocks). */
INLINE int64_t block_bytes(int kind) {
  switch (kind) {
    case Q8_0: return 34;
    case Q4_0: return 18;
    case Q4_1: return 20;
    case Q8_0X8: return TDM_X8_BYTES_Q8_0;
    case Q4_0X8: return TDM_X8_BYTES_Q4_0;
    case Q4_1X8: return TDM_X8_BYTES_Q4_1;
    default: return 64;
  }
}

INLINE uint16_t load_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* One block of 32 weights -> lo (elements 0..15) and hi (16..31). */
INLINE void decode(int kind, const uint8_t *b, f32x16 *lo, f32x16 *hi) {
  if (kind == Q8_0) {
    float d = half_to_f32(load_u16(b));
    i8x16 q0, q1;
    __builtin_memcpy(&q0, b + 2, 16);
    __builtin_memcpy(&q1, b + 18, 16);
    *lo = __builtin_convertvector(q0, f32x16) * d;
    *hi = __builtin_convertvector(q1, f32x16) * d;
  } else if (kind == Q4_0 || kind == Q4_1) {
    float d = half_to_f32(load_u16(b));
    u8x16 q;
    __builtin_memcpy(&q, b + (kind == Q4_1 ? 4 : 2), 16);
    f32x16 l = __builtin_convertvector(q & 15, f32x16), h = __builtin_convertvector(q >> 4, f32x16);
    if (kind == Q4_0) {
      /* d * q - 8 * d: one FMA, and the same float as d * (q - 8) (8d is exact) */
      *lo = l * d + -8.0f * d;
      *hi = h * d + -8.0f * d;
    } else {
      float m = half_to_f32(load_u16(b + 2));
      *lo = l * d + m;
      *hi = h * d + m;
    }
  } else {
    u16x16 h0, h1;
    __builtin_memcpy(&h0, b, 32);
    __builtin_memcpy(&h1, b + 32, 32);
    if (kind == F16) {
      *lo = halves_to_f32(h0);
      *hi = halves_to_f32(h1);
    } else {
      *lo = (f32x16)(__builtin_convertvector(h0, u32x16) << 16);
      *hi = (f32x16)(__builtin_convertvector(h1, u32x16) << 16);
    }
  }
}

/* Row n's block b of W (nb blocks a row) -> lo, hi. An x8 record's row is put back
 * together as the block it was (qkernels.h) and decoded as such. */
INLINE void decode_at(int kind, const uint8_t *w, int64_t nb, int64_t n, int64_t b, f32x16 *lo, f32x16 *hi) {
  int64_t bb = block_bytes(kind);
  if (kind < X8) {
    decode(kind, w + (n * nb + b) * bb, lo, hi);
    return;
  }
  const uint8_t *p = w + (n / TDM_X8_ROWS * nb + b) * bb;
  int r = (int)(n % TDM_X8_ROWS), base = kind - X8, steps = base == Q8_0 ? 8 : 4, at = base == Q4_1 ? 4 : 2;
  uint8_t blk[34];
  __builtin_memcpy(blk, p + steps * 32 + 2 * r, 2);
  if (base == Q4_1) __builtin_memcpy(blk + 2, p + 4 * 32 + 16 + 2 * r, 2);
  for (int s = 0; s < steps; s++) __builtin_memcpy(blk + at + 4 * s, p + 32 * s + 4 * r, 4);
  decode(base, blk, lo, hi);
}

#define MT_MAX 4
#define NT_MAX 4

/* y[i, j] for i < mt, j < nt: rows x[0..mt) (stride K) by rows n..n + nt of W. mt and
 * nt are constants after inlining, so acc stays in registers. */
INLINE void tile(int kind, int mt, int nt, const float *restrict x, const uint8_t *restrict w, int64_t n,
                 float *restrict y, int64_t N, int64_t K) {
  f32x16 acc[MT_MAX][NT_MAX];
  for (int i = 0; i < mt; i++)
    for (int j = 0; j < nt; j++) acc[i][j] = (f32x16){0};
  int64_t nb = K / 32, bb = block_bytes(kind);
  for (int64_t b = 0; b < nb; b++) {
    f32x16 xl[MT_MAX], xh[MT_MAX];
    for (int i = 0; i < mt; i++) {
      xl[i] = load_f32(x + i * K + b * 32);
      xh[i] = load_f32(x + i * K + b * 32 + 16);
    }
    for (int j = 0; j < nt; j++) {
      const uint8_t *blk = w + ((n + j) * nb + b) * bb;
      if (kind == Q8_0 && mt == 1) {
        /* one row of x: scale the block's dot product, not its 32 weights */
        i8x16 q0, q1;
        __builtin_memcpy(&q0, blk + 2, 16);
        __builtin_memcpy(&q1, blk + 18, 16);
        f32x16 t = __builtin_convertvector(q0, f32x16) * xl[0];
        t += __builtin_convertvector(q1, f32x16) * xh[0];
        acc[0][j] += half_to_f32(load_u16(blk)) * t;
        continue;
      }
      f32x16 lo, hi;
      decode_at(kind, w, nb, n + j, b, &lo, &hi);
      for (int i = 0; i < mt; i++) {
        acc[i][j] += lo * xl[i]; /* two FMAs */
        acc[i][j] += hi * xh[i];
      }
    }
  }
  for (int i = 0; i < mt; i++)
    for (int j = 0; j < nt; j++) y[i * N + j] = hsum16(acc[i][j]);
}

/* Weight rows [n0, n1) against x rows [0, mt), nt rows of W at a time. */
INLINE void row_panel(int kind, int mt, int nt, const float *x, const uint8_t *w, float *y, int64_t n0, int64_t n1,
                      int64_t N, int64_t K) {
  int64_t n = n0;
  for (; n + nt <= n1; n += nt) tile(kind, mt, nt, x, w, n, y + n, N, K);
  for (; n < n1; n++) tile(kind, mt, 1, x, w, n, y + n, N, K);
}

/* Panels of PANEL weight rows; within one, every tile of MT x rows (and the rest). */
#define PANEL 16
_Static_assert(PANEL % TDM_X8_ROWS == 0, "a share of an x8 weight starts at a group");

/* Prefill, many rows of x: a panel of NR weight rows over KC of K is decoded once
 * into floats, k-major (panel[k * NR + j]), and then every MR rows of x run against
 * it: MR accumulators of NR outputs, each step one panel row, MR broadcasts of x and
 * MR FMAs (the register-blocked loop of a dense GEMM). Decoding is paid once per
 * panel, not once per row of x. */
#define NR 16
_Static_assert(NR == TDM_GEMM_PANEL, "tdm_gemm_f32's packed weight is read as prefill panels");
#define KC 256
#define PANEL_MIN_ROWS 16
#define MR_MAX 16

INLINE void pack_panel(int kind, const uint8_t *w, int64_t nblocks, int64_t n0, int nr, int64_t b0, int nb,
                       float *restrict panel) {
  for (int j = 0; j < nr; j++)
    for (int b = 0; b < nb; b++) {
      f32x16 lo, hi;
      decode_at(kind, w, nblocks, n0 + j, b0 + b, &lo, &hi);
      float *p = panel + b * 32 * NR + j;
      for (int e = 0; e < 16; e++) {
        p[e * NR] = lo[e];
        p[(e + 16) * NR] = hi[e];
      }
    }
  for (int j = nr; j < NR; j++)
    for (int k = 0; k < nb * 32; k++) panel[k * NR + j] = 0.0f;
}

/* y[0..mr, 0..nr) (+)= x[0..mr, 0..kc) . panel, whose rows are ps floats apart (NR when
 * packed); `first`: the first chunk of K. */
INLINE void panel_tile(int mr, const float *restrict x, int64_t K, const float *restrict panel, int64_t ps, int kc,
                       float *restrict y, int64_t N, int nr, int first) {
  f32x16 acc[MR_MAX];
  for (int i = 0; i < mr; i++) acc[i] = (f32x16){0};
  for (int k = 0; k < kc; k++) {
    f32x16 p = load_f32(panel + k * ps);
    for (int i = 0; i < mr; i++) acc[i] += x[i * K + k] * p;
  }
  for (int i = 0; i < mr; i++) {
    if (nr == NR) {
      store_f32(y + i * N, first ? acc[i] : load_f32(y + i * N) + acc[i]);
      continue;
    }
    for (int j = 0; j < nr; j++) y[i * N + j] = first ? acc[i][j] : y[i * N + j] + acc[i][j];
  }
}

/* Every row of x against one panel: tiles of mr rows, the rest (< mr <= 16 rows) in
 * tiles of 8, 4, 2, 1. */
INLINE void panel_rows(int mr, const float *xk, int64_t K, const float *panel, int64_t ps, int kc, float *yn,
                       int64_t M, int64_t N, int nr, int first) {
  int64_t m = 0;
  for (; m + mr <= M; m += mr) panel_tile(mr, xk + m * K, K, panel, ps, kc, yn + m * N, N, nr, first);
  if (M - m >= 8) panel_tile(8, xk + m * K, K, panel, ps, kc, yn + m * N, N, nr, first), m += 8;
  if (M - m >= 4) panel_tile(4, xk + m * K, K, panel, ps, kc, yn + m * N, N, nr, first), m += 4;
  if (M - m >= 2) panel_tile(2, xk + m * K, K, panel, ps, kc, yn + m * N, N, nr, first), m += 2;
  if (M - m >= 1) panel_tile(1, xk + m * K, K, panel, ps, kc, yn + m * N, N, nr, first);
}

INLINE void qmatmul_panels(int kind, int mr, const float *x, const uint8_t *w, float *y, int64_t M, int64_t N,
                           int64_t K, int64_t n_begin, int64_t n_end) {
  float panel[KC * NR] __attribute__((aligned(64)));
  int64_t nblocks = K / 32;
  for (int64_t n0 = n_begin; n0 < n_end; n0 += NR) {
    int nr = n_end - n0 < NR ? (int)(n_end - n0) : NR;
    for (int64_t b0 = 0; b0 < nblocks; b0 += KC / 32) {
      int nb = nblocks - b0 < KC / 32 ? (int)(nblocks - b0) : KC / 32, kc = nb * 32, first = b0 == 0;
      pack_panel(kind, w, nblocks, n0, nr, b0, nb, panel);
      panel_rows(mr, x + b0 * 32, K, panel, NR, kc, y + n0, M, N, nr, first);
    }
  }
}

/* Tiles: rows of x by rows of W for decode (M = 1) and prefill. */
INLINE void qmatmul_tiled(int kind, int nt1, int mt, int nt, const float *x, const uint8_t *w, float *y, int64_t M,
                          int64_t N, int64_t K, int64_t n_begin, int64_t n_end) {
  if (M == 1) {
    row_panel(kind, 1, nt1, x, w, y, n_begin, n_end, N, K);
    return;
  }
  for (int64_t n0 = n_begin; n0 < n_end; n0 += PANEL) {
    int64_t n1 = n0 + PANEL < n_end ? n0 + PANEL : n_end, m = 0;
    for (; m + mt <= M; m += mt) row_panel(kind, mt, nt, x + m * K, w, y + m * N, n0, n1, N, K);
    switch (M - m) {
      case 3: row_panel(kind, 3, nt, x + m * K, w, y + m * N, n0, n1, N, K); break;
      case 2: row_panel(kind, 2, nt, x + m * K, w, y + m * N, n0, n1, N, K); break;
      case 1: row_panel(kind, 1, nt1, x + m * K, w, y + m * N, n0, n1, N, K); break;
      default: break;
    }
  }
}

/* Tile shapes (rows of x x rows of W) measured on AVX2 (Zen 3): with one row of x,
 * Q8_0 runs fastest one weight row at a time (twice as fast as two: its widened
 * lanes fill the 16 ymm registers), the nibble formats two at a time. The AVX-512
 * shapes follow from its 32 registers; they are not measured yet. */
INLINE void qmatmul(int kind, const float *x, const uint8_t *w, float *y, int64_t M, int64_t N, int64_t K,
                    int64_t n_begin, int64_t n_end) {
  int wide = tdm_kernel_vector_bits >= 512;
  if (M >= PANEL_MIN_ROWS) qmatmul_panels(kind, wide ? 12 : 6, x, w, y, M, N, K, n_begin, n_end);
  else if (wide) qmatmul_tiled(kind, 4, 4, 2, x, w, y, M, N, K, n_begin, n_end);
  else qmatmul_tiled(kind, kind == Q8_0 ? 1 : 2, 4, 1, x, w, y, M, N, K, n_begin, n_end);
}

/* ---- Dynamic quantisation (qkernels.h) ---------------------------------------------- */

/* A float rounded to the 11 significant bits of a half (Veltkamp's split: exact IEEE
 * operations, no F16C needed), as ggml stores its activation scales. The half's
 * exponent range is not applied (a scale below 2^-14 keeps its bits). */
INLINE float round_to_half_bits(float v) {
  float c = v * 8193.0f; /* 2^(24 - 11) + 1 */
  return c - (c - v);
}

/* x [M, K] -> M * K / 32 blocks, as ggml's quantize_row_q8_1 makes them (so that
 * decode multiplies the same integers llama.cpp does): id = 127 / max|x|, q =
 * round-half-even(x * id), d = half(max|x| / 127), s = half(max|x| / 127 * sum q).
 * x * id is clamped to +-127 first, so that a NaN or infinite x gives a defined q
 * (and a NaN or infinite d, which carries into y, as the float path would). */
INLINE void quantize_x(const float *x, tdm_xq_block *out, int64_t blocks) {
  for (int64_t b = 0; b < blocks; b++) {
    f32x16 lo = load_f32(x + b * 32), hi = load_f32(x + b * 32 + 16);
    float amax = __builtin_reduce_max(
        __builtin_elementwise_max(__builtin_elementwise_abs(lo), __builtin_elementwise_abs(hi)));
    float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
    int nan = __builtin_reduce_or((lo != lo) | (hi != hi)) != 0; /* max ignores NaN lanes */
    if (nan || !(amax <= 3.4e38f)) d = nan ? __builtin_nanf("") : amax, id = 0.0f; /* d carries it */
    f32x16 lim = (f32x16){0} + 127.0f;
    f32x16 sl = __builtin_elementwise_min(__builtin_elementwise_max(lo * id, -lim), lim);
    f32x16 sh = __builtin_elementwise_min(__builtin_elementwise_max(hi * id, -lim), lim);
    i32x16 ql = __builtin_convertvector(__builtin_elementwise_roundeven(sl), i32x16);
    i32x16 qh = __builtin_convertvector(__builtin_elementwise_roundeven(sh), i32x16);
    i8x16 l8 = __builtin_convertvector(ql, i8x16), h8 = __builtin_convertvector(qh, i8x16);
    __builtin_memcpy(out[b].q, &l8, 16);
    __builtin_memcpy(out[b].q + 16, &h8, 16);
    int32_t isum = __builtin_reduce_add(ql + qh);
    out[b].d = round_to_half_bits(d);
    out[b].isum = isum;
    out[b].s = round_to_half_bits(d * (float)isum);
    out[b].pad = 0;
  }
}

/* sum_j w_j q_j of one weight block and one x block (q4_0: w_j = nibble - 8), in 8
 * integer lanes. The 16-bit products and pair sums cannot overflow: |nibble * q| <=
 * 15 * 127, |int8 * q| <= 128 * 127. */
INLINE i32x8 dot_block(int kind, const uint8_t *blk, i16x16 xl, i16x16 xh) {
  i16x16 p;
  if (kind == Q8_0) {
    i8x16 w0, w1;
    __builtin_memcpy(&w0, blk + 2, 16);
    __builtin_memcpy(&w1, blk + 18, 16);
    p = __builtin_convertvector(w0, i16x16) * xl + __builtin_convertvector(w1, i16x16) * xh;
  } else {
    u8x16 q;
    __builtin_memcpy(&q, blk + (kind == Q4_1 ? 4 : 2), 16);
    i16x16 lo = __builtin_convertvector(q & 15, i16x16), hi = __builtin_convertvector(q >> 4, i16x16);
    if (kind == Q4_0) lo -= 8, hi -= 8;
    p = lo * xl + hi * xh;
  }
  return __builtin_convertvector(__builtin_shufflevector(p, p, 0, 1, 2, 3, 4, 5, 6, 7), i32x8) +
         __builtin_convertvector(__builtin_shufflevector(p, p, 8, 9, 10, 11, 12, 13, 14, 15), i32x8);
}

INLINE float hsum8(f32x8 v) {
  f32x4 a = __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7);
  return (a[0] + a[2]) + (a[1] + a[3]);
}

/* y[0..nt) = nt weight rows by one quantised row of x. */
INLINE void dq_tile(int kind, int nt, const tdm_xq_block *xq, const uint8_t *w, float *y, int64_t K,
                    int64_t row_bytes) {
  f32x8 acc[NT_MAX];
  float accm[NT_MAX];
  for (int j = 0; j < nt; j++) acc[j] = (f32x8){0}, accm[j] = 0.0f;
  int64_t bb = block_bytes(kind);
  for (int64_t b = 0; b < K / 32; b++) {
    i8x16 x0, x1;
    __builtin_memcpy(&x0, xq[b].q, 16);
    __builtin_memcpy(&x1, xq[b].q + 16, 16);
    i16x16 xl = __builtin_convertvector(x0, i16x16), xh = __builtin_convertvector(x1, i16x16);
    for (int j = 0; j < nt; j++) {
      const uint8_t *blk = w + j * row_bytes + b * bb;
      float dw = half_to_f32(load_u16(blk));
      acc[j] += __builtin_convertvector(dot_block(kind, blk, xl, xh), f32x8) * (dw * xq[b].d);
      if (kind == Q4_1) accm[j] += half_to_f32(load_u16(blk + 2)) * xq[b].s;
    }
  }
  for (int j = 0; j < nt; j++) y[j] = hsum8(acc[j]) + accm[j];
}

/* The eight elements of a record's 32 bytes at lanes 4 r + i, r < 8. */
#define ROWS_AT(v, i) __builtin_shufflevector(v, v, i, 4 + i, 8 + i, 12 + i, 16 + i, 20 + i, 24 + i, 28 + i)
#define STEP(v, q, i) (__builtin_convertvector(ROWS_AT(v, i), i32x8) * (int32_t)(q)[i])

/* sum_j w_j q_j of one x8 record (qkernels.h) and one x block: lane r = row r. */
INLINE i32x8 dot_record(int kind, const uint8_t *p, const int8_t *q, int32_t isum) {
  i32x8 acc = {0};
  if (kind == Q8_0X8) {
    for (int s = 0; s < 8; s++) {
      i8x32 v;
      __builtin_memcpy(&v, p + 32 * s, 32);
      acc += STEP(v, q + 4 * s, 0) + STEP(v, q + 4 * s, 1) + STEP(v, q + 4 * s, 2) + STEP(v, q + 4 * s, 3);
    }
    return acc;
  }
  for (int s = 0; s < 4; s++) {
    u8x32 v;
    __builtin_memcpy(&v, p + 32 * s, 32);
    u8x32 lo = v & 15, hi = v >> 4;
    acc += STEP(lo, q + 4 * s, 0) + STEP(lo, q + 4 * s, 1) + STEP(lo, q + 4 * s, 2) + STEP(lo, q + 4 * s, 3);
    acc += STEP(hi, q + 16 + 4 * s, 0) + STEP(hi, q + 16 + 4 * s, 1) + STEP(hi, q + 16 + 4 * s, 2) +
           STEP(hi, q + 16 + 4 * s, 3);
  }
  return kind == Q4_0X8 ? acc - 8 * isum : acc; /* q4_0: sum (n - 8) q = sum n q - 8 sum q */
}

INLINE f32x8 halves8(const uint8_t *p) {
  f32x8 v;
  for (int r = 0; r < 8; r++) v[r] = half_to_f32(load_u16(p + 2 * r));
  return v;
}

/* Rows [n0, n1) of an x8 W (n0 a multiple of 8) by one quantised row of x. */
INLINE void dq_groups(int kind, const tdm_xq_block *xq, const uint8_t *w, float *y, int64_t n0, int64_t n1, int64_t K) {
  int64_t nb = K / 32, rb = block_bytes(kind), qbytes = kind == Q8_0X8 ? 256 : 128;
  for (int64_t g = n0 / TDM_X8_ROWS; g * TDM_X8_ROWS < n1; g++) {
    f32x8 acc = {0};
    for (int64_t b = 0; b < nb; b++) {
      const uint8_t *p = w + (g * nb + b) * rb;
      acc += __builtin_convertvector(dot_record(kind, p, xq[b].q, xq[b].isum), f32x8) * (halves8(p + qbytes) * xq[b].d);
      if (kind == Q4_1X8) acc += halves8(p + qbytes + 16) * xq[b].s;
    }
    for (int r = 0; r < TDM_X8_ROWS && g * TDM_X8_ROWS + r < n1; r++) y[g * TDM_X8_ROWS + r] = acc[r];
  }
}

typedef void (*x86_rows_fn)(const tdm_xq_block *, const uint8_t *, float *, int64_t, int64_t, int64_t, int64_t);
typedef void (*x86_groups_fn)(const tdm_xq_block *, const uint8_t *, float *, int64_t, int64_t, int64_t);

/* Weight rows [n0, n1) by one quantised row of x. */
INLINE void dq_rows(int kind, const tdm_xq_block *xq, const uint8_t *w, float *y, int64_t n0, int64_t n1, int64_t K,
                    int64_t row_bytes) {
  if (kind >= X8) {
    x86_groups_fn g = kind == Q8_0X8   ? tdm_qx86_dot_groups_q8_0
                      : kind == Q4_0X8 ? tdm_qx86_dot_groups_q4_0
                                       : tdm_qx86_dot_groups_q4_1;
    if (tdm_kernel_avx2 && g) g(xq, w, y, n0, n1, K);
    else dq_groups(kind, xq, w, y, n0, n1, K);
    return;
  }
  x86_rows_fn x86 = kind == Q8_0 ? tdm_qx86_dot_rows_q8_0 : kind == Q4_0 ? tdm_qx86_dot_rows_q4_0 : tdm_qx86_dot_rows_q4_1;
  if (tdm_kernel_avx2 && x86) {
    x86(xq, w, y, n0, n1, K, row_bytes);
    return;
  }
  int64_t n = n0;
  for (; n + 2 <= n1; n += 2) dq_tile(kind, 2, xq, w + n * row_bytes, y + n, K, row_bytes);
  for (; n < n1; n++) dq_tile(kind, 1, xq, w + n * row_bytes, y + n, K, row_bytes);
}

/* M (< PANEL_MIN_ROWS) quantised rows of x by weight rows [n_begin, n_end): a panel of
 * PANEL weight rows at a time, which stays in cache while every row of x runs by it. */
INLINE void dq_matmul(int kind, const tdm_xq_block *xq, const uint8_t *w, float *y, int64_t M, int64_t N, int64_t K,
                      int64_t n_begin, int64_t n_end) {
  int64_t row_bytes = K / 32 * block_bytes(kind), nb = K / 32;
  if (M == 1) {
    dq_rows(kind, xq, w, y, n_begin, n_end, K, row_bytes);
    return;
  }
  for (int64_t p0 = n_begin; p0 < n_end; p0 += PANEL) {
    int64_t p1 = p0 + PANEL < n_end ? p0 + PANEL : n_end;
    for (int64_t m = 0; m < M; m++) dq_rows(kind, xq + m * nb, w, y + m * N, p0, p1, K, row_bytes);
  }
}

/* The x blocks live on the stack: at most this many bytes (64 KiB, K up to 43680 for
 * one row); more rows of x than fit go in groups. */
#define XQ_MAX_BLOCKS (65536 / (int64_t)sizeof(tdm_xq_block))

/* ---- Threads ----------------------------------------------------------------------
 * A product is split by weight rows, PANEL at a time (the tiles above never straddle
 * two shares, so each y element is computed as on one thread), over the runtime's
 * pool (kutil.h, parallel). */
typedef struct {
  const float *x;
  const tdm_xq_block *xq; /* x quantised, or NULL */
  const uint8_t *w;
  float *y;
  int64_t M, N, K;
} qmatmul_job;

INLINE void qmatmul_share(int kind, void *ctx, int64_t begin, int64_t end) {
  const qmatmul_job *j = ctx;
  int64_t n1 = end * PANEL < j->N ? end * PANEL : j->N;
  if (j->xq) dq_matmul(kind, j->xq, j->w, j->y, j->M, j->N, j->K, begin * PANEL, n1);
  else qmatmul(kind, j->x, j->w, j->y, j->M, j->N, j->K, begin * PANEL, n1);
}

/* y = x . W^T, split over the pool; x quantised first where qkernels.h says. */
INLINE void qmatmul_run(int kind, task_fn task, const float *x, const uint8_t *w, float *y, int64_t M, int64_t N,
                        int64_t K) {
  int64_t nb = K / 32, items = (N + PANEL - 1) / PANEL;
  int dynamic = tdm_kernel_dynamic_quant && (kind <= Q4_1 || kind >= X8) && M < PANEL_MIN_ROWS && nb <= XQ_MAX_BLOCKS;
  if (!dynamic) {
    qmatmul_job j = {x, 0, w, y, M, N, K};
    parallel(task, &j, items, M * N * K);
    return;
  }
  tdm_xq_block xq[XQ_MAX_BLOCKS];
  int64_t group = XQ_MAX_BLOCKS / nb;
  for (int64_t m0 = 0; m0 < M; m0 += group) {
    int64_t mg = M - m0 < group ? M - m0 : group;
    quantize_x(x + m0 * K, xq, mg * nb);
    qmatmul_job j = {x + m0 * K, xq, w, y + m0 * N, mg, N, K};
    parallel(task, &j, items, mg * N * K);
  }
}

/* ---- Dense f32 weights (qkernels.h, tdm_gemm_f32) -------------------------------------
 * The weight comes packed at compile time as the prefill panels are made at run time
 * for block weights, NR columns k-major: the panel loop reads it in place, KC rows
 * (16 KB) at a time, which stay in L1 while every row of x runs by them. */
INLINE void gemm_f32(int mr, const float *x, const float *wp, float *y, int64_t M, int64_t N, int64_t K,
                     int64_t n_begin, int64_t n_end) {
  for (int64_t n0 = n_begin; n0 < n_end; n0 += NR) {
    int nr = n_end - n0 < NR ? (int)(n_end - n0) : NR;
    const float *panel = wp + n0 * K; /* panel n0 / NR, K * NR floats */
    if (K == 0)
      for (int64_t m = 0; m < M; m++)
        for (int j = 0; j < nr; j++) y[m * N + n0 + j] = 0.0f;
    for (int64_t k0 = 0; k0 < K; k0 += KC) {
      int kc = K - k0 < KC ? (int)(K - k0) : KC;
      panel_rows(mr, x + k0, K, panel + k0 * NR, NR, kc, y + n0, M, N, nr, k0 == 0);
    }
  }
}

static void gemm_f32_task(void *ctx, int64_t begin, int64_t end) {
  const qmatmul_job *j = ctx;
  int64_t n1 = end * PANEL < j->N ? end * PANEL : j->N;
  gemm_f32(tdm_kernel_vector_bits >= 512 ? 12 : 6, j->x, (const float *)(const void *)j->w, j->y, j->M, j->N, j->K,
           begin * PANEL, n1);
}

/* A dense product is compute-bound: below this many multiply-adds (~30 us on one
 * core) waking the pool costs more than a second core saves (measured on the
 * OpenVINO IR transformer block of seq 8, d 64: 0.017 ms on one thread, 0.028 ms on
 * two). The block-weight GEMVs are memory-bound and split from PARALLEL_MIN_MACS. */
#define GEMM_PARALLEL_MIN_MACS (1 << 20)

void tdm_gemm_f32(const float *x, const float *wp, float *y, int64_t M, int64_t N, int64_t K) {
  qmatmul_job j = {x, 0, (const uint8_t *)(const void *)wp, y, M, N, K};
  int64_t items = (N + PANEL - 1) / PANEL;
  if (M * N * K < GEMM_PARALLEL_MIN_MACS) gemm_f32_task(&j, 0, items);
  else parallel(gemm_f32_task, &j, items, M * N * K);
}

/* ---- Products of two activations (qkernels.h, tdm_bmm_f32) --------------------------
 * B is not known at compile time: each item (one matrix of the batch, one panel of NR
 * columns) packs its panel, KC rows at a time, into the stack, zero past N, and runs
 * every row of A against it. */
typedef struct {
  const float *a, *b;
  float *y;
  int64_t M, N, K, panels;
} bmm_job;

static void bmm_f32_task(void *ctx, int64_t begin, int64_t end) {
  const bmm_job *j = ctx;
  float panel[KC * NR] __attribute__((aligned(64)));
  int mr = tdm_kernel_vector_bits >= 512 ? 12 : 6;
  for (int64_t i = begin; i < end; i++) {
    int64_t bt = i / j->panels, n0 = i % j->panels * NR;
    int nr = j->N - n0 < NR ? (int)(j->N - n0) : NR;
    const float *a = j->a + bt * j->M * j->K, *b = j->b + bt * j->K * j->N;
    float *y = j->y + bt * j->M * j->N;
    if (j->K == 0)
      for (int64_t m = 0; m < j->M; m++)
        for (int c = 0; c < nr; c++) y[m * j->N + n0 + c] = 0.0f;
    for (int64_t k0 = 0; k0 < j->K; k0 += KC) {
      int kc = j->K - k0 < KC ? (int)(j->K - k0) : KC;
      for (int k = 0; k < kc; k++)
        for (int c = 0; c < NR; c++) panel[k * NR + c] = c < nr ? b[(k0 + k) * j->N + n0 + c] : 0.0f;
      panel_rows(mr, a + k0, j->K, panel, NR, kc, y + n0, j->M, j->N, nr, k0 == 0);
    }
  }
}

void tdm_bmm_f32(const float *a, const float *b, float *y, int64_t batch, int64_t M, int64_t N, int64_t K) {
  bmm_job j = {a, b, y, M, N, K, (N + NR - 1) / NR};
  int64_t items = batch * j.panels, macs = batch * M * N * K;
  if (macs < GEMM_PARALLEL_MIN_MACS) bmm_f32_task(&j, 0, items);
  else parallel(bmm_f32_task, &j, items, macs);
}

INLINE void qgather(int kind, const uint8_t *w, const int32_t *ids, float *out, int64_t T, int64_t N, int64_t K) {
  for (int64_t t = 0; t < T; t++) {
    int64_t id = ids[t] < 0 ? (int64_t)ids[t] + N : ids[t];
    float *o = out + t * K;
    for (int64_t b = 0; b < K / 32; b++) {
      f32x16 lo = {0}, hi = {0};
      if (id >= 0 && id < N) decode_at(kind, w, K / 32, id, b, &lo, &hi);
      store_f32(o + b * 32, lo);
      store_f32(o + b * 32 + 16, hi);
    }
  }
}

#define KERNELS(NAME, KIND)                                                                              \
  static void qmatmul_task_##NAME(void *ctx, int64_t begin, int64_t end) {                              \
    qmatmul_share(KIND, ctx, begin, end);                                                                \
  }                                                                                                      \
  void tdm_qmatmul_##NAME(const float *x, const uint8_t *w, float *y, int64_t M, int64_t N, int64_t K) { \
    qmatmul_run(KIND, qmatmul_task_##NAME, x, w, y, M, N, K);                                            \
  }                                                                                                      \
  void tdm_qgather_##NAME(const uint8_t *w, const int32_t *ids, float *out, int64_t T, int64_t N,       \
                          int64_t K) {                                                                   \
    qgather(KIND, w, ids, out, T, N, K);                                                                 \
  }

KERNELS(q8_0, Q8_0)
KERNELS(q4_0, Q4_0)
KERNELS(q4_1, Q4_1)
KERNELS(f16, F16)
KERNELS(bf16, BF16)
KERNELS(q8_0x8, Q8_0X8)
KERNELS(q4_0x8, Q4_0X8)
KERNELS(q4_1x8, Q4_1X8)
