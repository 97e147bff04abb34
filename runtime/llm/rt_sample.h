/* Picking the next token from logits, in llama.cpp's default sampler order:
 *
 *   top-k (keep the k highest logits; k <= 0 keeps all)
 *   -> top-p (softmax of what is left; keep the smallest prefix, highest first, whose
 *      probabilities add up to at least p; p >= 1 keeps all)
 *   -> temperature (logits / T)
 *   -> dist (softmax; one uniform draw in [0, 1) picks the token whose cumulative
 *      probability first reaches it).
 *
 * Top-p therefore sees the logits before the temperature, as in llama.cpp. A
 * temperature of 0 (or less) is greedy: the highest logit, the lowest id among equal
 * ones, and no random draw. Equal logits are ordered by id everywhere, so that a seed
 * gives the same tokens on every machine (llama.cpp's partial sort leaves ties in an
 * unspecified order). The random numbers come from xoshiro256** seeded through
 * splitmix64, not from llama.cpp's std::mt19937: the same seed picks different tokens
 * in the two programs. */
#ifndef TANDEM_RT_SAMPLE_H
#define TANDEM_RT_SAMPLE_H

#include <stdint.h>

#include "tandem/runtime.h"

typedef struct rt_sampler_params {
  float temp;    /* <= 0: greedy */
  int32_t top_k; /* <= 0: off */
  float top_p;   /* >= 1: off */
  uint64_t seed;
} rt_sampler_params;

typedef struct rt_rng {
  uint64_t s[4];
} rt_rng;

void rt_rng_seed(rt_rng *rng, uint64_t seed);
uint64_t rt_rng_next(rt_rng *rng);
double rt_rng_uniform(rt_rng *rng); /* [0, 1), 53 random bits */

typedef struct rt_candidate {
  int32_t id;
  float logit;
  float p;
} rt_candidate;

typedef struct rt_sampler {
  rt_sampler_params params;
  rt_rng rng;
  uint32_t n_vocab;
  rt_candidate *cand; /* [n_vocab] */
} rt_sampler;

tandem_status rt_sampler_init(rt_sampler *s, const rt_sampler_params *params, uint32_t n_vocab);
void rt_sampler_free(rt_sampler *s);
/* The next token for `logits` [n_vocab]. */
int32_t rt_sampler_sample(rt_sampler *s, const float *logits);
/* The lowest id among the highest logits. */
int32_t rt_argmax(const float *logits, uint32_t n);

#endif
