/* The fake LLMs: descriptors laid out as tandemc emits them, and their model. The
 * serialized tokenizers come from fake_llm_tokenizers.h, which gen_fake_tokenizers
 * writes at build time with tandem_tokenizer_serialize, as tandemc embeds them. */
#include <math.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

#include "fake_llm.h"
#include "fake_llm_tokenizers.h"

#define V FAKE_LLM_VOCAB
#define SLOT (FAKE_LLM_HEAD_DIM) /* floats per layer and position (one KV head) */

static alignas(64) float fake_w[V * V];

/* W[a][b] = k/256 - 2 with k = (131a + 71b) mod 1021: in each row all values differ
 * (71 is invertible mod 1021 and V < 1021), by at least 1/256. After '!' the BPE
 * model ends the text ("<|im_end|>"). */
static void fake_init_weights(void) {
  if (fake_w[1] != 0) return;
  for (uint32_t a = 0; a < V; a++)
    for (uint32_t b = 0; b < V; b++)
      fake_w[a * V + b] = (float)((131 * a + 71 * b) % 1021) / 256.0f - 2.0f;
  fake_w[(FAKE_BPE_BYTE + '!') * V + FAKE_BPE_IM_END] = 8.0f;
}

const float *fake_llm_weights(void) {
  fake_init_weights();
  return fake_w;
}

/* One token: write slot `pos` of both layers, then read slots 0..pos. */
static void fake_step(const float *w, int32_t t, int32_t pos, float *k, float *v, float *logits) {
  size_t layer = (size_t)FAKE_LLM_CTX * SLOT;
  for (uint32_t l = 0; l < FAKE_LLM_LAYERS; l++) {
    float *ks = k + l * layer + (size_t)pos * SLOT, *vs = v + l * layer + (size_t)pos * SLOT;
    ks[0] = (float)((t * (int32_t)(l + 3)) % 17) / 8.0f;
    ks[1] = (float)pos;
    vs[0] = (float)((t + (int32_t)l) % 5) / 4.0f;
    vs[1] = 1.0f;
  }
  float c = 0.0f;
  for (int32_t q = 0; q <= pos; q++) c += k[(size_t)q * SLOT] * v[layer + (size_t)q * SLOT] + 0.001f * k[layer + (size_t)q * SLOT + 1];
  for (uint32_t b = 0; b < V; b++)
    logits[b] = (w ? w[(size_t)t * V + b] : 0.0f) + (w ? sinf(c * (float)(b % 7 + 1)) / 1024.0f : 0.0f);
}

static void fake_prefill(const void *weights, const int32_t *tokens, const int32_t *pos, void *k,
                         void *v, float *logits) {
  for (uint32_t i = 0; i < FAKE_LLM_CHUNK; i++)
    fake_step(weights, tokens[i], *pos + (int32_t)i, k, v, logits + (size_t)i * V);
}

static void fake_decode(const void *weights, const int32_t *tokens, const int32_t *pos, void *k,
                        void *v, float *logits) {
  fake_step(weights, tokens[0], *pos, k, v, logits);
}

static void fake_prefill_uniform(const void *weights, const int32_t *tokens, const int32_t *pos,
                                 void *k, void *v, float *logits) {
  for (uint32_t i = 0; i < FAKE_LLM_CHUNK; i++)
    fake_step(NULL, tokens[i], *pos + (int32_t)i, k, v, logits + (size_t)i * V);
}

static void fake_decode_uniform(const void *weights, const int32_t *tokens, const int32_t *pos,
                                void *k, void *v, float *logits) {
  fake_step(NULL, tokens[0], *pos, k, v, logits);
}

void fake_llm_reference(const int32_t *tokens, size_t n, float *logits) {
  static float k[FAKE_LLM_LAYERS * FAKE_LLM_CTX * SLOT], v[FAKE_LLM_LAYERS * FAKE_LLM_CTX * SLOT];
  memset(k, 0, sizeof k);
  memset(v, 0, sizeof v);
  for (size_t i = 0; i < n; i++) fake_step(fake_llm_weights(), tokens[i], (int32_t)i, k, v, logits + i * V);
}

int fake_llm_write_weights(const char *path) {
  unsigned char header[TANDEM_WEIGHTS_DATA_OFFSET] = {0};
  uint32_t version = TANDEM_WEIGHTS_VERSION, offset = TANDEM_WEIGHTS_DATA_OFFSET;
  uint64_t size = FAKE_LLM_WEIGHTS_SIZE, hash = tandem_weights_hash(fake_llm_weights(), size);
  memcpy(header, TANDEM_WEIGHTS_MAGIC, 8);
  memcpy(header + 8, &version, 4); /* little-endian host, as the tests run on */
  memcpy(header + 12, &offset, 4);
  memcpy(header + 16, &size, 8);
  memcpy(header + 24, &hash, 8);
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t ok = fwrite(header, sizeof header, 1, f) + fwrite(fake_llm_weights(), size, 1, f);
  return fclose(f) == 0 && ok == 2 ? 0 : -1;
}

#define FAKE_CACHE_BYTES ((uint64_t)FAKE_LLM_LAYERS * FAKE_LLM_CTX * 1 * FAKE_LLM_HEAD_DIM * 4)

const tandem_llm_desc fake_llm_bpe = {
    TANDEM_LLM_ABI_VERSION, V, FAKE_LLM_CTX, FAKE_LLM_LAYERS, 1, 1, FAKE_LLM_HEAD_DIM,
    FAKE_LLM_CHUNK, "fake", FAKE_CACHE_BYTES, FAKE_LLM_WEIGHTS_SIZE, FAKE_LLM_WEIGHTS_HASH, NULL,
    fake_prefill, fake_decode, fake_tokenizer_bpe, sizeof fake_tokenizer_bpe,
};

const tandem_llm_desc fake_llm_spm = {
    TANDEM_LLM_ABI_VERSION, V, FAKE_LLM_CTX, FAKE_LLM_LAYERS, 1, 1, FAKE_LLM_HEAD_DIM,
    FAKE_LLM_CHUNK, "fake_spm", FAKE_CACHE_BYTES, FAKE_LLM_WEIGHTS_SIZE, FAKE_LLM_WEIGHTS_HASH, NULL,
    fake_prefill, fake_decode, fake_tokenizer_spm, sizeof fake_tokenizer_spm,
};

const tandem_llm_desc fake_llm_uniform = {
    TANDEM_LLM_ABI_VERSION, V, FAKE_LLM_CTX, FAKE_LLM_LAYERS, 1, 1, FAKE_LLM_HEAD_DIM,
    FAKE_LLM_CHUNK, "fake_uniform", FAKE_CACHE_BYTES, 0, 0, NULL,
    fake_prefill_uniform, fake_decode_uniform, fake_tokenizer_bpe, sizeof fake_tokenizer_bpe,
};

/* For the driver test executables: tandemc emits this alias of NAME_llm. */
#if defined(FAKE_LLM_MAIN_BPE)
extern const tandem_llm_desc tandem_main_llm __attribute__((alias("fake_llm_bpe")));
#elif defined(FAKE_LLM_MAIN_SPM)
extern const tandem_llm_desc tandem_main_llm __attribute__((alias("fake_llm_spm")));
#elif defined(FAKE_LLM_MAIN_UNIFORM)
extern const tandem_llm_desc tandem_main_llm __attribute__((alias("fake_llm_uniform")));
#endif
