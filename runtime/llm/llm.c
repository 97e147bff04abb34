/* An open compiled LLM, and feeding it tokens.
 *
 * The descriptor is checked before anything is called (a bad one is a compiler bug,
 * and should fail here rather than inside the model). The KV caches are anonymous
 * mappings: zeroed as the ABI asks, and only the pages a run touches cost memory, so a
 * long n_ctx is free until it is used. */
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>

#include "rt_alloc.h"
#include "rt_llm.h"
#include "rt_status.h"
#include "rt_tokenizer.h"

static const char *rt_llm_name(const tandem_llm_desc *desc) {
  return desc->name ? desc->name : "?";
}

static tandem_status rt_llm_bad(const tandem_llm_desc *desc, const char *what) {
  return rt_status_make(TANDEM_INVALID_ARGUMENT, "model '%s': bad LLM descriptor: %s",
                        rt_llm_name(desc), what);
}

/* n_layer * n_ctx * n_head_kv * head_dim * elem, or 0 on overflow. */
static uint64_t rt_llm_cache_bytes(const tandem_llm_desc *d, uint64_t elem) {
  uint64_t bytes = elem;
  const uint32_t dims[] = {d->n_layer, d->n_ctx, d->n_head_kv, d->head_dim};
  for (int i = 0; i < 4; i++) {
    if (dims[i] && bytes > UINT64_MAX / dims[i]) return 0;
    bytes *= dims[i];
  }
  return bytes;
}

static tandem_status rt_llm_check(const tandem_llm_desc *d) {
  if (d->abi_version != TANDEM_LLM_ABI_VERSION)
    return rt_status_make(TANDEM_FAILED_PRECONDITION,
                          "model '%s' was compiled for LLM runtime ABI %" PRIu32
                          ", this runtime is ABI %u", rt_llm_name(d), d->abi_version,
                          TANDEM_LLM_ABI_VERSION);
  if (!d->prefill || !d->decode) return rt_llm_bad(d, "no prefill or decode entry");
  if (!d->n_vocab || !d->n_ctx || !d->n_layer || !d->n_head_kv || !d->head_dim)
    return rt_llm_bad(d, "a zero dimension");
  if (!d->prefill_tokens || d->prefill_tokens > d->n_ctx)
    return rt_llm_bad(d, "prefill_tokens is 0 or larger than n_ctx");
  /* f32 or f16 elements (tandemc --kv-type): the entry points know which */
  uint64_t f32 = rt_llm_cache_bytes(d, 4), f16 = rt_llm_cache_bytes(d, 2);
  if (!f32 || (d->cache_bytes != f32 && d->cache_bytes != f16) || d->cache_bytes > SIZE_MAX)
    return rt_llm_bad(d, "cache_bytes is not n_layer * n_ctx * n_head_kv * head_dim * 4 (or 2)");
  if ((uint64_t)d->prefill_tokens * d->n_vocab > SIZE_MAX / sizeof(float))
    return rt_llm_bad(d, "the logits do not fit in memory");
  if (!d->tokenizer || !d->tokenizer_size) return rt_llm_bad(d, "no tokenizer");
  return NULL;
}

static tandem_status rt_llm_map_cache(const tandem_llm_desc *d, void **out) {
  void *p = mmap(NULL, (size_t)d->cache_bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return rt_status_make(TANDEM_OUT_OF_MEMORY, "model '%s': cannot allocate a %" PRIu64
                          "-byte KV cache", rt_llm_name(d), d->cache_bytes);
  *out = p;
  return NULL;
}

static tandem_status rt_llm_init(rt_llm *llm, const char *weights_path) {
  const tandem_llm_desc *d = llm->desc;
  /* The weights file is checked exactly as a plain model's: reuse that, through a
   * descriptor with only the weights fields. */
  tandem_model_desc shim = {TANDEM_ABI_VERSION, 0, 0, 0, d->name, NULL, NULL,
                            d->weights_size, d->weights_hash, d->embedded_weights, NULL};
  RT_TRY(rt_weights_open(&shim, weights_path, 0, &llm->weights));
  RT_TRY(tandem_tokenizer_open(d->tokenizer, (size_t)d->tokenizer_size, &llm->tokenizer));
  if (llm->tokenizer->n_tokens > d->n_vocab)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "model '%s': the tokenizer has %" PRIu32
                          " tokens, the model %" PRIu32, rt_llm_name(d), llm->tokenizer->n_tokens,
                          d->n_vocab);
  RT_TRY(rt_llm_map_cache(d, &llm->k_cache));
  RT_TRY(rt_llm_map_cache(d, &llm->v_cache));
  llm->logits = rt_alloc(NULL, (size_t)d->prefill_tokens * d->n_vocab * sizeof(float));
  llm->chunk = rt_alloc(NULL, d->prefill_tokens * sizeof(int32_t));
  if (!llm->logits || !llm->chunk)
    return rt_status_make(TANDEM_OUT_OF_MEMORY, "model '%s': cannot allocate the logits",
                          rt_llm_name(d));
  llm->last = llm->logits;
  return NULL;
}

