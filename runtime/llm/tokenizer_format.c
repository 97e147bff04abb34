/* The tokenizer's serialized form: tandem_tokenizer_serialize, and reading it back
 * (rt_tok_read) for tandem_tokenizer_open (tokenizer.c).
 *
 * tandemc copies a GGUF model's tokenizer.ggml.* arrays into the compiled object with
 * tandem_tokenizer_serialize; the runtime opens those bytes with tandem_tokenizer_open,
 * which checks every length against the buffer (the bytes may be anything: it is
 * fuzzed) and builds the lookup tables. The serialized form keeps the GGUF values as
 * they are (-1 for "absent"); open resolves the defaults the way llama.cpp's
 * llama_vocab::load does, so that rule lives in one place.
 *
 * Serialized form, version 1 (integers little-endian; strings are bytes, no NUL):
 *    0  char magic[8] = "TNDMTOK1"
 *    8  u32  version = 1
 *   12  i32  kind (tandem_tokenizer_kind)
 *   16  u32  n_tokens (>= 1)
 *   20  u32  n_merges
 *   24  i32  bos_id, eos_id, unk_id, pad_id     (-1: absent, else < n_tokens)
 *   40  i32  add_bos, add_eos, add_space_prefix (-1: absent, 0, 1)
 *   52  u32  flags: bit 0 scores present, bit 1 token types present
 *   56  then, in order:
 *       u32 len + bytes   tokenizer.ggml.pre        (len 0xFFFFFFFF: absent)
 *       u32 len + bytes   tokenizer.chat_template   (len 0xFFFFFFFF: absent)
 *       u32 token_end[n_tokens]   token i's text is blob[token_end[i-1] .. token_end[i])
 *       u32 len + bytes   the token text blob (len == token_end[n_tokens - 1])
 *       f32 scores[n_tokens]      if flags bit 0
 *       i32 types[n_tokens]       if flags bit 1 (GGUF token_type)
 *       u32 merge_end[n_merges], u32 len + bytes: the merges, "left right", likewise
 *   and nothing after. Offsets are non-decreasing; lengths are checked before use.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "rt_bytes.h"
#include "rt_status.h"
#include "rt_tokenizer.h"

#define RT_TOK_MAGIC "TNDMTOK1"
#define RT_TOK_VERSION 1u
#define RT_TOK_HEADER 56u
#define RT_TOK_ABSENT 0xFFFFFFFFu
enum { RT_TOK_HAS_SCORES = 1u << 0, RT_TOK_HAS_TYPES = 1u << 1 };

/* ---- serializing ------------------------------------------------------------------ */

typedef struct rt_writer {
  uint8_t *data;
  size_t size, cap;
  bool failed;
} rt_writer;

static void rt_write(rt_writer *w, const void *bytes, size_t n) {
  if (w->failed || n == 0) return;
  if (w->size + n > w->cap) {
    size_t cap = w->cap ? w->cap : 4096;
    while (cap < w->size + n) cap *= 2;
    uint8_t *data = realloc(w->data, cap);
    if (!data) {
      w->failed = true;
      return;
    }
    w->data = data;
    w->cap = cap;
  }
  memcpy(w->data + w->size, bytes, n);
  w->size += n;
}

static void rt_write_u32(rt_writer *w, uint32_t v) {
  uint8_t b[4];
  rt_store_u32le(b, v);
  rt_write(w, b, 4);
}

static void rt_write_string(rt_writer *w, const char *s) {
  if (!s) {
    rt_write_u32(w, RT_TOK_ABSENT);
    return;
  }
  size_t len = strlen(s);
  rt_write_u32(w, (uint32_t)len);
  rt_write(w, s, len);
}

/* token_end[] then the blob, for tokens or merges. */
static void rt_write_strings(rt_writer *w, const char *const *strings, uint32_t count) {
  uint64_t end = 0;
  for (uint32_t i = 0; i < count; i++) {
    end += strlen(strings[i]);
    rt_write_u32(w, (uint32_t)end);
  }
  rt_write_u32(w, (uint32_t)end);
  for (uint32_t i = 0; i < count; i++) rt_write(w, strings[i], strlen(strings[i]));
}

