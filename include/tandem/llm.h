/* tandem LLM runtime: run a language model compiled by tandemc from GGUF.
 *
 * A compiled LLM is an object that defines `const tandem_llm_desc NAME_llm` (plus
 * NAME.weights unless --embed-weights). It has two entry points over the same
 * weights and KV cache: `prefill` evaluates a chunk of `prefill_tokens` tokens,
 * `decode` one token. Both take the position of their first token; the caller
 * (this runtime) owns the KV cache (zero-initialised, `cache_bytes` each for K
 * and V) and keeps it consistent: tokens must be fed in order, positions
 * contiguous from 0, and pos + n <= n_ctx. A prefill chunk may be padded past the
 * prompt's end: padded positions write cache slots that later tokens overwrite
 * before anyone attends to them (attention at position p reads slots 0..p).
 *
 * Conventions are those of tandem/runtime.h: errors are tandem_status values,
 * ownership is in the names, nothing here calls exit().
 */
#ifndef TANDEM_LLM_H
#define TANDEM_LLM_H

#include <stddef.h>
#include <stdint.h>

#include "tandem/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TANDEM_LLM_ABI_VERSION 1u

/* tokens: [n] token ids (n = prefill_tokens or 1); pos: the first token's position;
 * k_cache, v_cache: [n_layer, n_ctx, n_head_kv, head_dim] f32, or IEEE f16 when
 * cache_bytes says 2 bytes an element (tandemc --kv-type=f16), read and updated in
 * place; logits: [n, n_vocab] f32, written. */
typedef void (*tandem_llm_entry_fn)(const void *weights, const int32_t *tokens,
                                    const int32_t *pos, void *k_cache, void *v_cache,
                                    float *logits);

/* The layout is fixed by TANDEM_LLM_ABI_VERSION; tandemc writes it into the object. */
typedef struct tandem_llm_desc {
  uint32_t abi_version;      /* TANDEM_LLM_ABI_VERSION */
  uint32_t n_vocab;
  uint32_t n_ctx;            /* positions the KV cache holds */
  uint32_t n_layer;
  uint32_t n_head;
  uint32_t n_head_kv;
  uint32_t head_dim;
  uint32_t prefill_tokens;   /* tokens per prefill call */
  const char *name;
  uint64_t cache_bytes;      /* bytes of the K cache (the V cache is the same size):
                                elements x 4 (f32) or x 2 (f16) */
  uint64_t weights_size;     /* as in tandem_model_desc */
  uint64_t weights_hash;
  const void *embedded_weights;
  tandem_llm_entry_fn prefill;
  tandem_llm_entry_fn decode;
  const uint8_t *tokenizer;  /* serialized tokenizer (tandem_tokenizer_serialize) */
  uint64_t tokenizer_size;
} tandem_llm_desc;

/* ---- Tokenizer ------------------------------------------------------------------- */

typedef enum tandem_tokenizer_kind {
  TANDEM_TOKENIZER_BPE = 0, /* GPT-2 style byte-level BPE with merges (GGUF "gpt2") */
  TANDEM_TOKENIZER_SPM = 1, /* SentencePiece-style llama vocabulary with scores ("llama") */
} tandem_tokenizer_kind;

/* What a tokenizer is made of, as GGUF stores it (tokenizer.ggml.*). Borrowed. */
typedef struct tandem_tokenizer_spec {
  int32_t kind;              /* tandem_tokenizer_kind */
  uint32_t n_tokens;
  const char *const *tokens; /* [n_tokens], NUL-terminated UTF-8 (GGUF strings may
                                contain no NUL: SPM byte tokens are "<0xAB>") */
  const float *scores;       /* [n_tokens] or NULL */
  const int32_t *token_types;/* [n_tokens] or NULL (GGUF token_type) */
  uint32_t n_merges;
  const char *const *merges; /* [n_merges] "left right" (BPE) */
  int32_t bos_id, eos_id, unk_id, pad_id; /* -1 if absent */
  int32_t add_bos, add_eos, add_space_prefix; /* 0/1, -1 if absent (use the model's default) */
  const char *pre;           /* tokenizer.ggml.pre, e.g. "smollm", "llama3", "gpt2"; may be NULL */
  const char *chat_template; /* tokenizer.chat_template or NULL */
} tandem_tokenizer_spec;

/* Serializes `spec` into a self-contained byte string (caller frees with free()). */
tandem_status tandem_tokenizer_serialize(const tandem_tokenizer_spec *spec, uint8_t **out_data,
                                         size_t *out_size);

typedef struct tandem_tokenizer tandem_tokenizer;

/* Parses serialized bytes (checking every length against the buffer). */
tandem_status tandem_tokenizer_open(const uint8_t *data, size_t size,
                                    tandem_tokenizer **out_tokenizer);
void tandem_tokenizer_close(tandem_tokenizer *tok);

/* Text -> token ids. add_special: prepend BOS / append EOS as the vocabulary says.
 * parse_special: text like "<|im_start|>" becomes its special token. *out_ids is
 * malloc'd (caller frees). */
tandem_status tandem_tokenize(const tandem_tokenizer *tok, const char *text, size_t len,
                              int add_special, int parse_special, int32_t **out_ids,
                              size_t *out_count);
/* The bytes a token stands for (for streaming output), or an error for an id out of
 * range. The pointer stays valid until the tokenizer is closed. */
tandem_status tandem_token_piece(const tandem_tokenizer *tok, int32_t id, const char **out_bytes,
                                 size_t *out_len);

/* ---- The driver of a compiled LLM executable ---------------------------------------
 *   PROG -p PROMPT [-n N] [--temp T] [--top-k K] [--top-p P] [--seed S] [--chat]
 *   PROG --perplexity FILE [--ctx N] [--save-logits FILE] [--kl-divergence FILE]
 *   PROG --score-tokens=@ids.npy --output=@logits.npy
 *   PROG --tokenize TEXT
 *   PROG --bench [-p N] [-n N]      plus --threads N, --weights PATH, --help.
 * Returns the exit status (0 ok, 1 bad input, 2 usage). */
int tandem_llm_driver_main(const tandem_llm_desc *desc, int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif /* TANDEM_LLM_H */
