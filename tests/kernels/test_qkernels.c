/* The block-weight kernels (codegen/kernels/qkernels.c and qkernels_x86.c, compiled
 * from the same bitcode tandemc embeds) against a scalar reference that dequantises W
 * to floats, then multiplies in double (within 4e-6 of sum |x w|): every encoding,
 * each of q8_0, q4_0, q4_1 also repacked in x8 records (here, from qkernels.h's
 * description), M = 1 (decode) and M > 1 (prefill tiles, decoded panels, and their remainders), odd
 * row counts, and embedding rows with ids out of range. With dynamic quantisation,
 * the reference quantises x's blocks as qkernels.h specifies (the same float
 * operations, so the same int8 values) and multiplies those. The half conversion is
 * checked on all 65536 values. All of it for each variant the kernels have: halves
 * converted in hardware or not, tiles for 256- or 512-bit vectors, x quantised or
 * not, the AVX2 kernels or the portable ones (where the CPU has AVX2), on one thread
 * and on three. And the dense f32 GEMM (tdm_gemm_f32) over its packed panels, and
 * batches of products of two activations (tdm_bmm_f32). Exit status 0 when all
 * pass. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/kernels/qkernels.h"
#include "tandem/runtime.h"

/* The target facts the kernels branch on (codegen/kernel_link.c makes them constants
 * in a model); here variables, so that every variant runs. */
int tdm_kernel_f16c, tdm_kernel_vector_bits, tdm_kernel_dynamic_quant, tdm_kernel_avx2;

typedef void (*matmul_fn)(const float *, const uint8_t *, float *, int64_t, int64_t, int64_t);
typedef void (*gather_fn)(const uint8_t *, const int32_t *, float *, int64_t, int64_t, int64_t);

typedef struct kind {
  const char *name;
  int block_bytes; /* per 32 elements, as ggml stores them */
  matmul_fn matmul;
  gather_fn gather;
  int x8_bytes;    /* the kernels read W repacked in x8 records of this size; 0: as stored */
} kind;

static const kind kinds[] = {
    {"q8_0", 34, tdm_qmatmul_q8_0, tdm_qgather_q8_0, 0},
    {"q4_0", 18, tdm_qmatmul_q4_0, tdm_qgather_q4_0, 0},
    {"q4_1", 20, tdm_qmatmul_q4_1, tdm_qgather_q4_1, 0},
    {"f16", 64, tdm_qmatmul_f16, tdm_qgather_f16, 0},
    {"bf16", 64, tdm_qmatmul_bf16, tdm_qgather_bf16, 0},
    {"q8_0x8", 34, tdm_qmatmul_q8_0x8, tdm_qgather_q8_0x8, TDM_X8_BYTES_Q8_0},
    {"q4_0x8", 18, tdm_qmatmul_q4_0x8, tdm_qgather_q4_0x8, TDM_X8_BYTES_Q4_0},
    {"q4_1x8", 20, tdm_qmatmul_q4_1x8, tdm_qgather_q4_1x8, TDM_X8_BYTES_Q4_1},
};

static int failures;

static uint32_t rng_state = 12345;
static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}
static float rnd_float(void) { return (float)((int)(rnd() % 20001) - 10000) / 10000.0f; }

/* IEEE half by its definition: (-1)^s * 2^(e-15) * 1.m, subnormals 2^-14 * 0.m. */
static float ref_half(uint16_t h) {
  int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
  double v;
  if (e == 31) v = m ? NAN : INFINITY;
  else if (e == 0) v = ldexp(m / 1024.0, -14);
  else v = ldexp(1.0 + m / 1024.0, e - 15);
  return (float)(s ? -v : v);
}