tandem_status rt_llm_open(const tandem_llm_desc *desc, const char *weights_path, rt_llm **out) {
  *out = NULL;
  if (!desc) return rt_status_make(TANDEM_INVALID_ARGUMENT, "no LLM descriptor");
  RT_TRY(rt_llm_check(desc));
  rt_llm *llm = rt_alloc(NULL, sizeof *llm);
  if (!llm) return rt_status_make(TANDEM_OUT_OF_MEMORY, "out of memory");
  memset(llm, 0, sizeof *llm);
  llm->desc = desc;
  tandem_status status = rt_llm_init(llm, weights_path);
  if (status) {
    rt_llm_close(llm);
    return status;
  }
  *out = llm;
  return NULL;
}

void rt_llm_close(rt_llm *llm) {
  if (!llm) return;
  size_t cache = (size_t)llm->desc->cache_bytes;
  if (llm->k_cache) munmap(llm->k_cache, cache);
  if (llm->v_cache) munmap(llm->v_cache, cache);
  rt_free(NULL, llm->logits);
  rt_free(NULL, llm->chunk);
  tandem_tokenizer_close(llm->tokenizer);
  rt_weights_close(&llm->weights);
  rt_free(NULL, llm);
}

/* ---- evaluation ------------------------------------------------------------------ */

typedef struct rt_eval_out {
  float *out;
  size_t keep_from;
} rt_eval_out;

/* Keeps the logits of tokens first .. first + count (of this call) that are wanted. */
static void rt_llm_keep(rt_llm *llm, const rt_eval_out *o, size_t first, size_t count) {
  size_t v = llm->desc->n_vocab;
  llm->last = llm->logits + (count - 1) * v;
  for (size_t i = 0; o->out && i < count; i++)
    if (first + i >= o->keep_from)
      memcpy(o->out + (first + i - o->keep_from) * v, llm->logits + i * v, v * sizeof(float));
}

static void rt_llm_call(rt_llm *llm, tandem_llm_entry_fn fn, const int32_t *tokens, uint32_t pos) {
  int32_t p = (int32_t)pos;
  fn(llm->weights.data, tokens, &p, llm->k_cache, llm->v_cache, llm->logits);
}

/* A padded chunk when the real tokens fill at least a quarter of it: one prefill then
 * costs less than their decodes on a CPU, where decode reads all weights per token. */
static bool rt_llm_pad(const rt_llm *llm, size_t rest, uint32_t pos) {
  uint32_t chunk = llm->desc->prefill_tokens;
  if (chunk == 1 || (uint64_t)pos + chunk > llm->desc->n_ctx) return false;
  if (llm->rest == RT_LLM_REST_PAD) return true;
  return llm->rest == RT_LLM_REST_AUTO && rest >= 2 && 4 * rest >= chunk;
}

static tandem_status rt_llm_check_tokens(const rt_llm *llm, const int32_t *tokens, size_t n,
                                         uint32_t pos) {
  const tandem_llm_desc *d = llm->desc;
  if (pos > d->n_ctx || n > d->n_ctx - pos)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "%zu tokens at position %" PRIu32
                          " do not fit in the context of %" PRIu32, n, pos, d->n_ctx);
  for (size_t i = 0; i < n; i++)
    if (tokens[i] < 0 || (uint32_t)tokens[i] >= d->n_vocab)
      return rt_status_make(TANDEM_INVALID_ARGUMENT, "token id %" PRId32
                            " is outside the vocabulary (%" PRIu32 " tokens)", tokens[i], d->n_vocab);
  return NULL;
}

tandem_status rt_llm_eval(rt_llm *llm, const int32_t *tokens, size_t n, uint32_t pos,
                          size_t keep_from, float *out) {
  RT_TRY(rt_llm_check_tokens(llm, tokens, n, pos));
  const tandem_llm_desc *d = llm->desc;
  size_t chunk = d->prefill_tokens, i = 0;
  rt_eval_out o = {out, keep_from};
  for (; n - i >= chunk; i += chunk) {
    rt_llm_call(llm, d->prefill, tokens + i, pos + (uint32_t)i);
    rt_llm_keep(llm, &o, i, chunk);
  }
  size_t rest = n - i;
  if (rest && rt_llm_pad(llm, rest, pos + (uint32_t)i)) {
    /* Padding repeats the last token; its cache slots lie past the real tokens, and
     * are written again before anything attends to them. */
    memcpy(llm->chunk, tokens + i, rest * sizeof *tokens);
    for (size_t j = rest; j < chunk; j++) llm->chunk[j] = tokens[n - 1];
    rt_llm_call(llm, d->prefill, llm->chunk, pos + (uint32_t)i);
    rt_llm_keep(llm, &o, i, rest);
    return NULL;
  }
  for (; i < n; i++) {
    rt_llm_call(llm, d->decode, tokens + i, pos + (uint32_t)i);
    rt_llm_keep(llm, &o, i, 1);
  }
  return NULL;
}
