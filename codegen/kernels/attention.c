/* Attention over the KV cache (interface in attention.h), a kernel like the block-
 * weight ones: portable C with vector extensions, compiled to bitcode that codegen
 * links into each model that calls it and optimises for its target.
 *
 * Per token t and head h (the items split over the runtime's pool): the query row
 * against the p + 1 cached keys (p = pos + t), softmax, and the weighted sum of the
 * cached values, in one pass over the cache: keys go in blocks of 32 with an online
 * softmax (a running maximum m and sum l; when a block raises m, what was summed is
 * rescaled by exp(old m - new m)), so each K and V row is read once for all the query
 * heads that share it (grouped-query attention) and nothing of length p is kept. The
 * cache holds f32 or IEEE halves (--kv-type); the new k and v rows are written first
 * (halves rounded to nearest even). Decode, with few heads to share out, also splits
 * the keys into segments whose partial states are merged at the end. */
#include "codegen/kernels/attention.h"

#include "codegen/kernels/kutil.h"

#define KEYS 32      /* keys per block of the online softmax */
#define D_MAX 1024   /* head sizes this kernel takes (the lowering checks) */

/* Cache row at element offset `at`, D elements, as floats: the cache itself (f32), or
 * converted into `buf` (halves). */
INLINE const float *cache_row(int half, const void *cache, int64_t at, int64_t D, float *buf) {
  if (!half) return (const float *)cache + at;
  const uint16_t *h = (const uint16_t *)cache + at;
  int64_t e = 0;
  for (; e + 16 <= D; e += 16) {
    u16x16 v;
    __builtin_memcpy(&v, h + e, 32);
    store_f32(buf + e, halves_to_f32(v));
  }
  for (; e < D; e++) buf[e] = half_to_f32(h[e]);
  return buf;
}

/* The cache rows of one head are Hkv * D elements apart, a stride the hardware
 * prefetchers follow poorly: rows are requested ahead (PREFETCH keys for K; V rows
 * while the block's scores are computed). A prefetch past the cache is harmless. */
#define PREFETCH 8

INLINE void prefetch_row(int half, const void *cache, int64_t at, int64_t D) {
  const char *p = (const char *)cache + at * (half ? 2 : 4);
  for (int64_t b = 0; b < D * (half ? 2 : 4); b += 64) __builtin_prefetch(p + b);
}

INLINE void store_row(int half, void *cache, int64_t at, int64_t D, const float *in) {
  int64_t e = 0;
  if (half) {
    uint16_t *h = (uint16_t *)cache + at;
    for (; e + 16 <= D; e += 16) {
      u16x16 v = f32_to_halves(load_f32(in + e));
      __builtin_memcpy(h + e, &v, 32);
    }
    for (; e < D; e++) {
      f32x16 one = (f32x16){} + in[e];
      h[e] = f32_to_halves(one)[0];
    }
  } else {
    float *f = (float *)cache + at;
    for (; e < D; e++) f[e] = in[e];
  }
}

INLINE float dot(const float *a, const float *b, int64_t D) {
  f32x16 acc = {0};
  int64_t e = 0;
  for (; e + 16 <= D; e += 16) acc += load_f32(a + e) * load_f32(b + e);
  float s = hsum16(acc);
  for (; e < D; e++) s += a[e] * b[e];
  return s;
}

#define GROUP_MAX 8 /* query heads that share a cache head, taken together */
#define SPLIT_UNITS 16  /* fewer (token, cache head, chunk) units than this: split keys */
#define SEGS_MAX 8
#define PART_FLOATS 16384 /* 64 KB of partial states, on the caller's stack */

typedef struct {
  const float *q;
  const void *kc, *vc;
  float *o;
  int64_t pos, H, Hkv, D, C, layer;
  float scale;
  int64_t segs;   /* segments the keys of one (token, cache head, chunk) are split into */
  float *part;    /* segs > 1: per item, GROUP_MAX slots of m, l, acc[D] (partial sums) */
} attn_job;

/* Token t, query heads h0..h0+nh-1 (all on cache head g), over keys [k0, n): each K
 * and V row is read (and converted) once for the nh heads. Writes o, or with `part`
 * the unnormalised state (m, l, acc) of each head to part[i * (D + 2)...]. */
