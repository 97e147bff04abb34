/* Opening a serialized tokenizer (tokenizer_format.c reads the bytes): the lookup
 * tables, llama.cpp's defaults and special-token rules, each token's printable bytes.
 * Tokenizing itself is in tokenize.c, tokenizer_bpe.c and tokenizer_spm.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_bytes.h"
#include "rt_status.h"
#include "rt_tokenizer.h"

#define RT_TOK_ABSENT 0xFFFFFFFFu

/* ---- hashing and the lookup tables ---------------------------------------------- */

static uint64_t rt_hash_bytes(const void *data, size_t len) {
  const uint8_t *p = data;
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, then a final mix */
  for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ull;
  return h ^ (h >> 32);
}

static uint64_t rt_hash_pair(const void *a, size_t a_len, const void *b, size_t b_len) {
  return rt_hash_bytes(a, a_len) * 0x9e3779b97f4a7c15ull ^ rt_hash_bytes(b, b_len);
}

/* At most half full. */
static bool rt_table_init(rt_table *t, uint32_t count) {
  uint64_t cap = 16;
  while (cap < 2ull * count) cap <<= 1;
  t->slots = cap <= (1ull << 31) ? calloc((size_t)cap, sizeof *t->slots) : NULL;
  t->mask = (uint32_t)(cap - 1);
  return t->slots != NULL;
}

static bool rt_bytes_eq(const void *a, size_t a_len, const void *b, size_t b_len) {
  return a_len == b_len && memcmp(a, b, a_len) == 0;
}

int32_t rt_token_find(const tandem_tokenizer *tok, const void *text, size_t len) {
  const rt_table *t = &tok->token_ids;
  for (uint32_t i = (uint32_t)rt_hash_bytes(text, len) & t->mask; t->slots[i]; i = (i + 1) & t->mask) {
    int32_t id = (int32_t)(t->slots[i] - 1);
    if (rt_bytes_eq(rt_token_text(tok, id), rt_token_len(tok, id), text, len)) return id;
  }
  return -1;
}

/* A later token with the same text replaces the earlier one (llama.cpp's
 * token_to_id[word] = i). */
static void rt_token_insert(tandem_tokenizer *tok, int32_t id) {
  rt_table *t = &tok->token_ids;
  const char *text = rt_token_text(tok, id);
  size_t len = rt_token_len(tok, id);
  uint32_t i = (uint32_t)rt_hash_bytes(text, len) & t->mask;
  for (; t->slots[i]; i = (i + 1) & t->mask) {
    int32_t other = (int32_t)(t->slots[i] - 1);
    if (rt_bytes_eq(rt_token_text(tok, other), rt_token_len(tok, other), text, len)) break;
  }
  t->slots[i] = (uint32_t)id + 1;
}

static void rt_merge_parts(const tandem_tokenizer *tok, uint32_t m, const uint8_t **left,
                           size_t *left_len, const uint8_t **right, size_t *right_len) {
  *left = tok->merge + tok->merge_start[m];
  *left_len = tok->merge_split[m] - tok->merge_start[m];
  *right = tok->merge + tok->merge_split[m] + 1;
  *right_len = tok->merge_start[m + 1] - tok->merge_split[m] - 1;
}

int32_t rt_merge_rank(const tandem_tokenizer *tok, const void *left, size_t left_len,
                      const void *right, size_t right_len) {
  const rt_table *t = &tok->merge_ranks;
  uint32_t i = (uint32_t)rt_hash_pair(left, left_len, right, right_len) & t->mask;
  for (; t->slots[i]; i = (i + 1) & t->mask) {
    uint32_t m = t->slots[i] - 1;
    const uint8_t *l, *r;
    size_t ll, rl;
    rt_merge_parts(tok, m, &l, &ll, &r, &rl);
    if (rt_bytes_eq(l, ll, left, left_len) && rt_bytes_eq(r, rl, right, right_len))
      return (int32_t)m;
  }
  return -1;
}

/* The first merge of a pair keeps its rank (llama.cpp's bpe_ranks.emplace). Merges
 * without a space never apply. */