static tandem_status rt_check_strings(const char *what, const char *const *strings,
                                      uint32_t count) {
  if (count && !strings)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "tokenizer: %s is NULL", what);
  uint64_t total = 0;
  for (uint32_t i = 0; i < count; i++) {
    if (!strings[i])
      return rt_status_make(TANDEM_INVALID_ARGUMENT, "tokenizer: %s[%" PRIu32 "] is NULL", what, i);
    total += strlen(strings[i]);
  }
  if (total >= RT_TOK_ABSENT)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "tokenizer: %s take 4 GiB or more", what);
  return NULL;
}

static tandem_status rt_check_id(const char *what, int32_t id, uint32_t n_tokens) {
  if (id == -1 || (id >= 0 && (uint32_t)id < n_tokens)) return NULL;
  return rt_status_make(TANDEM_INVALID_ARGUMENT,
                        "tokenizer: %s %" PRId32 " is out of range (%" PRIu32 " tokens)", what,
                        id, n_tokens);
}

static tandem_status rt_check_flag(const char *what, int32_t v) {
  if (v >= -1 && v <= 1) return NULL;
  return rt_status_make(TANDEM_INVALID_ARGUMENT, "tokenizer: %s is %" PRId32 ", expected -1, 0 or 1",
                        what, v);
}

tandem_status rt_tok_check_pre(int32_t kind, const char *pre) {
  rt_pre_kind k;
  bool ignore, bos;
  if (kind != TANDEM_TOKENIZER_BPE || !pre || !*pre || rt_pre_lookup(pre, &k, &ignore, &bos))
    return NULL;
  return rt_status_make(TANDEM_INVALID_ARGUMENT,
                        "tokenizer: pre-tokenizer '%s' is not supported (supported: default, "
                        "gpt2, smollm, llama3 and the names llama.cpp gives the same regexes, "
                        "qwen2)", pre);
}

/* Everything that open would reject, reported with the spec's names. */
static tandem_status rt_spec_check(const tandem_tokenizer_spec *s) {
  if (s->kind != TANDEM_TOKENIZER_BPE && s->kind != TANDEM_TOKENIZER_SPM)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "tokenizer: unknown kind %" PRId32, s->kind);
  if (s->n_tokens == 0 || s->n_tokens >= RT_TOK_ABSENT / 4)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "tokenizer: %" PRIu32 " tokens", s->n_tokens);
  if (s->n_merges >= RT_TOK_ABSENT / 4)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "tokenizer: %" PRIu32 " merges", s->n_merges);
  RT_TRY(rt_check_strings("tokens", s->tokens, s->n_tokens));
  RT_TRY(rt_check_strings("merges", s->merges, s->n_merges));
  RT_TRY(rt_check_id("bos_id", s->bos_id, s->n_tokens));
  RT_TRY(rt_check_id("eos_id", s->eos_id, s->n_tokens));
  RT_TRY(rt_check_id("unk_id", s->unk_id, s->n_tokens));
  RT_TRY(rt_check_id("pad_id", s->pad_id, s->n_tokens));
  RT_TRY(rt_check_flag("add_bos", s->add_bos));
  RT_TRY(rt_check_flag("add_eos", s->add_eos));
  RT_TRY(rt_check_flag("add_space_prefix", s->add_space_prefix));
  if ((s->pre && strlen(s->pre) >= RT_TOK_ABSENT) ||
      (s->chat_template && strlen(s->chat_template) >= RT_TOK_ABSENT))
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "tokenizer: a string is too long");
  return rt_tok_check_pre(s->kind, s->pre);
}

