/* An open compiled LLM: its descriptor, weights, KV caches, logits, tokenizer, and
 * the one way the rest of the runtime feeds it tokens (rt_llm_eval). Internal. */
#ifndef TANDEM_RT_LLM_H
#define TANDEM_RT_LLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rt_weights.h"
#include "tandem/llm.h"

/* How rt_llm_eval feeds the tokens left after the full prefill chunks. */
typedef enum rt_llm_rest {
  RT_LLM_REST_AUTO = 0, /* a padded chunk when that is cheaper and fits, else decode */
  RT_LLM_REST_DECODE,   /* always one by one through decode */
  RT_LLM_REST_PAD,      /* a padded prefill chunk whenever it fits in the context */
  RT_LLM_REST_COUNT
} rt_llm_rest;

typedef struct rt_llm {
  const tandem_llm_desc *desc; /* borrowed */
  rt_weights weights;
  void *k_cache, *v_cache;    /* [n_layer, n_ctx, n_head_kv, head_dim] f32 or f16, cache_bytes each */
  float *logits;              /* [prefill_tokens, n_vocab]: the last entry call's */
  int32_t *chunk;             /* [prefill_tokens]: the tokens of a padded chunk */
  const float *last;          /* the logits of the last real token evaluated */
  tandem_tokenizer *tokenizer;
  rt_llm_rest rest;
} rt_llm;

/* Checks `desc`, maps its weights (`weights_path` as in tandem_open_options), opens its
 * tokenizer and allocates zeroed caches. */
tandem_status rt_llm_open(const tandem_llm_desc *desc, const char *weights_path, rt_llm **out);
void rt_llm_close(rt_llm *llm);

/* Feeds tokens[0..n) at positions pos.. (tokens before pos must have been fed, as
 * tandem/llm.h requires). Full chunks of prefill_tokens go through prefill; the rest
 * as llm->rest says. If `out` is not NULL, the logits of token i >= keep_from go to
 * out[(i - keep_from) * n_vocab ...]. Afterwards llm->last points at the last token's
 * logits (valid until the next call). Fails, before calling the model, for an id out
 * of the vocabulary or pos + n > n_ctx. */
tandem_status rt_llm_eval(rt_llm *llm, const int32_t *tokens, size_t n, uint32_t pos,
                          size_t keep_from, float *out);

#endif