INLINE void attend(int half, const attn_job *j, int64_t t, int64_t g, int64_t h0, int nh, int64_t k0, int64_t n,
                   float *part) {
  int64_t D = j->D;
  float acc[GROUP_MAX][D_MAX] __attribute__((aligned(64))), buf[D_MAX] __attribute__((aligned(64)));
  float s[GROUP_MAX][KEYS] __attribute__((aligned(64)));
  float m[GROUP_MAX], l[GROUP_MAX];
  const float *q[GROUP_MAX];
  for (int i = 0; i < nh; i++) {
    q[i] = j->q + (t * j->H + h0 + i) * D;
    m[i] = -3.0e38f, l[i] = 0.0f;
    for (int64_t e = 0; e < D; e++) acc[i][e] = 0.0f;
  }
  for (int64_t j0 = k0; j0 < n; j0 += KEYS) {
    int nb = n - j0 < KEYS ? (int)(n - j0) : KEYS;
    for (int r = 0; r < nb; r++) {
      prefetch_row(half, j->kc, ((j->layer * j->C + j0 + r + PREFETCH) * j->Hkv + g) * D, D);
      prefetch_row(half, j->vc, ((j->layer * j->C + j0 + r) * j->Hkv + g) * D, D);
      const float *k = cache_row(half, j->kc, ((j->layer * j->C + j0 + r) * j->Hkv + g) * D, D, buf);
      for (int i = 0; i < nh; i++) s[i][r] = dot(q[i], k, D) * j->scale;
    }
    for (int i = 0; i < nh; i++) {
      for (int r = nb; r < KEYS; r++) s[i][r] = -3.0e38f;
      f32x16 s0 = load_f32(s[i]), s1 = load_f32(s[i] + 16);
      float bm = __builtin_reduce_max(__builtin_elementwise_max(s0, s1));
      if (bm > m[i]) {
        float corr = vexp((f32x16){} + (m[i] - bm))[0];
        l[i] *= corr;
        for (int64_t e = 0; e < D; e++) acc[i][e] *= corr;
        m[i] = bm;
      }
      f32x16 p0 = vexp(s0 - m[i]), p1 = vexp(s1 - m[i]);
      store_f32(s[i], p0);
      store_f32(s[i] + 16, p1);
      l[i] += hsum16(p0 + p1);
    }
    for (int r = 0; r < nb; r++) {
      const float *v = cache_row(half, j->vc, ((j->layer * j->C + j0 + r) * j->Hkv + g) * D, D, buf);
      for (int i = 0; i < nh; i++) {
        float p = s[i][r];
        int64_t e = 0;
        for (; e + 16 <= D; e += 16) store_f32(acc[i] + e, load_f32(acc[i] + e) + p * load_f32(v + e));
        for (; e < D; e++) acc[i][e] += p * v[e];
      }
    }
  }
  for (int i = 0; i < nh; i++) {
    if (part) {
      float *p = part + i * (D + 2);
      p[0] = m[i], p[1] = l[i];
      for (int64_t e = 0; e < D; e++) p[2 + e] = acc[i][e];
      continue;
    }
    float inv = 1.0f / l[i], *o = j->o + (t * j->H + h0 + i) * D;
    for (int64_t e = 0; e < D; e++) o[e] = acc[i][e] * inv;
  }
}

/* Items: (token, cache head, chunk of at most GROUP_MAX of its query heads, segment
 * of its keys). Segments split the keys in whole blocks; with one, the item writes o. */
INLINE void attend_share(int half, void *ctx, int64_t begin, int64_t end) {
  const attn_job *j = ctx;
  int64_t group = j->H / j->Hkv, chunks = (group + GROUP_MAX - 1) / GROUP_MAX;
  for (int64_t i = begin; i < end; i++) {
    int64_t u = i / j->segs, sg = i % j->segs;
    int64_t t = u / (j->Hkv * chunks), g = u / chunks % j->Hkv, c = u % chunks;
    int64_t h0 = g * group + c * GROUP_MAX, nh = group - c * GROUP_MAX;
    int64_t n = j->pos + t + 1, blocks = (n + KEYS - 1) / KEYS;
    int64_t b0 = blocks * sg / j->segs, b1 = blocks * (sg + 1) / j->segs;
    float *part = j->segs > 1 ? j->part + i * GROUP_MAX * (j->D + 2) : 0;
    attend(half, j, t, g, h0, nh < GROUP_MAX ? (int)nh : GROUP_MAX, b0 * KEYS, b1 * KEYS < n ? b1 * KEYS : n, part);
  }
}

/* o from the segments' partial states: with M the largest m, each segment's l and
 * acc weigh exp(m - M) (an empty segment has m = -3e38: weight 0). */