static void rt_serialize_body(rt_writer *w, const tandem_tokenizer_spec *s) {
  uint8_t header[RT_TOK_HEADER] = {0};
  memcpy(header, RT_TOK_MAGIC, 8);
  const int32_t fields[] = {s->kind,   (int32_t)s->n_tokens, (int32_t)s->n_merges,
                            s->bos_id, s->eos_id,            s->unk_id,
                            s->pad_id, s->add_bos,           s->add_eos,
                            s->add_space_prefix};
  rt_store_u32le(header + 8, RT_TOK_VERSION);
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
    rt_store_u32le(header + 12 + 4 * i, (uint32_t)fields[i]);
  rt_store_u32le(header + 52, (s->scores ? RT_TOK_HAS_SCORES : 0) |
                                  (s->token_types ? RT_TOK_HAS_TYPES : 0));
  rt_write(w, header, sizeof header);
  rt_write_string(w, s->pre);
  rt_write_string(w, s->chat_template);
  rt_write_strings(w, s->tokens, s->n_tokens);
  for (uint32_t i = 0; s->scores && i < s->n_tokens; i++) {
    uint32_t bits;
    memcpy(&bits, &s->scores[i], 4);
    rt_write_u32(w, bits);
  }
  for (uint32_t i = 0; s->token_types && i < s->n_tokens; i++)
    rt_write_u32(w, (uint32_t)s->token_types[i]);
  rt_write_strings(w, s->merges, s->n_merges);
}

tandem_status tandem_tokenizer_serialize(const tandem_tokenizer_spec *spec, uint8_t **out_data,
                                         size_t *out_size) {
  if (!out_data || !out_size)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "tandem_tokenizer_serialize: NULL output");
  *out_data = NULL;
  *out_size = 0;
  if (!spec) return rt_status_make(TANDEM_INVALID_ARGUMENT, "tandem_tokenizer_serialize: NULL spec");
  RT_TRY(rt_spec_check(spec));
  rt_writer w = {0};
  rt_serialize_body(&w, spec);
  if (w.failed) {
    free(w.data);
    return rt_status_make(TANDEM_OUT_OF_MEMORY, "tokenizer: out of memory serializing");
  }
  *out_data = w.data;
  *out_size = w.size;
  return NULL;
}

/* ---- reading the serialized form ---------------------------------------------------- */

typedef struct rt_reader {
  const uint8_t *data;
  size_t size, pos;
} rt_reader;

static tandem_status rt_truncated(const rt_reader *r, const char *what) {
  return rt_status_make(TANDEM_DATA_LOSS,
                        "tokenizer: corrupt data: %s at byte %zu runs past the end (%zu bytes)",
                        what, r->pos, r->size);
}

static tandem_status rt_read_u32(rt_reader *r, const char *what, uint32_t *out) {
  if (r->size - r->pos < 4) return rt_truncated(r, what);
  *out = rt_load_u32le(r->data + r->pos);
  r->pos += 4;
  return NULL;
}

/* A pointer to `count` elements of `size` bytes, checked against what is left. */
static tandem_status rt_read_span(rt_reader *r, const char *what, uint64_t count, size_t size,
                                  const uint8_t **out) {
  if (count > (r->size - r->pos) / size) return rt_truncated(r, what);
  *out = r->data + r->pos;
  r->pos += (size_t)(count * size);
  return NULL;
}

/* A malloc'd NUL-terminated copy, or NULL for an absent string. */
static tandem_status rt_read_string(rt_reader *r, const char *what, char **out) {
  uint32_t len = 0;
  const uint8_t *bytes = NULL;
  *out = NULL;
  RT_TRY(rt_read_u32(r, what, &len));
  if (len == RT_TOK_ABSENT) return NULL;
  RT_TRY(rt_read_span(r, what, len, 1, &bytes));
  *out = malloc((size_t)len + 1);
  if (!*out) return rt_status_make(TANDEM_OUT_OF_MEMORY, "tokenizer: out of memory");
  memcpy(*out, bytes, len);
  (*out)[len] = 0;
  return NULL;
}

/* The ends array and blob of `count` strings: checks that the ends never decrease
 * and that the last one is the blob's length. */
static tandem_status rt_read_strings(rt_reader *r, const char *what, uint32_t count,
                                     rt_strings *out) {
  RT_TRY(rt_read_span(r, what, count, 4, &out->ends));
  RT_TRY(rt_read_u32(r, what, &out->blob_size));
  uint32_t prev = 0;
  for (uint32_t i = 0; i < count; i++) {
    uint32_t end = rt_load_u32le(out->ends + 4 * i);
    if (end < prev || end > out->blob_size)
      return rt_status_make(TANDEM_DATA_LOSS, "tokenizer: corrupt data: %s[%" PRIu32
                            "] ends at %" PRIu32 " (previous %" PRIu32 ", blob %" PRIu32 ")",
                            what, i, end, prev, out->blob_size);
    prev = end;
  }
  if (prev != out->blob_size)
    return rt_status_make(TANDEM_DATA_LOSS, "tokenizer: corrupt data: %s end at %" PRIu32
                          ", blob has %" PRIu32 " bytes", what, prev, out->blob_size);
  return rt_read_span(r, what, out->blob_size, 1, &out->blob);
}