static float ref_bf16(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

/* A half near `v` (for scales): the nearest of a few candidates is enough here. */
static uint16_t some_half(float v) {
  uint16_t best = 0;
  float err = INFINITY;
  for (uint32_t h = 0; h < 0x7c00; h += 7) {
    float d = fabsf(ref_half((uint16_t)h) - fabsf(v));
    if (d < err) err = d, best = (uint16_t)h;
  }
  return (uint16_t)(best | (v < 0 ? 0x8000 : 0));
}

/* The half nearest v, ties to even, for normal halves (how ggml rounds a scale; the
 * kernels round to 11 significant bits alike). */
static uint16_t some_half_exact(float v) {
  _Float16 h = (_Float16)v;
  uint16_t bits;
  memcpy(&bits, &h, 2);
  return bits;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Random W [N, K] in kind k, and its dequantised floats. */
static void make_weights(const kind *k, int64_t N, int64_t K, uint8_t *w, float *deq) {
  static uint16_t scales[64];
  static int have_scales;
  if (!have_scales) {
    for (int i = 0; i < 64; i++) scales[i] = some_half(rnd_float() * 0.1f);
    have_scales = 1;
  }
  for (int64_t r = 0; r < N; r++)
    for (int64_t b = 0; b < K / 32; b++) {
      uint8_t *p = w + (r * (K / 32) + b) * k->block_bytes;
      float *o = deq + r * K + b * 32;
      if (k->block_bytes == 64) {
        for (int j = 0; j < 32; j++) {
          uint16_t h = (uint16_t)(rnd() & 0xffff);
          if (k->name[0] == 'f') h = (uint16_t)(h & 0xbfff); /* |v| < 2: no Inf, NaN */
          else h = (uint16_t)((h & 0x807f) | 0x3c00);        /* bf16 in [1, 2) and negatives */
          put16(p + 2 * j, h);
          o[j] = k->name[0] == 'f' ? ref_half(h) : ref_bf16(h);
        }
        continue;
      }
      uint16_t dh = scales[rnd() % 64], mh = scales[rnd() % 64];
      float d = ref_half(dh), m = ref_half(mh);
      put16(p, dh);
      if (k->block_bytes == 34) {
        for (int j = 0; j < 32; j++) {
          int8_t q = (int8_t)(rnd() & 0xff);
          p[2 + j] = (uint8_t)q;
          o[j] = d * (float)q;
        }
        continue;
      }
      int has_min = k->block_bytes == 20;
      if (has_min) put16(p + 2, mh);
      uint8_t *q = p + (has_min ? 4 : 2);
      for (int j = 0; j < 16; j++) {
        q[j] = (uint8_t)(rnd() & 0xff);
        int lo = q[j] & 15, hi = q[j] >> 4;
        o[j] = has_min ? d * (float)lo + m : d * (float)(lo - 8);
        o[j + 16] = has_min ? d * (float)hi + m : d * (float)(hi - 8);
      }
    }
}

/* W [N, K] as the kernels of kind k read it: as stored, or in x8 records (qkernels.h:
 * rows in groups of 8, zero rows after N; per (group, block) the elements as 4-byte
 * lanes of the group's rows, then the f16 d, then (q4_1) the f16 m). Caller frees. */
static uint8_t *kernel_layout(const kind *k, const uint8_t *w, int64_t N, int64_t K) {
  int64_t nb = K / 32, groups = (N + 7) / 8, bb = k->block_bytes;
  if (!k->x8_bytes) {
    uint8_t *copy = malloc((size_t)(N * nb * bb));
    memcpy(copy, w, (size_t)(N * nb * bb));
    return copy;
  }
  uint8_t *out = calloc((size_t)(groups * nb * k->x8_bytes), 1);
  int q8 = bb == 34, steps = q8 ? 8 : 4, data = bb == 20 ? 4 : 2;
  for (int64_t n = 0; n < N; n++)
    for (int64_t b = 0; b < nb; b++) {
      const uint8_t *blk = w + (n * nb + b) * bb;
      uint8_t *rec = out + (n / 8 * nb + b) * k->x8_bytes;
      int r = (int)(n % 8);
      for (int s = 0; s < steps; s++)
        for (int i = 0; i < 4; i++) rec[32 * s + 4 * r + i] = blk[data + 4 * s + i];
      memcpy(rec + 32 * steps + 2 * r, blk, 2);
      if (bb == 20) memcpy(rec + 32 * steps + 16 + 2 * r, blk + 2, 2);
    }
  return out;
}

static void check_matmul(const kind *k, int64_t M, int64_t N, int64_t K) {
  uint8_t *w = malloc((size_t)(N * K / 32 * k->block_bytes));
  float *deq = malloc(sizeof(float) * (size_t)(N * K)), *x = malloc(sizeof(float) * (size_t)(M * K));
  float *y = malloc(sizeof(float) * (size_t)(M * N));
  make_weights(k, N, K, w, deq);
  for (int64_t i = 0; i < M * K; i++) x[i] = rnd_float();
  for (int64_t i = 0; i < M * N; i++) y[i] = NAN;
  uint8_t *wk = kernel_layout(k, w, N, K);
  k->matmul(x, wk, y, M, N, K);
  free(wk);
  /* what the kernel multiplies W by: x, or its quantised blocks d * q */
  float *xr = malloc(sizeof(float) * (size_t)(M * K));
  int quantised = tdm_kernel_dynamic_quant && k->block_bytes != 64 && M < 16;
  double *mterm = calloc((size_t)(M * N), sizeof(double)); /* q4_1: m_w * s, s rounded */
  for (int64_t i = 0; i < M * K; i += 32) {
    float amax = 0;
    for (int c = 0; c < 32; c++) amax = fmaxf(amax, fabsf(x[i + c]));
    float id = amax != 0.0f ? 127.0f / amax : 0.0f, d = ref_half(some_half_exact(amax / 127.0f));
    int isum = 0;
    for (int c = 0; c < 32; c++) {
      float q = rintf(fminf(fmaxf(x[i + c] * id, -127.0f), 127.0f));
      isum += (int)q;
      xr[i + c] = quantised ? d * q : x[i + c];
    }
    if (!quantised || k->block_bytes != 20) continue;
    /* q4_1: the kernel adds m_w * half(d * sum q) where the dequantised weights say
     * m_w * d_x * sum q: the difference, per output */
    float s = ref_half(some_half_exact(amax / 127.0f * (float)isum));
    int64_t row = i / K, b = (i % K) / 32;
    for (int64_t j = 0; j < N; j++) {
      float m = ref_half(get16(w + (j * (K / 32) + b) * 20 + 2));
      mterm[row * N + j] += (double)m * ((double)s - (double)d * isum);
    }
  }  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      double ref = 0, mag = 0;
      for (int64_t c = 0; c < K; c++) {
        ref += (double)xr[i * K + c] * deq[j * K + c];
        mag += fabs((double)xr[i * K + c] * deq[j * K + c]);
      }
      ref += mterm[i * N + j];
      double got = y[i * N + j];
      if (!(fabs(got - ref) <= 4e-6 * mag + 1e-30)) {
        if (failures++ < 10)
          fprintf(stderr, "FAIL matmul %s M=%lld N=%lld K=%lld: y[%lld,%lld] = %.9g, expected %.9g\n", k->name,
                  (long long)M, (long long)N, (long long)K, (long long)i, (long long)j, got, ref);
        i = M;
        break;
      }
    }
  free(w), free(deq), free(x), free(y), free(xr), free(mterm);
}

/* tdm_gemm_f32: Wt [K, N] packed as qkernels.h specifies (TDM_GEMM_PANEL columns a
 * panel, k-major, zero past N), against a double product. Any K, K = 0 included. */
static void check_gemm_f32(int64_t M, int64_t N, int64_t K) {
  const int64_t P = TDM_GEMM_PANEL, np = (N + P - 1) / P;
  float *wt = malloc(sizeof(float) * (size_t)(K * N + 1)), *wp = calloc((size_t)(np * K * P + 1), sizeof(float));
  float *x = malloc(sizeof(float) * (size_t)(M * K + 1)), *y = malloc(sizeof(float) * (size_t)(M * N));
  for (int64_t i = 0; i < K * N; i++) wt[i] = rnd_float();
  for (int64_t k = 0; k < K; k++)
    for (int64_t n = 0; n < N; n++) wp[(n / P * K + k) * P + n % P] = wt[k * N + n];
  for (int64_t i = 0; i < M * K; i++) x[i] = rnd_float();
  for (int64_t i = 0; i < M * N; i++) y[i] = NAN;
  tdm_gemm_f32(x, wp, y, M, N, K);
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      double ref = 0, mag = 0;
      for (int64_t c = 0; c < K; c++) {
        ref += (double)x[i * K + c] * wt[c * N + j];
        mag += fabs((double)x[i * K + c] * wt[c * N + j]);
      }
      double got = y[i * N + j];
      if (!(fabs(got - ref) <= 4e-6 * mag + 1e-30)) {
        if (failures++ < 10)
          fprintf(stderr, "FAIL gemm_f32 M=%lld N=%lld K=%lld: y[%lld,%lld] = %.9g, expected %.9g\n", (long long)M,
                  (long long)N, (long long)K, (long long)i, (long long)j, got, ref);
        i = M;
        break;
      }
    }
  free(wt), free(wp), free(x), free(y);
}

