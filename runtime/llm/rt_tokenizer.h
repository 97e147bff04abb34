/* The tokenizer's inside, shared by its files (tokenizer_format.c: the serialized
 * form; tokenizer.c: opening, lookups, special tokens, pieces; tokenize.c: text ->
 * ids; tokenizer_bpe.c; tokenizer_spm.c) and the driver (EOG tokens, the chat
 * template). Not part of the public API. */
#ifndef TANDEM_RT_TOKENIZER_H
#define TANDEM_RT_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tandem/llm.h"

/* GGUF tokenizer.ggml.token_type values. */
enum {
  RT_TOKEN_UNDEFINED = 0,
  RT_TOKEN_NORMAL = 1,
  RT_TOKEN_UNKNOWN = 2,
  RT_TOKEN_CONTROL = 3,
  RT_TOKEN_USER_DEFINED = 4,
  RT_TOKEN_UNUSED = 5,
  RT_TOKEN_BYTE = 6,
};

/* Per-token attributes, as llama.cpp derives them from the types (llama_token_attr). */
enum {
  RT_ATTR_UNDEFINED = 0,
  RT_ATTR_UNKNOWN = 1u << 0,
  RT_ATTR_UNUSED = 1u << 1,
  RT_ATTR_NORMAL = 1u << 2,
  RT_ATTR_CONTROL = 1u << 3,
  RT_ATTR_USER_DEFINED = 1u << 4,
  RT_ATTR_BYTE = 1u << 5,
};

/* The regular expressions that split text into words before BPE, as llama.cpp's
 * llm_tokenizer_bpe picks them from tokenizer.ggml.pre. */
typedef enum rt_pre_kind {
  RT_PRE_DEFAULT = 0,
  RT_PRE_GPT2,
  RT_PRE_SMOLLM, /* "\p{N}", then GPT-2's (llama.cpp: STARCODER, SMOLLM, ...) */
  RT_PRE_LLAMA3,
  RT_PRE_QWEN2,
  RT_PRE_COUNT
} rt_pre_kind;

/* Open-addressing hash table of 32-bit values (0 = empty slot); the keys live
 * elsewhere and are compared by the caller's lookup. */
typedef struct rt_table {
  uint32_t *slots; /* [mask + 1] */
  uint32_t mask;
} rt_table;

typedef struct rt_pre rt_pre; /* compiled pre-tokenizer regexes (tokenizer_bpe.c) */

struct tandem_tokenizer {
  int32_t kind;      /* tandem_tokenizer_kind */
  uint32_t n_tokens;
  uint32_t n_merges;
  int32_t bos_id, eos_id, unk_id, pad_id; /* -1: none */
  bool add_bos, add_eos, add_space_prefix; /* resolved: never -1 here */
  bool ignore_merges; /* BPE: a whole word that is a token is taken as it is */
  rt_pre_kind pre_kind;
  char *pre;           /* NUL-terminated, "" if absent */
  char *chat_template; /* NUL-terminated, or NULL */

  /* Token i's text is text[text_start[i] .. text_start[i + 1]). */
  uint8_t *text;
  uint32_t *text_start; /* [n_tokens + 1] */
  float *scores;        /* [n_tokens] */
  uint8_t *attrs;       /* [n_tokens] RT_ATTR_* */
  /* Token i's bytes for output (tandem_token_piece). */
  uint8_t *piece;
  uint32_t *piece_start; /* [n_tokens + 1] */
  /* Merge i is "left right": left = merge[merge_start[i] .. merge_split[i]), right
   * after the space up to merge_start[i + 1]. merge_split[i] == merge_start[i]
   * marks a merge without a space (never applies). */
  uint8_t *merge;
  uint32_t *merge_start; /* [n_merges + 1] */
  uint32_t *merge_split; /* [n_merges] */

  rt_table token_ids;   /* text -> id + 1 (a repeated text maps to its last id) */
  rt_table merge_ranks; /* (left, right) -> rank + 1 (a repeated pair keeps its first) */

  int32_t *special;     /* ids matched verbatim before tokenizing, longest first */
  uint32_t n_special;
  int32_t *eog;         /* end-of-generation ids, ascending */
  uint32_t n_eog;

  rt_pre *pre_regex;    /* BPE only */
  /* GPT-2 byte-level table: byte b <-> code point byte_cp[b] (< 324). */
  uint16_t byte_cp[256];
  int16_t cp_byte[324]; /* -1 where a code point is not a byte's */
  /* SPM byte fallback: the token for each byte ("<0xAB>", else the byte itself, else
   * unk_id; -1 if none of them exists). */
  int32_t byte_token[256];
};

/* ---- the serialized form (tokenizer_format.c) ---- */

