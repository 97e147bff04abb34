/* What the kernels (qkernels.c, attention.c) share: vector types, loads and stores,
 * half conversions, horizontal sums, and the runtime's thread pool.
 *
 * The kernels are compiled by clang to bitcode for no CPU in particular and
 * re-optimised inside each model for its target: code is written in 16-lane vectors
 * (clang vector extensions) that LLVM maps to one zmm register with AVX-512, two ymm
 * with AVX2, four xmm otherwise. No intrinsics, no libc. A fact about the target comes
 * from codegen/kernel_link.c as a constant, so that the branches on it fold away:
 * whether it converts halves in hardware (F16C). */
#ifndef TANDEM_CODEGEN_KERNELS_KUTIL_H
#define TANDEM_CODEGEN_KERNELS_KUTIL_H

#include <stdint.h>

extern const int tdm_kernel_f16c; /* 1: convert halves with the hardware */

typedef float f32x16 __attribute__((vector_size(64)));
typedef float f32x8 __attribute__((vector_size(32)));
typedef float f32x4 __attribute__((vector_size(16)));
typedef int32_t i32x16 __attribute__((vector_size(64)));
typedef int32_t i32x8 __attribute__((vector_size(32)));
typedef int16_t i16x16 __attribute__((vector_size(32)));
typedef uint32_t u32x16 __attribute__((vector_size(64)));
typedef uint16_t u16x16 __attribute__((vector_size(32)));
typedef uint8_t u8x16 __attribute__((vector_size(16)));
typedef int8_t i8x16 __attribute__((vector_size(16)));
typedef uint8_t u8x32 __attribute__((vector_size(32)));
typedef int8_t i8x32 __attribute__((vector_size(32)));
typedef _Float16 f16x16 __attribute__((vector_size(32)));

#define INLINE static inline __attribute__((always_inline))

/* Unaligned vector loads, as memcpy (which clang turns into one load). */
INLINE f32x16 load_f32(const float *p) {
  f32x16 v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

INLINE void store_f32(float *p, f32x16 v) { __builtin_memcpy(p, &v, sizeof v); }

/* IEEE half -> float without F16C: the exponent and mantissa moved into a float's
 * place and scaled by 2^(127 - 15) (exact for normals and subnormals); Inf and NaN
 * get the float's all-ones exponent. */
INLINE f32x16 halves_to_f32(u16x16 h) {
  if (tdm_kernel_f16c) return __builtin_convertvector((f16x16)h, f32x16);
  u32x16 x = __builtin_convertvector(h, u32x16);
  u32x16 em = (x & 0x7fff) << 13;
  f32x16 f = (f32x16)em * 0x1p112f;
  u32x16 special = (u32x16)((x & 0x7c00) == 0x7c00);
  u32x16 bits = ((u32x16)f & ~special) | ((em | 0x7f800000u) & special);
  return (f32x16)(bits | (x & 0x8000) << 16);
}

INLINE float half_to_f32(uint16_t h) {
  if (tdm_kernel_f16c) {
    _Float16 v;
    __builtin_memcpy(&v, &h, 2);
    return (float)v;
  }
  uint32_t em = (uint32_t)(h & 0x7fff) << 13, bits;
  float f;
  __builtin_memcpy(&f, &em, 4);
  f *= 0x1p112f;
  __builtin_memcpy(&bits, &f, 4);
  if ((h & 0x7c00) == 0x7c00) bits = em | 0x7f800000u;
  bits |= (uint32_t)(h & 0x8000) << 16;
  __builtin_memcpy(&f, &bits, 4);
  return f;
}

/* float -> IEEE half, rounded to nearest even; without F16C in integer steps: a
 * normal half by adding the exponent bias difference and a rounding bias to the
 * float's bits, a subnormal one (or zero) by letting a float addition of 0.5 round
 * the mantissa; too large gives Inf, NaN stays NaN. */
INLINE u16x16 f32_to_halves(f32x16 f) {
  if (tdm_kernel_f16c) return (u16x16)__builtin_convertvector(f, f16x16);
  u32x16 x = (u32x16)f, sign = (x >> 16) & 0x8000;
  x &= 0x7fffffffu;
  u32x16 odd = (x >> 13) & 1;
  u32x16 normal = (x + 0xc8000fffu + odd) >> 13; /* (15 - 127) << 23, plus 0xfff + odd */
  u32x16 sub = (u32x16)((f32x16)x + 0.5f) - 0x3f000000u;
  u32x16 big = (u32x16)(x >= 0x47800000u), nan = (u32x16)(x > 0x7f800000u), small = (u32x16)(x < 0x38800000u);
  u32x16 h = (normal & ~small) | (sub & small);
  h = (h & ~big) | (((0x7c00u & ~nan) | (0x7e00u & nan)) & big);
  return __builtin_convertvector(h | sign, u16x16);
}

INLINE float hsum16(f32x16 v) {
  f32x8 a = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
            __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  f32x4 b = __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
  return (b[0] + b[2]) + (b[1] + b[3]);
}

/* exp(x) for a vector: x = n ln2 + r, |r| <= ln2 / 2, e^r by its Taylor series to r^7
 * (relative error below 2e-7), times 2^n built in the exponent bits. Arguments below
 * -87 give 0 and above 88 are clamped (scores minus their maximum are never positive). */
INLINE f32x16 vexp(f32x16 x) {
  x = __builtin_elementwise_min(x, (f32x16){} + 88.0f);
  i32x16 tiny = x < -87.0f;
  x = __builtin_elementwise_max(x, (f32x16){} - 87.0f);
  f32x16 n = __builtin_elementwise_roundeven(x * 1.44269504088896341f);
  f32x16 r = x - n * 0.693145751953125f - n * 1.42860682030941723e-6f;
  f32x16 p = (f32x16){} + 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  i32x16 e = (__builtin_convertvector(n, i32x16) + 127) << 23;
  return (f32x16)((i32x16)(p * (f32x16)e) & ~tiny);
}

/* ---- Threads ----------------------------------------------------------------------
 * Work is split over the runtime's pool (include/tandem/runtime.h). The reference is
 * weak: a model linked without the runtime runs on the calling thread. */
typedef void (*task_fn)(void *ctx, int64_t begin, int64_t end);
extern void tandem_parallel_for(int64_t items, task_fn fn, void *ctx) __attribute__((weak));

/* Below this many multiply-adds a region costs more than it saves. */
#define PARALLEL_MIN_MACS (64 * 1024)

INLINE void parallel(task_fn fn, void *ctx, int64_t items, int64_t macs) {
  if (tandem_parallel_for && items > 1 && macs >= PARALLEL_MIN_MACS) tandem_parallel_for(items, fn, ctx);
  else fn(ctx, 0, items);
}

#endif