uint32_t rt_strings_start(const rt_strings *s, uint32_t i) {
  return i ? rt_load_u32le(s->ends + 4 * (i - 1)) : 0;
}

static tandem_status rt_read_header(rt_reader *r, rt_tok_raw *raw) {
  if (r->size < RT_TOK_HEADER || memcmp(r->data, RT_TOK_MAGIC, 8) != 0)
    return rt_status_make(TANDEM_DATA_LOSS, "tokenizer: not a serialized tandem tokenizer "
                          "(no \"" RT_TOK_MAGIC "\" magic)");
  uint32_t version = rt_load_u32le(r->data + 8);
  if (version != RT_TOK_VERSION)
    return rt_status_make(TANDEM_FAILED_PRECONDITION,
                          "tokenizer: format version %" PRIu32 ", this runtime reads %u",
                          version, RT_TOK_VERSION);
  int32_t f[10];
  for (int i = 0; i < 10; i++) f[i] = (int32_t)rt_load_u32le(r->data + 12 + 4 * i);
  raw->kind = f[0];
  raw->n_tokens = (uint32_t)f[1];
  raw->n_merges = (uint32_t)f[2];
  raw->bos_id = f[3], raw->eos_id = f[4], raw->unk_id = f[5], raw->pad_id = f[6];
  raw->add_bos = f[7], raw->add_eos = f[8], raw->add_space_prefix = f[9];
  raw->flags = rt_load_u32le(r->data + 52);
  r->pos = RT_TOK_HEADER;
  if (raw->kind != TANDEM_TOKENIZER_BPE && raw->kind != TANDEM_TOKENIZER_SPM)
    return rt_status_make(TANDEM_DATA_LOSS, "tokenizer: corrupt data: kind %" PRId32, raw->kind);
  if (raw->n_tokens == 0)
    return rt_status_make(TANDEM_DATA_LOSS, "tokenizer: corrupt data: no tokens");
  if (raw->flags & ~(uint32_t)(RT_TOK_HAS_SCORES | RT_TOK_HAS_TYPES))
    return rt_status_make(TANDEM_DATA_LOSS, "tokenizer: corrupt data: flags 0x%" PRIx32, raw->flags);
  RT_TRY(rt_check_id("bos_id", raw->bos_id, raw->n_tokens));
  RT_TRY(rt_check_id("eos_id", raw->eos_id, raw->n_tokens));
  RT_TRY(rt_check_id("unk_id", raw->unk_id, raw->n_tokens));
  RT_TRY(rt_check_id("pad_id", raw->pad_id, raw->n_tokens));
  RT_TRY(rt_check_flag("add_bos", raw->add_bos));
  RT_TRY(rt_check_flag("add_eos", raw->add_eos));
  return rt_check_flag("add_space_prefix", raw->add_space_prefix);
}

tandem_status rt_tok_read(const uint8_t *data, size_t size, rt_tok_raw *raw) {
  rt_reader reader = {data, size, 0}, *r = &reader;
  RT_TRY(rt_read_header(r, raw));
  RT_TRY(rt_read_string(r, "pre", &raw->pre));
  RT_TRY(rt_read_string(r, "chat_template", &raw->chat_template));
  RT_TRY(rt_read_strings(r, "tokens", raw->n_tokens, &raw->tokens));
  if (raw->flags & RT_TOK_HAS_SCORES) RT_TRY(rt_read_span(r, "scores", raw->n_tokens, 4, &raw->scores));
  if (raw->flags & RT_TOK_HAS_TYPES) RT_TRY(rt_read_span(r, "types", raw->n_tokens, 4, &raw->types));
  RT_TRY(rt_read_strings(r, "merges", raw->n_merges, &raw->merges));
  if (r->pos != r->size)
    return rt_status_make(TANDEM_DATA_LOSS, "tokenizer: corrupt data: %zu bytes after the end",
                          r->size - r->pos);
  return NULL;
}