/* `count` strings: string i is blob[start(i) .. start(i + 1)). */
typedef struct rt_strings {
  const uint8_t *ends; /* [count] u32 little-endian, each string's end */
  const uint8_t *blob;
  uint32_t blob_size;
} rt_strings;
uint32_t rt_strings_start(const rt_strings *s, uint32_t i);

/* The serialized fields as they are (-1 for absent), borrowed from the buffer, except
 * pre and chat_template: malloc'd, NUL-terminated or NULL, the caller's to free (also
 * after a failed read). */
typedef struct rt_tok_raw {
  int32_t kind, bos_id, eos_id, unk_id, pad_id, add_bos, add_eos, add_space_prefix;
  uint32_t n_tokens, n_merges, flags;
  char *pre, *chat_template;
  rt_strings tokens, merges;
  const uint8_t *scores, *types; /* [n_tokens] f32 / i32 little-endian, or NULL */
} rt_tok_raw;

/* Checks every length and offset of data[0..size) against the buffer. */
tandem_status rt_tok_read(const uint8_t *data, size_t size, rt_tok_raw *raw);
/* NULL if `pre` is a BPE pre-tokenizer this runtime has (or kind is SPM, or pre is
 * absent), else the error that names the supported ones. */
tandem_status rt_tok_check_pre(int32_t kind, const char *pre);

/* ---- lookups (tokenizer.c) ---- */

/* Token lookups. */
int32_t rt_token_find(const tandem_tokenizer *tok, const void *text, size_t len); /* -1 */
int32_t rt_merge_rank(const tandem_tokenizer *tok, const void *left, size_t left_len,
                      const void *right, size_t right_len); /* -1 if no such merge */
static inline size_t rt_token_len(const tandem_tokenizer *tok, int32_t id) {
  return tok->text_start[id + 1] - tok->text_start[id];
}
static inline const char *rt_token_text(const tandem_tokenizer *tok, int32_t id) {
  return (const char *)tok->text + tok->text_start[id];
}

/* UTF-8 as llama.cpp reads it (unicode_cpt_from_utf8): the code point at p (len > 0)
 * and its byte length in *n; 0xFFFD with *n = 1 where nothing decodes. Overlong forms
 * decode; surrogates and values past 0x10FFFF are returned as they are. */
uint32_t rt_utf8_decode(const uint8_t *p, size_t len, size_t *n);
/* Writes cp (< 0x200000) as 1 to 4 bytes; returns the count. */
size_t rt_utf8_encode(uint32_t cp, uint8_t *out);
/* Bytes in the UTF-8 sequence that starts with `lead`, by its top four bits
 * (llama.cpp's unicode_len_utf8: 1 for a stray continuation byte). */
static inline size_t rt_utf8_len(uint8_t lead) {
  static const uint8_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return lookup[lead >> 4];
}

/* A symbol of the merge loops (BPE and SPM): a span of the word, linked to its
 * neighbours; n == 0 once merged into its left neighbour. */
typedef struct rt_symbol {
  int32_t prev, next;
  uint32_t start, n;
} rt_symbol;

/* A candidate merge of symbols left and right. The queue pops the smallest key first
 * and, among equal keys, the leftmost (BPE: key = rank; SPM: key = -score). a and b
 * record what the symbols were when it was queued, to drop it once stale. */
typedef struct rt_bigram {
  double key;
  int32_t left, right;
  uint32_t a, b;
} rt_bigram;

typedef struct rt_bigram_queue {
  rt_bigram *data;
  size_t count, cap;
} rt_bigram_queue;

bool rt_bigram_push(rt_bigram_queue *q, rt_bigram item); /* false when out of memory */
rt_bigram rt_bigram_pop(rt_bigram_queue *q);             /* q->count > 0 */

/* A growable array of token ids. */
typedef struct rt_ids {
  int32_t *data;
  size_t count, cap;
} rt_ids;
bool rt_ids_push(rt_ids *ids, int32_t id); /* false when out of memory */

/* tokenizer_bpe.c */
tandem_status rt_pre_compile(rt_pre_kind kind, rt_pre **out);
void rt_pre_free(rt_pre *pre);
/* Maps a tokenizer.ggml.pre name to its regexes and flags; false if unknown. */
bool rt_pre_lookup(const char *name, rt_pre_kind *kind, bool *ignore_merges, bool *add_bos);
tandem_status rt_bpe_tokenize(const tandem_tokenizer *tok, const uint8_t *text, size_t len,
                              rt_ids *out);

/* tokenizer_spm.c: `text` is the fragment, with the space prefix already applied. */
tandem_status rt_spm_tokenize(const tandem_tokenizer *tok, const uint8_t *text, size_t len,
                              rt_ids *out);

/* For the driver. */
bool rt_token_is_eog(const tandem_tokenizer *tok, int32_t id);

#endif