/* tdm_bmm_f32: a batch of row-major products against a double product. */
static void check_bmm_f32(int64_t batch, int64_t M, int64_t N, int64_t K) {
  float *a = malloc(sizeof(float) * (size_t)(batch * M * K + 1)), *b = malloc(sizeof(float) * (size_t)(batch * K * N + 1));
  float *y = malloc(sizeof(float) * (size_t)(batch * M * N));
  for (int64_t i = 0; i < batch * M * K; i++) a[i] = rnd_float();
  for (int64_t i = 0; i < batch * K * N; i++) b[i] = rnd_float();
  for (int64_t i = 0; i < batch * M * N; i++) y[i] = NAN;
  tdm_bmm_f32(a, b, y, batch, M, N, K);
  for (int64_t t = 0; t < batch; t++)
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) {
        double ref = 0, mag = 0;
        for (int64_t c = 0; c < K; c++) {
          double p = (double)a[(t * M + i) * K + c] * b[(t * K + c) * N + j];
          ref += p, mag += fabs(p);
        }
        double got = y[(t * M + i) * N + j];
        if (!(fabs(got - ref) <= 4e-6 * mag + 1e-30)) {
          if (failures++ < 10)
            fprintf(stderr, "FAIL bmm_f32 batch=%lld M=%lld N=%lld K=%lld: y[%lld,%lld,%lld] = %.9g, expected %.9g\n",
                    (long long)batch, (long long)M, (long long)N, (long long)K, (long long)t, (long long)i,
                    (long long)j, got, ref);
          t = batch, i = M;
          break;
        }
      }
  free(a), free(b), free(y);
}