INLINE void merge_segments(const attn_job *j, int64_t units) {
  int64_t D = j->D, group = j->H / j->Hkv, chunks = (group + GROUP_MAX - 1) / GROUP_MAX;
  for (int64_t u = 0; u < units; u++) {
    int64_t t = u / (j->Hkv * chunks), g = u / chunks % j->Hkv, c = u % chunks;
    int64_t h0 = g * group + c * GROUP_MAX, nh = group - c * GROUP_MAX;
    for (int64_t i = 0; i < nh && i < GROUP_MAX; i++) {
      const float *p0 = j->part + (u * j->segs * GROUP_MAX + i) * (D + 2);
      int64_t stride = GROUP_MAX * (D + 2); /* from one segment's slot to the next's */
      float M = -3.0e38f, l = 0.0f, w[SEGS_MAX];
      for (int64_t sg = 0; sg < j->segs; sg++) M = p0[sg * stride] > M ? p0[sg * stride] : M;
      for (int64_t sg = 0; sg < j->segs; sg++) {
        w[sg] = vexp((f32x16){} + (p0[sg * stride] - M))[0];
        l += w[sg] * p0[sg * stride + 1];
      }
      float inv = 1.0f / l, *o = j->o + (t * j->H + h0 + i) * D;
      for (int64_t e = 0; e < D; e++) {
        float a = 0.0f;
        for (int64_t sg = 0; sg < j->segs; sg++) a += w[sg] * p0[sg * stride + 2 + e];
        o[e] = a * inv;
      }
    }
  }
}

static void task_f32(void *ctx, int64_t begin, int64_t end) { attend_share(0, ctx, begin, end); }
static void task_f16(void *ctx, int64_t begin, int64_t end) { attend_share(1, ctx, begin, end); }

INLINE void attention(int half, const float *q, const float *k, const float *v, void *kc, void *vc, int64_t pos,
                      float *o, int64_t T, int64_t H, int64_t Hkv, int64_t D, int64_t C, int64_t layer, float scale) {
  if (pos < 0 || pos + T > C || D > D_MAX) return; /* the runtime keeps pos + T <= n_ctx */
  for (int64_t t = 0; t < T; t++)
    for (int64_t g = 0; g < Hkv; g++) {
      int64_t at = ((layer * C + pos + t) * Hkv + g) * D;
      store_row(half, kc, at, D, k + (t * Hkv + g) * D);
      store_row(half, vc, at, D, v + (t * Hkv + g) * D);
    }
  int64_t chunks = (H / Hkv + GROUP_MAX - 1) / GROUP_MAX, units = T * Hkv * chunks;
  /* multiply-adds: T * H heads over about pos + T keys, twice D each */
  int64_t macs = T * H * (pos + T) * D * 2, blocks = (pos + T + KEYS - 1) / KEYS;
  /* Decode has few units (SmolLM2: 3 cache heads), too few to share evenly over the
   * threads: its keys go in segments too (flash-decoding), merged afterwards, when
   * the partial states fit in PART_FLOATS. */
  float part[PART_FLOATS] __attribute__((aligned(64)));
  int64_t segs = 1;
  if (units < SPLIT_UNITS && macs >= PARALLEL_MIN_MACS && tandem_parallel_for) {
    segs = (SPLIT_UNITS + units - 1) / units;
    if (segs > SEGS_MAX) segs = SEGS_MAX;
    if (segs > blocks) segs = blocks;
    while (segs > 1 && units * segs * GROUP_MAX * (D + 2) > PART_FLOATS) segs--;
  }
  attn_job j = {q, kc, vc, o, pos, H, Hkv, D, C, layer, scale, segs, part};
  parallel(half ? task_f16 : task_f32, &j, units * segs, macs);
  if (segs > 1) merge_segments(&j, units);
}

void tdm_attention_f32(const float *q, const float *k, const float *v, float *kc, float *vc, int64_t pos, float *o,
                       int64_t T, int64_t H, int64_t Hkv, int64_t D, int64_t C, int64_t layer, float scale) {
  attention(0, q, k, v, kc, vc, pos, o, T, H, Hkv, D, C, layer, scale);
}

void tdm_attention_f16(const float *q, const float *k, const float *v, uint16_t *kc, uint16_t *vc, int64_t pos,
                       float *o, int64_t T, int64_t H, int64_t Hkv, int64_t D, int64_t C, int64_t layer, float scale) {
  attention(1, q, k, v, kc, vc, pos, o, T, H, Hkv, D, C, layer, scale);
}
