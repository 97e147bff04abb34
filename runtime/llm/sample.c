/* Sampling: top-k -> top-p -> temperature -> dist, as rt_sample.h explains. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rt_sample.h"
#include "rt_status.h"

/* ---- random numbers: xoshiro256** (Blackman & Vigna), seeded by splitmix64 ---------- */

static uint64_t rt_splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void rt_rng_seed(rt_rng *rng, uint64_t seed) {
  for (int i = 0; i < 4; i++) rng->s[i] = rt_splitmix64(&seed);
}

static uint64_t rt_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rt_rng_next(rt_rng *rng) {
  uint64_t *s = rng->s;
  uint64_t result = rt_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rt_rotl(s[3], 45);
  return result;
}

double rt_rng_uniform(rt_rng *rng) { return (double)(rt_rng_next(rng) >> 11) * 0x1.0p-53; }

/* ---- the sampler --------------------------------------------------------------------- */

tandem_status rt_sampler_init(rt_sampler *s, const rt_sampler_params *params, uint32_t n_vocab) {
  memset(s, 0, sizeof *s);
  s->params = *params;
  s->n_vocab = n_vocab;
  rt_rng_seed(&s->rng, params->seed);
  s->cand = malloc((n_vocab ? n_vocab : 1) * sizeof *s->cand);
  if (!s->cand) return rt_status_make(TANDEM_OUT_OF_MEMORY, "sampler: out of memory");
  return NULL;
}

void rt_sampler_free(rt_sampler *s) {
  free(s->cand);
  s->cand = NULL;
}

int32_t rt_argmax(const float *logits, uint32_t n) {
  uint32_t best = 0;
  for (uint32_t i = 1; i < n; i++)
    if (logits[i] > logits[best]) best = i;
  return (int32_t)best;
}

/* Higher logit first; the lower id among equal logits. */
static bool rt_cand_before(const rt_candidate *x, const rt_candidate *y) {
  return x->logit > y->logit || (x->logit == y->logit && x->id < y->id);
}

static int rt_cand_compare(const void *a, const void *b) {
  const rt_candidate *x = a, *y = b;
  return rt_cand_before(x, y) ? -1 : rt_cand_before(y, x) ? 1 : 0;
}

/* Sifts c[i] down a heap of n whose root is the candidate that comes last. */
static void rt_heap_down(rt_candidate *c, size_t n, size_t i) {
  for (;;) {
    size_t worst = i, l = 2 * i + 1, r = l + 1;
    if (l < n && rt_cand_before(&c[worst], &c[l])) worst = l;
    if (r < n && rt_cand_before(&c[worst], &c[r])) worst = r;
    if (worst == i) return;
    rt_candidate t = c[i];
    c[i] = c[worst];
    c[worst] = t;
    i = worst;
  }
}

/* The k best of c[0..n) into c[0..k), sorted: a heap of the best k so far, O(n log k). */
static void rt_top_k(rt_candidate *c, size_t n, size_t k) {
  for (size_t i = k / 2; i-- > 0;) rt_heap_down(c, k, i);
  for (size_t i = k; i < n; i++)
    if (rt_cand_before(&c[i], &c[0])) {
      c[0] = c[i];
      rt_heap_down(c, k, 0);
    }
  qsort(c, k, sizeof *c, rt_cand_compare);
}

/* llama_sampler_top_p: softmax (float sums, as llama.cpp), then the shortest sorted
 * prefix that reaches p. */
static size_t rt_top_p(rt_candidate *c, size_t n, float p) {
  float max = c[0].logit, sum = 0.0f, cum = 0.0f;
  for (size_t i = 0; i < n; i++) sum += c[i].p = expf(c[i].logit - max);
  for (size_t i = 0; i < n; i++) {
    cum += c[i].p / sum;
    if (cum >= p) return i + 1;
  }
  return n;
}

/* llama_sampler_dist: softmax with a double sum, one draw. */
static int32_t rt_dist(rt_candidate *c, size_t n, rt_rng *rng) {
  float max = c[0].logit;
  for (size_t i = 1; i < n; i++) max = fmaxf(max, c[i].logit);
  double sum = 0.0, run = 0.0;
  for (size_t i = 0; i < n; i++) sum += c[i].p = expf(c[i].logit - max);
  double target = sum * rt_rng_uniform(rng);
  for (size_t i = 0; i < n; i++) {
    run += c[i].p;
    if (run >= target) return c[i].id;
  }
  return c[n - 1].id;
}

int32_t rt_sampler_sample(rt_sampler *s, const float *logits) {
  const rt_sampler_params *p = &s->params;
  size_t n = s->n_vocab;
  if (p->temp <= 0.0f) return rt_argmax(logits, s->n_vocab);
  for (size_t i = 0; i < n; i++)
    s->cand[i] = (rt_candidate){(int32_t)i, isnan(logits[i]) ? -INFINITY : logits[i], 0.0f};
  if (p->top_k > 0 && (size_t)p->top_k < n) {
    rt_top_k(s->cand, n, (size_t)p->top_k);
    n = (size_t)p->top_k;
  } else if (p->top_p < 1.0f) {
    qsort(s->cand, n, sizeof *s->cand, rt_cand_compare);
  }
  if (p->top_p < 1.0f) n = rt_top_p(s->cand, n, p->top_p);
  for (size_t i = 0; i < n; i++) s->cand[i].logit /= p->temp;
  return rt_dist(s->cand, n, &s->rng);
}