static void rt_merge_insert(tandem_tokenizer *tok, uint32_t m) {
  if (tok->merge_split[m] == tok->merge_start[m]) return;
  const uint8_t *l, *r;
  size_t ll, rl;
  rt_merge_parts(tok, m, &l, &ll, &r, &rl);
  if (rt_merge_rank(tok, l, ll, r, rl) >= 0) return;
  rt_table *t = &tok->merge_ranks;
  uint32_t i = (uint32_t)rt_hash_pair(l, ll, r, rl) & t->mask;
  while (t->slots[i]) i = (i + 1) & t->mask;
  t->slots[i] = m + 1;
}

bool rt_ids_push(rt_ids *ids, int32_t id) {
  if (ids->count == ids->cap) {
    size_t cap = ids->cap ? 2 * ids->cap : 64;
    int32_t *data = realloc(ids->data, cap * sizeof *data);
    if (!data) return false;
    ids->data = data;
    ids->cap = cap;
  }
  ids->data[ids->count++] = id;
  return true;
}

static bool rt_bigram_before(const rt_bigram *x, const rt_bigram *y) {
  return x->key < y->key || (x->key == y->key && x->left < y->left);
}

bool rt_bigram_push(rt_bigram_queue *q, rt_bigram item) {
  if (q->count == q->cap) {
    size_t cap = q->cap ? 2 * q->cap : 64;
    rt_bigram *data = realloc(q->data, cap * sizeof *data);
    if (!data) return false;
    q->data = data;
    q->cap = cap;
  }
  size_t i = q->count++;
  for (; i > 0 && rt_bigram_before(&item, &q->data[(i - 1) / 2]); i = (i - 1) / 2)
    q->data[i] = q->data[(i - 1) / 2];
  q->data[i] = item;
  return true;
}

rt_bigram rt_bigram_pop(rt_bigram_queue *q) {
  rt_bigram top = q->data[0], last = q->data[--q->count];
  size_t i = 0;
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= q->count) break;
    if (child + 1 < q->count && rt_bigram_before(&q->data[child + 1], &q->data[child])) child++;
    if (!rt_bigram_before(&q->data[child], &last)) break;
    q->data[i] = q->data[child];
    i = child;
  }
  if (q->count) q->data[i] = last;
  return top;
}

/* ---- building the tokenizer ----------------------------------------------------------- */

static tandem_status rt_oom(void) {
  return rt_status_make(TANDEM_OUT_OF_MEMORY, "tokenizer: out of memory");
}

/* Token texts, with llama.cpp's "[EMPTY_i]" for an empty one (so that no special
 * token is empty and every text is a distinct key). */
static tandem_status rt_copy_tokens(tandem_tokenizer *tok, const rt_tok_raw *raw) {
  uint64_t total = raw->tokens.blob_size;
  for (uint32_t i = 0; i < raw->n_tokens; i++)
    if (rt_strings_start(&raw->tokens, i + 1) == rt_strings_start(&raw->tokens, i)) total += 24;
  if (total >= RT_TOK_ABSENT) return rt_oom();
  tok->text = malloc(total ? (size_t)total : 1);
  tok->text_start = malloc(((size_t)raw->n_tokens + 1) * sizeof *tok->text_start);
  if (!tok->text || !tok->text_start) return rt_oom();
  uint32_t at = 0;
  for (uint32_t i = 0; i < raw->n_tokens; i++) {
    uint32_t start = rt_strings_start(&raw->tokens, i), end = rt_strings_start(&raw->tokens, i + 1);
    tok->text_start[i] = at;
    if (end > start) {
      memcpy(tok->text + at, raw->tokens.blob + start, end - start);
      at += end - start;
    } else {
      at += (uint32_t)sprintf((char *)tok->text + at, "[EMPTY_%" PRIu32 "]", i);
    }
  }
  tok->text_start[raw->n_tokens] = at;
  return NULL;
}

static tandem_status rt_copy_merges(tandem_tokenizer *tok, const rt_tok_raw *raw) {
  size_t n = raw->n_merges;
  tok->merge = malloc(raw->merges.blob_size ? raw->merges.blob_size : 1);
  tok->merge_start = malloc((n + 1) * sizeof *tok->merge_start);
  tok->merge_split = malloc((n ? n : 1) * sizeof *tok->merge_split);
  if (!tok->merge || !tok->merge_start || !tok->merge_split) return rt_oom();
  memcpy(tok->merge, raw->merges.blob, raw->merges.blob_size);
  for (uint32_t i = 0; i <= n; i++) tok->merge_start[i] = rt_strings_start(&raw->merges, i);
  for (uint32_t i = 0; i < n; i++) {
    /* llama.cpp splits at the first space after the first byte. */
    uint32_t start = tok->merge_start[i], end = tok->merge_start[i + 1];
    const uint8_t *space = end - start > 1 ? memchr(tok->merge + start + 1, ' ', end - start - 1) : NULL;
    tok->merge_split[i] = space ? (uint32_t)(space - tok->merge) : start;
  }
  return NULL;
}