static void check_gather(const kind *k, int64_t N, int64_t K) {
  uint8_t *w = malloc((size_t)(N * K / 32 * k->block_bytes));
  float *deq = malloc(sizeof(float) * (size_t)(N * K));
  make_weights(k, N, K, w, deq);
  int32_t ids[7] = {0, (int32_t)N - 1, 2 % (int32_t)N, -1, (int32_t)N, -(int32_t)N - 1, 1 % (int32_t)N};
  float *out = malloc(sizeof(float) * 7 * (size_t)K);
  uint8_t *wk = kernel_layout(k, w, N, K);
  k->gather(wk, ids, out, 7, N, K);
  free(wk);
  for (int t = 0; t < 7; t++) {
    int64_t id = ids[t] < 0 ? ids[t] + N : ids[t];
    for (int64_t c = 0; c < K; c++) {
      /* d * q + m may be one FMA or two roundings, depending on the target */
      float want = id >= 0 && id < N ? deq[id * K + c] : 0.0f, got = out[t * K + c];
      if (!(fabsf(got - want) <= 2.5e-7f * fabsf(want)) || (want == 0 && got != 0)) {
        if (failures++ < 10)
          fprintf(stderr, "FAIL gather %s N=%lld K=%lld: id %d element %lld = %.9g, expected %.9g\n", k->name,
                  (long long)N, (long long)K, ids[t], (long long)c, out[t * K + c], want);
        t = 7;
        break;
      }
    }
  }
  free(w), free(deq), free(out);
}

