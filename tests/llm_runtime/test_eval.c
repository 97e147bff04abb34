/* rt_llm on the fake LLM: the descriptor checks, and rt_llm_eval's chunks, padding
 * and decode against the model run directly (bit for bit). */
#include <stdlib.h>
#include <string.h>

#include "fake_llm.h"
#include "rt_llm.h"
#include "rt_tokenizer.h"
#include "test_llm.h"

#define V FAKE_LLM_VOCAB

void test_fake(void) {
  uint64_t hash = tandem_weights_hash(fake_llm_weights(), FAKE_LLM_WEIGHTS_SIZE);
  if (hash != FAKE_LLM_WEIGHTS_HASH) {
    char detail[64];
    snprintf(detail, sizeof detail, "update FAKE_LLM_WEIGHTS_HASH to 0x%016llx", (unsigned long long)hash);
    t_fail(__FILE__, __LINE__, "weights hash", detail);
  }
}

/* The fake with its weights inside, as --embed-weights builds it. */
static tandem_llm_desc t_embedded(void) {
  tandem_llm_desc d = fake_llm_bpe;
  d.embedded_weights = fake_llm_weights();
  return d;
}

static void t_tokens(int32_t *t, size_t n, uint32_t seed) {
  for (size_t i = 0; i < n; i++) t[i] = (int32_t)((seed + 37 * i * i + 11 * i) % V);
}

/* Feeding n tokens in pieces of `split` (0: all at once) under `rest` gives the
 * reference logits exactly. */
static void t_eval_matches(rt_llm *llm, rt_llm_rest rest, size_t n, size_t split) {
  int32_t tokens[FAKE_LLM_CTX];
  static float expect[FAKE_LLM_CTX * V], got[FAKE_LLM_CTX * V];
  t_tokens(tokens, n, (uint32_t)(n * 7 + split));
  fake_llm_reference(tokens, n, expect);
  llm->rest = rest;
  size_t done = 0;
  while (done < n) {
    size_t step = split && n - done > split ? split : n - done;
    CHECK_OK(rt_llm_eval(llm, tokens + done, step, (uint32_t)done, 0, got + done * V));
    done += step;
  }
  if (memcmp(got, expect, n * V * sizeof(float)) != 0) {
    char detail[96];
    snprintf(detail, sizeof detail, "rest %d, %zu tokens in pieces of %zu", (int)rest, n, split);
    t_fail(__FILE__, __LINE__, "logits differ from the reference", detail);
  }
  if (memcmp(llm->last, expect + (n - 1) * V, V * sizeof(float)) != 0)
    t_fail(__FILE__, __LINE__, "last logits", NULL);
}

void test_eval(void) {
  tandem_llm_desc d = t_embedded();
  rt_llm *llm = NULL;
  CHECK_OK(rt_llm_open(&d, NULL, &llm));
  if (!llm) return;
  for (size_t n = 1; n <= 20; n++)
    for (int rest = 0; rest < RT_LLM_REST_COUNT; rest++) t_eval_matches(llm, (rt_llm_rest)rest, n, 0);
  t_eval_matches(llm, RT_LLM_REST_PAD, FAKE_LLM_CTX, 0);
  t_eval_matches(llm, RT_LLM_REST_PAD, FAKE_LLM_CTX - 3, 0); /* no room to pad at the end */
  t_eval_matches(llm, RT_LLM_REST_PAD, 30, 5);                /* prompt, then more later */
  t_eval_matches(llm, RT_LLM_REST_AUTO, 40, 1);               /* generation: one by one */
  t_eval_matches(llm, RT_LLM_REST_DECODE, 33, 11);

  /* keep_from: only the logits from that token on are written. */
  int32_t tokens[16];
  static float expect[16 * V], got[16 * V];
  t_tokens(tokens, 16, 5);
  fake_llm_reference(tokens, 16, expect);
  CHECK_OK(rt_llm_eval(llm, tokens, 16, 0, 9, got));
  CHECK(memcmp(got, expect + 9 * V, 7 * V * sizeof(float)) == 0);

  CHECK_STATUS(rt_llm_eval(llm, tokens, 16, FAKE_LLM_CTX - 15, 0, NULL), TANDEM_INVALID_ARGUMENT,
               "16 tokens at position 49 do not fit in the context of 64");
  tokens[3] = (int32_t)V;
  CHECK_STATUS(rt_llm_eval(llm, tokens, 16, 0, 0, NULL), TANDEM_INVALID_ARGUMENT,
               "token id 272 is outside the vocabulary");
  tokens[3] = -1;
  CHECK_STATUS(rt_llm_eval(llm, tokens, 16, 0, 0, NULL), TANDEM_INVALID_ARGUMENT, "token id -1");
  CHECK(rt_token_is_eog(llm->tokenizer, FAKE_BPE_IM_END) && rt_token_is_eog(llm->tokenizer, 0) &&
        !rt_token_is_eog(llm->tokenizer, FAKE_BPE_IM_START));
  rt_llm_close(llm);
}

void test_desc(void) {
  rt_llm *llm = (rt_llm *)1;
  tandem_llm_desc d = t_embedded();
  d.abi_version = 9;
  CHECK_STATUS(rt_llm_open(&d, NULL, &llm), TANDEM_FAILED_PRECONDITION,
               "model 'fake' was compiled for LLM runtime ABI 9, this runtime is ABI 1");
  CHECK(llm == NULL);
  d = t_embedded();
  d.cache_bytes += 4;
  CHECK_STATUS(rt_llm_open(&d, NULL, &llm), TANDEM_INVALID_ARGUMENT, "cache_bytes is not");
  d = t_embedded();
  d.prefill_tokens = FAKE_LLM_CTX + 1;
  CHECK_STATUS(rt_llm_open(&d, NULL, &llm), TANDEM_INVALID_ARGUMENT, "prefill_tokens");
  d = t_embedded();
  d.decode = NULL;
  CHECK_STATUS(rt_llm_open(&d, NULL, &llm), TANDEM_INVALID_ARGUMENT, "no prefill or decode entry");
  d = t_embedded();
  d.n_vocab = 100;
  d.cache_bytes = fake_llm_bpe.cache_bytes;
  CHECK_STATUS(rt_llm_open(&d, NULL, &llm), TANDEM_INVALID_ARGUMENT, "the tokenizer has 272 tokens, the model 100");
  d = t_embedded();
  d.tokenizer_size -= 1;
  CHECK_STATUS(rt_llm_open(&d, NULL, &llm), TANDEM_DATA_LOSS, "tokenizer: corrupt data");
  d = fake_llm_bpe; /* weights from a file */
  CHECK_STATUS(rt_llm_open(&d, NULL, &llm), TANDEM_INVALID_ARGUMENT, "needs a weights file");
  CHECK_STATUS(rt_llm_open(&d, "/nonexistent/fake.weights", &llm), TANDEM_NOT_FOUND, "fake.weights");
  CHECK(llm == NULL);
}