static uint8_t rt_attr_of_type(int32_t type) {
  switch (type) {
  case RT_TOKEN_UNKNOWN: return RT_ATTR_UNKNOWN;
  case RT_TOKEN_UNUSED: return RT_ATTR_UNUSED;
  case RT_TOKEN_NORMAL: return RT_ATTR_NORMAL;
  case RT_TOKEN_CONTROL: return RT_ATTR_CONTROL;
  case RT_TOKEN_USER_DEFINED: return RT_ATTR_USER_DEFINED;
  case RT_TOKEN_BYTE: return RT_ATTR_BYTE;
  default: return RT_ATTR_UNDEFINED;
  }
}

static tandem_status rt_copy_scores_attrs(tandem_tokenizer *tok, const rt_tok_raw *raw) {
  tok->scores = calloc(raw->n_tokens, sizeof *tok->scores);
  tok->attrs = malloc(raw->n_tokens);
  if (!tok->scores || !tok->attrs) return rt_oom();
  for (uint32_t i = 0; i < raw->n_tokens; i++) {
    if (raw->scores) {
      uint32_t bits = rt_load_u32le(raw->scores + 4 * i);
      memcpy(&tok->scores[i], &bits, 4);
    }
    tok->attrs[i] = raw->types ? rt_attr_of_type((int32_t)rt_load_u32le(raw->types + 4 * i))
                               : RT_ATTR_NORMAL;
  }
  return NULL;
}

/* llama.cpp's defaults for what GGUF leaves out (llama_vocab::impl::load). */
static tandem_status rt_resolve_defaults(tandem_tokenizer *tok, const rt_tok_raw *raw) {
  bool spm = tok->kind == TANDEM_TOKENIZER_SPM;
  bool pre_add_bos = false;
  int32_t def_bos = spm ? 1 : 11, def_eos = spm ? 2 : 11, def_unk = spm ? 0 : -1;
  tok->pre_kind = RT_PRE_DEFAULT;
  if (!spm && tok->pre && *tok->pre &&
      !rt_pre_lookup(tok->pre, &tok->pre_kind, &tok->ignore_merges, &pre_add_bos))
    return rt_tok_check_pre(tok->kind, tok->pre);
  /* A default id outside the vocabulary is dropped, as llama.cpp does. */
  tok->bos_id = raw->bos_id >= 0 ? raw->bos_id : (uint32_t)def_bos < raw->n_tokens ? def_bos : -1;
  tok->eos_id = raw->eos_id >= 0 ? raw->eos_id : (uint32_t)def_eos < raw->n_tokens ? def_eos : -1;
  tok->unk_id = raw->unk_id >= 0 ? raw->unk_id : def_unk >= 0 && (uint32_t)def_unk < raw->n_tokens ? def_unk : -1;
  tok->pad_id = raw->pad_id;
  tok->add_bos = raw->add_bos >= 0 ? raw->add_bos : (spm || pre_add_bos);
  tok->add_eos = raw->add_eos >= 0 ? raw->add_eos : false;
  tok->add_space_prefix = raw->add_space_prefix >= 0 ? raw->add_space_prefix : spm;
  if (tok->add_bos && tok->bos_id < 0)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "tokenizer: adds BOS but has no BOS token");
  if (tok->add_eos && tok->eos_id < 0)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "tokenizer: adds EOS but has no EOS token");
  return NULL;
}

static tandem_status rt_build_tables(tandem_tokenizer *tok) {
  if (!rt_table_init(&tok->token_ids, tok->n_tokens) ||
      !rt_table_init(&tok->merge_ranks, tok->n_merges))
    return rt_oom();
  for (uint32_t i = 0; i < tok->n_tokens; i++) rt_token_insert(tok, (int32_t)i);
  for (uint32_t i = 0; i < tok->n_merges; i++) rt_merge_insert(tok, i);
  return NULL;
}

/* GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the others
 * for 256, 257, ... in byte order. */
static void rt_build_byte_table(tandem_tokenizer *tok) {
  uint16_t next = 256;
  for (int i = 0; i < 324; i++) tok->cp_byte[i] = -1;
  for (int b = 0; b < 256; b++) {
    bool printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae);
    tok->byte_cp[b] = printable ? (uint16_t)b : next++;
    tok->cp_byte[tok->byte_cp[b]] = (int16_t)b;
  }
}

/* llama_vocab::byte_to_token for SPM; where llama.cpp would throw, unk_id. */
static void rt_build_byte_tokens(tandem_tokenizer *tok) {
  static const char hex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; b++) {
    char name[7] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>', 0};
    uint8_t raw = (uint8_t)b;
    int32_t id = rt_token_find(tok, name, 6);
    if (id < 0) id = rt_token_find(tok, &raw, 1);
    tok->byte_token[b] = id >= 0 ? id : tok->unk_id;
  }
}

/* ---- special and end-of-generation tokens ---------------------------------------------- */

/* Texts that llama.cpp (llama_vocab::impl::load) recognises as EOT, EOM and FIM tokens
 * and forces to CONTROL. */
static const char *const rt_control_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
    "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<\xef\xbd\x9c" "end\xe2\x96\x81" "of"
    "\xe2\x96\x81" "sentence\xef\xbd\x9c>", "<end_of_utterance>", "<|eom_id|>",
    "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81"
    "begin\xef\xbd\x9c>", "<PRE>", "\xe2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>",
    "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81"
    "hole\xef\xbd\x9c>", "<SUF>", "\xe2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>",
    "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\xef\xbd\x9c" "fim\xe2\x96\x81"
    "end\xef\xbd\x9c>", "<MID>", "\xe2\x96\x81<MID>", "<|code_middle|>", "<|middle|>",
};

/* FIM pad, repo and file-separator tokens end generation (one of each: llama.cpp takes
 * the first it meets; here the lowest id). */
static const char *const rt_fim_eog_texts[3][6] = {
    {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", NULL},
    {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", NULL},
    {"<|file_sep|>", NULL},
};

/* Texts that end generation (llama.cpp's special_eog_ids list). */
static const char *const rt_eog_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>",
    "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>",
    "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>",
    "<turn|>", "<|tool_response>", "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81"
    "sentence\xef\xbd\x9c>", "[e~[",
};

#define RT_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int32_t rt_find_cstr(const tandem_tokenizer *tok, const char *text) {
  return rt_token_find(tok, text, strlen(text));
}

static void rt_force_control(tandem_tokenizer *tok, int32_t id) {
  if (id >= 0) tok->attrs[id] |= RT_ATTR_CONTROL;
}

