/* A hand-written stand-in for an LLM compiled by tandemc, to test the LLM runtime
 * without the compiler.
 *
 *   vocabulary: FAKE_LLM_VOCAB tokens (fake_vocab.c): a byte-level BPE one like
 *               SmolLM2's (ChatML template, no BOS) or an SPM one like Llama 2's
 *               (BOS, [INST] template);
 *   context:    FAKE_LLM_CTX positions, prefill chunks of FAKE_LLM_CHUNK tokens,
 *               2 layers, 1 KV head of 2 floats;
 *   weights:    a bigram table W[V][V] of f32 (fake_llm_weights()).
 *
 * Token t at position p writes K/V slot p of both layers from t and p, then reads
 * slots 0..p of both caches: logits[b] = W[t][b] + sin(c * (b % 7 + 1)) / 1024 with c
 * a sum over the slots. So the logits depend on every earlier token through the
 * caches (a position or cache bug changes them), but W alone orders them (its values
 * are k/256 apart, the cache term is below 1/1024), which keeps the argmax and the
 * quantized log-probabilities of --save-logits unambiguous; all lie within 16 nats of
 * the top, the range llama-perplexity's saved log-probabilities keep. Prefill runs the same
 * per-token step as decode, so the two agree bit for bit.
 *
 * The "uniform" model writes zero logits: its perplexity is exactly V. */
#ifndef TANDEM_TESTS_FAKE_LLM_H
#define TANDEM_TESTS_FAKE_LLM_H

#include <stddef.h>
#include <stdint.h>

#include "tandem/llm.h"

#define FAKE_LLM_VOCAB 272u
#define FAKE_LLM_CTX 64u
#define FAKE_LLM_CHUNK 8u
#define FAKE_LLM_LAYERS 2u
#define FAKE_LLM_HEAD_DIM 2u
#define FAKE_LLM_WEIGHTS_SIZE ((uint64_t)FAKE_LLM_VOCAB * FAKE_LLM_VOCAB * 4)
/* tandem_weights_hash of fake_llm_weights(); test_llm's "fake" group checks it. */
#define FAKE_LLM_WEIGHTS_HASH 0x08fefdf2d66c71c1ull

extern const tandem_llm_desc fake_llm_bpe;     /* weights from a file */
extern const tandem_llm_desc fake_llm_spm;     /* weights from a file */
extern const tandem_llm_desc fake_llm_uniform; /* no weights; BPE vocabulary */

/* The weights data section (64-byte aligned, FAKE_LLM_WEIGHTS_SIZE bytes). */
const float *fake_llm_weights(void);
/* Writes a tandem weights file of fake_llm_weights(); 0 on success. */
int fake_llm_write_weights(const char *path);

/* The model run directly, without the runtime: logits [n, V] of tokens from 0. */
void fake_llm_reference(const int32_t *tokens, size_t n, float *logits);

/* The vocabularies (fake_vocab.c), as tandemc would describe them. */
const tandem_tokenizer_spec *fake_vocab_bpe(void);
const tandem_tokenizer_spec *fake_vocab_spm(void);
/* Ids of some tokens of the BPE vocabulary: byte b is token FAKE_BPE_BYTE + b. */
enum {
  FAKE_BPE_ENDOFTEXT = 0,
  FAKE_BPE_IM_START = 1,
  FAKE_BPE_IM_END = 2,
  FAKE_BPE_BYTE = 3,
  FAKE_BPE_HELLO = 262,
  FAKE_BPE_SPACE_WORLD = 267,
};

#endif