/* Every half value through the f16 gather (2048 rows of 32). */
static void check_every_half(void) {
  uint8_t *w = malloc(65536 * 2);
  for (uint32_t h = 0; h < 65536; h++) put16(w + 2 * h, (uint16_t)h);
  float *out = malloc(sizeof(float) * 65536);
  int32_t ids[2048];
  for (int i = 0; i < 2048; i++) ids[i] = i;
  tdm_qgather_f16(w, ids, out, 2048, 2048, 32);
  for (uint32_t h = 0; h < 65536; h++) {
    float want = ref_half(get16(w + 2 * h));
    int same = isnan(want) ? isnan(out[h]) : memcmp(&want, &out[h], 4) == 0;
    if (!same && failures++ < 10) fprintf(stderr, "FAIL half 0x%04x -> %.9g, expected %.9g\n", h, out[h], want);
  }
  free(w), free(out);
}

static int check_variant(void) {
  /* M: decode, the small tiles and their rests, then the panel path (M >= 16) with
   * every rest; K = 320 spans two panel chunks of K (256). */
  static const int64_t Ms[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 64}, Ns[] = {1, 3, 5, 16, 17, 33, 67};
  static const int64_t Ks[] = {32, 96, 160, 320};
  int checks = 0;
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    for (size_t m = 0; m < sizeof Ms / sizeof Ms[0]; m++)
      for (size_t n = 0; n < sizeof Ns / sizeof Ns[0]; n++)
        for (size_t c = 0; c < sizeof Ks / sizeof Ks[0]; c++, checks++) check_matmul(&kinds[k], Ms[m], Ns[n], Ks[c]);
    check_gather(&kinds[k], 5, 64);
    check_gather(&kinds[k], 1, 32);
    check_gather(&kinds[k], 19, 96);
    checks += 3;
  }
  /* the dense f32 GEMM: K of no particular size, and K = 0 (y = 0) */
  static const int64_t Kd[] = {0, 1, 7, 64, 300};
  for (size_t m = 0; m < sizeof Ms / sizeof Ms[0]; m++)
    for (size_t n = 0; n < sizeof Ns / sizeof Ns[0]; n++)
      for (size_t c = 0; c < sizeof Kd / sizeof Kd[0]; c++, checks += 2) {
        check_gemm_f32(Ms[m], Ns[n], Kd[c]);
        check_bmm_f32(1 + (int64_t)(c % 3), Ms[m], Ns[n], Kd[c]);
      }
  check_every_half();
  return checks + 1;
}

int main(void) {
  int checks = 0;
#if defined(__x86_64__)
  int have_avx2 = tdm_qx86_dot_rows_q4_1 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
#else
  int have_avx2 = 0;
#endif
  for (int f16c = 0; f16c < 2; f16c++)
    for (int bits = 256; bits <= 512; bits *= 2)
      for (int dq = 0; dq < 2; dq++)
        for (int avx2 = 0; avx2 <= (dq ? have_avx2 : 0); avx2++)
          for (int threads = 1; threads <= 3; threads += 2) {
            tdm_kernel_f16c = f16c, tdm_kernel_vector_bits = bits;
            tdm_kernel_dynamic_quant = dq, tdm_kernel_avx2 = avx2;
            tandem_set_threads(threads);
            int before = failures;
            checks += check_variant();
            if (failures > before)
              fprintf(stderr, "(variant f16c=%d vector_bits=%d dynamic_quant=%d avx2=%d threads=%d)\n", f16c, bits,
                      dq, avx2, threads);
          }
  if (failures) {
    fprintf(stderr, "%d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("%d checks passed\n", checks);
  return 0;
}