static int rt_compare_ids(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

/* Adds `id` to the end-of-generation set; recognised by text, it also becomes CONTROL. */
static void rt_eog_add(tandem_tokenizer *tok, int32_t id, bool by_text) {
  if (id < 0) return;
  if (by_text) rt_force_control(tok, id);
  for (uint32_t i = 0; i < tok->n_eog; i++)
    if (tok->eog[i] == id) return;
  tok->eog[tok->n_eog++] = id;
}

static tandem_status rt_build_eog(tandem_tokenizer *tok) {
  size_t cap = RT_COUNT(rt_eog_texts) + RT_COUNT(rt_fim_eog_texts) + 2;
  tok->eog = malloc(cap * sizeof *tok->eog);
  if (!tok->eog) return rt_oom();
  for (size_t i = 0; i < RT_COUNT(rt_control_texts); i++)
    rt_force_control(tok, rt_find_cstr(tok, rt_control_texts[i]));
  for (size_t i = 0; i < RT_COUNT(rt_fim_eog_texts); i++) {
    int32_t best = -1;
    for (size_t j = 0; rt_fim_eog_texts[i][j]; j++) {
      int32_t id = rt_find_cstr(tok, rt_fim_eog_texts[i][j]);
      if (id >= 0 && (best < 0 || id < best)) best = id;
    }
    rt_eog_add(tok, best, true);
  }
  for (size_t i = 0; i < RT_COUNT(rt_eog_texts); i++) rt_eog_add(tok, rt_find_cstr(tok, rt_eog_texts[i]), true);
  rt_eog_add(tok, tok->eos_id, false);
  qsort(tok->eog, tok->n_eog, sizeof *tok->eog, rt_compare_ids);
  /* Control tokens named "unused" are unused (llama.cpp). */
  for (uint32_t i = 0; i < tok->n_tokens; i++)
    if ((tok->attrs[i] & RT_ATTR_CONTROL) &&
        memmem(rt_token_text(tok, (int32_t)i), rt_token_len(tok, (int32_t)i), "unused", 6))
      tok->attrs[i] |= RT_ATTR_UNUSED;
  return NULL;
}

bool rt_token_is_eog(const tandem_tokenizer *tok, int32_t id) {
  return bsearch(&id, tok->eog, tok->n_eog, sizeof id, rt_compare_ids) != NULL;
}

typedef struct rt_special_key {
  uint32_t len;
  int32_t id;
} rt_special_key;

/* Longest first; equal lengths by id, so that the order is the same everywhere
 * (llama.cpp's std::sort leaves ties unspecified). */
static int rt_compare_special(const void *a, const void *b) {
  const rt_special_key *x = a, *y = b;
  if (x->len != y->len) return x->len > y->len ? -1 : 1;
  return (x->id > y->id) - (x->id < y->id);
}

static tandem_status rt_build_special(tandem_tokenizer *tok) {
  rt_special_key *keys = malloc(tok->n_tokens * sizeof *keys);
  tok->special = malloc(tok->n_tokens * sizeof *tok->special);
  if (!keys || !tok->special) {
    free(keys);
    return rt_oom();
  }
  for (uint32_t i = 0; i < tok->n_tokens; i++)
    if (tok->attrs[i] & (RT_ATTR_CONTROL | RT_ATTR_USER_DEFINED | RT_ATTR_UNKNOWN))
      keys[tok->n_special++] = (rt_special_key){(uint32_t)rt_token_len(tok, (int32_t)i), (int32_t)i};
  qsort(keys, tok->n_special, sizeof *keys, rt_compare_special);
  for (uint32_t i = 0; i < tok->n_special; i++) tok->special[i] = keys[i].id;
  free(keys);
  return NULL;
}

/* ---- pieces: the bytes each token prints as ------------------------------------------- */

static int rt_hex_digit(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* "<0xAB>" -> 0xAB; -1 if the text is not shaped so. */
static int rt_byte_token_value(const uint8_t *text, size_t len) {
  if (len < 5 || memcmp(text, "<0x", 3) != 0) return -1;
  int hi = rt_hex_digit(text[3]), lo = rt_hex_digit(text[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

uint32_t rt_utf8_decode(const uint8_t *p, size_t len, size_t *n) {
  uint8_t b = p[0];
  size_t need = b < 0x80 ? 1 : (b & 0x40) == 0 ? 0 : (b & 0x20) == 0 ? 2 : (b & 0x10) == 0 ? 3
                : (b & 0x08) == 0 ? 4 : 0;
  *n = 1;
  if (need == 1) return b;
  if (need == 0 || len < need) return 0xFFFD;
  uint32_t cp = b & (0x7f >> need);
  for (size_t i = 1; i < need; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (p[i] & 0x3f);
  }
  *n = need;
  return cp;
}

size_t rt_utf8_encode(uint32_t cp, uint8_t *out) {
  if (cp < 0x80) {
    out[0] = (uint8_t)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (uint8_t)(0xc0 | (cp >> 6));
    out[1] = (uint8_t)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (uint8_t)(0xe0 | (cp >> 12));
    out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    out[2] = (uint8_t)(0x80 | (cp & 0x3f));
    return 3;
  }
  out[0] = (uint8_t)(0xf0 | (cp >> 18));
  out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
  out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
  out[3] = (uint8_t)(0x80 | (cp & 0x3f));
  return 4;
}

/* Appends the bytes of token `id` to `out` (capacity checked by the caller). */
static size_t rt_piece_of(const tandem_tokenizer *tok, int32_t id, uint8_t *out) {
  const uint8_t *text = (const uint8_t *)rt_token_text(tok, id);
  size_t len = rt_token_len(tok, id), n = 0;
  uint8_t attr = tok->attrs[id];
  if (attr & (RT_ATTR_UNKNOWN | RT_ATTR_CONTROL | RT_ATTR_USER_DEFINED)) {
    memcpy(out, text, len);
    return len;
  }
  if (attr & RT_ATTR_NORMAL) {
    for (size_t i = 0, step; i < len; i += step) {
      uint32_t cp = rt_utf8_decode(text + i, len - i, &step);
      if (tok->kind == TANDEM_TOKENIZER_SPM && cp == 0x2581) {
        out[n++] = ' ';
      } else if (tok->kind == TANDEM_TOKENIZER_BPE && cp < 324 && tok->cp_byte[cp] >= 0) {
        out[n++] = (uint8_t)tok->cp_byte[cp];
      } else {
        memcpy(out + n, text + i, step); /* llama.cpp prints "[UNK_BYTE_...]" for BPE */
        n += step;
      }
    }
    return n;
  }
  if (attr & RT_ATTR_BYTE) {
    int b = rt_byte_token_value(text, len);
    if (b >= 0) out[n++] = (uint8_t)b;
  }
  return n;
}

static tandem_status rt_build_pieces(tandem_tokenizer *tok) {
  /* No piece is longer than its text. */
  tok->piece = malloc(tok->text_start[tok->n_tokens] ? tok->text_start[tok->n_tokens] : 1);
  tok->piece_start = malloc(((size_t)tok->n_tokens + 1) * sizeof *tok->piece_start);
  if (!tok->piece || !tok->piece_start) return rt_oom();
  uint32_t at = 0;
  for (uint32_t i = 0; i < tok->n_tokens; i++) {
    tok->piece_start[i] = at;
    at += (uint32_t)rt_piece_of(tok, (int32_t)i, tok->piece + at);
  }
  tok->piece_start[tok->n_tokens] = at;
  return NULL;
}

/* ---- open and close ------------------------------------------------------------------------ */

static tandem_status rt_tokenizer_build(tandem_tokenizer *tok, const uint8_t *data, size_t size) {
  rt_tok_raw raw = {0};
  tandem_status status = rt_tok_read(data, size, &raw);
  tok->pre = raw.pre; /* owned by tok from here, even after a failed read */
  tok->chat_template = raw.chat_template;
  RT_TRY(status);
  tok->kind = raw.kind;
  tok->n_tokens = raw.n_tokens;
  tok->n_merges = raw.n_merges;
  RT_TRY(rt_resolve_defaults(tok, &raw));
  RT_TRY(rt_copy_tokens(tok, &raw));
  RT_TRY(rt_copy_merges(tok, &raw));
  RT_TRY(rt_copy_scores_attrs(tok, &raw));
  RT_TRY(rt_build_tables(tok));
  rt_build_byte_table(tok);
  rt_build_byte_tokens(tok);
  RT_TRY(rt_build_eog(tok));
  RT_TRY(rt_build_special(tok));
  RT_TRY(rt_build_pieces(tok));
  if (tok->kind == TANDEM_TOKENIZER_BPE) RT_TRY(rt_pre_compile(tok->pre_kind, &tok->pre_regex));
  return NULL;
}

tandem_status tandem_tokenizer_open(const uint8_t *data, size_t size,
                                    tandem_tokenizer **out_tokenizer) {
  if (!out_tokenizer)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "tandem_tokenizer_open: out_tokenizer is NULL");
  *out_tokenizer = NULL;
  if (!data && size)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "tandem_tokenizer_open: data is NULL");
  tandem_tokenizer *tok = calloc(1, sizeof *tok);
  if (!tok) return rt_oom();
  tandem_status status = rt_tokenizer_build(tok, data ? data : (const uint8_t *)"", size);
  if (status) {
    tandem_tokenizer_close(tok);
    return status;
  }
  *out_tokenizer = tok;
  return NULL;
}

void tandem_tokenizer_close(tandem_tokenizer *tok) {
  if (!tok) return;
  rt_pre_free(tok->pre_regex);
  free(tok->pre);
  free(tok->chat_template);
  free(tok->text);
  free(tok->text_start);
  free(tok->scores);
  free(tok->attrs);
  free(tok->piece);
  free(tok->piece_start);
  free(tok->merge);
  free(tok->merge_start);
  free(tok->merge_split);
  free(tok->token_ids.slots);
  free(tok->merge_ranks.slots);
  free(tok->special);
  free(tok->eog);
  free(tok);
}
