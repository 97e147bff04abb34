/* Text -> token ids, as llama.cpp's llama_vocab::impl::tokenize does it: special
 * tokens (CONTROL, USER_DEFINED, UNKNOWN types; CONTROL and UNKNOWN only with
 * parse_special) are cut out of the text verbatim first, longest first
 * (tokenizer_st_partition); what is left goes through BPE (tokenizer_bpe.c) or SPM
 * (tokenizer_spm.c); BOS/EOS are added as the vocabulary says. And token -> bytes. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "rt_status.h"
#include "rt_tokenizer.h"

/* Symbols index words with 32 bits, and BPE may triple the text (U+FFFD). */
#define RT_TOKENIZE_MAX (1u << 30)

static tandem_status rt_oom(void) {
  return rt_status_make(TANDEM_OUT_OF_MEMORY, "tokenizer: out of memory");
}

/* ---- tokenizing ------------------------------------------------------------------------------ */

/* A run of raw text (token < 0) or a special token already recognised. */
typedef struct rt_fragment {
  int32_t token;
  size_t offset, length;
} rt_fragment;

typedef struct rt_fragments {
  rt_fragment *data;
  size_t count, cap;
} rt_fragments;

static bool rt_fragments_push(rt_fragments *f, int32_t token, size_t offset, size_t length) {
  if (f->count == f->cap) {
    size_t cap = f->cap ? 2 * f->cap : 16;
    rt_fragment *data = realloc(f->data, cap * sizeof *data);
    if (!data) return false;
    f->data = data;
    f->cap = cap;
  }
  f->data[f->count++] = (rt_fragment){token, offset, length};
  return true;
}

/* Cuts every occurrence of special token `id` out of the raw fragments of `in`. */
static bool rt_partition_one(const tandem_tokenizer *tok, int32_t id, const uint8_t *text,
                             const rt_fragments *in, rt_fragments *out) {
  const char *needle = rt_token_text(tok, id);
  size_t needle_len = rt_token_len(tok, id);
  out->count = 0;
  for (size_t i = 0; i < in->count; i++) {
    rt_fragment f = in->data[i];
    if (f.token >= 0) {
      if (!rt_fragments_push(out, f.token, 0, 0)) return false;
      continue;
    }
    size_t at = f.offset, end = f.offset + f.length;
    for (const uint8_t *hit; (hit = memmem(text + at, end - at, needle, needle_len));) {
      size_t pos = (size_t)(hit - text);
      if (pos > at && !rt_fragments_push(out, -1, at, pos - at)) return false;
      if (!rt_fragments_push(out, id, 0, 0)) return false;
      at = pos + needle_len;
    }
    if (end > at && !rt_fragments_push(out, -1, at, end - at)) return false;
  }
  return true;
}

/* llama.cpp's tokenizer_st_partition. */
static tandem_status rt_partition(const tandem_tokenizer *tok, const uint8_t *text, size_t len,
                                  bool parse_special, rt_fragments *frags) {
  rt_fragments other = {0};
  if (len && !rt_fragments_push(frags, -1, 0, len)) return rt_oom();
  for (uint32_t s = 0; s < tok->n_special; s++) {
    int32_t id = tok->special[s];
    if (!parse_special && (tok->attrs[id] & (RT_ATTR_CONTROL | RT_ATTR_UNKNOWN))) continue;
    if (!rt_partition_one(tok, id, text, frags, &other)) {
      free(other.data);
      return rt_oom();
    }
    rt_fragments swap = *frags;
    *frags = other;
    other = swap;
  }
  free(other.data);
  return NULL;
}

/* SPM: spaces become U+2581, with a leading one after BOS or a special token. */
static tandem_status rt_spm_fragment(const tandem_tokenizer *tok, const uint8_t *text, size_t len,
                                     bool prefix_space, rt_ids *out) {
  size_t spaces = prefix_space;
  for (size_t i = 0; i < len; i++) spaces += text[i] == ' ';
  uint8_t *escaped = malloc(len + 2 * spaces + 3 + 1);
  if (!escaped) return rt_oom();
  size_t n = 0;
  for (size_t i = 0; i < len + prefix_space; i++) {
    uint8_t c = prefix_space ? (i == 0 ? ' ' : text[i - 1]) : text[i];
    if (c == ' ') {
      memcpy(escaped + n, "\xe2\x96\x81", 3);
      n += 3;
    } else {
      escaped[n++] = c;
    }
  }
  tandem_status status = rt_spm_tokenize(tok, escaped, n, out);
  free(escaped);
  return status;
}

static tandem_status rt_tokenize_fragments(const tandem_tokenizer *tok, const uint8_t *text,
                                           const rt_fragments *frags, bool add_special,
                                           rt_ids *out) {
  bool spm = tok->kind == TANDEM_TOKENIZER_SPM;
  bool prev_special = true; /* SPM: prefix a space at the start */
  if (add_special && tok->add_bos && !rt_ids_push(out, tok->bos_id)) return rt_oom();
  for (size_t i = 0; i < frags->count; i++) {
    const rt_fragment *f = &frags->data[i];
    if (f->token >= 0) {
      if (!rt_ids_push(out, f->token)) return rt_oom();
      prev_special = true;
    } else if (spm) {
      RT_TRY(rt_spm_fragment(tok, text + f->offset, f->length,
                             tok->add_space_prefix && prev_special, out));
      prev_special = false;
    } else {
      RT_TRY(rt_bpe_tokenize(tok, text + f->offset, f->length, out));
    }
  }
  if (add_special && tok->add_eos && !rt_ids_push(out, tok->eos_id)) return rt_oom();
  return NULL;
}

tandem_status tandem_tokenize(const tandem_tokenizer *tok, const char *text, size_t len,
                              int add_special, int parse_special, int32_t **out_ids,
                              size_t *out_count) {
  if (!out_ids || !out_count)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "tandem_tokenize: NULL output");
  *out_ids = NULL;
  *out_count = 0;
  if (!tok || (!text && len))
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "tandem_tokenize: NULL tokenizer or text");
  if (len > RT_TOKENIZE_MAX)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "tandem_tokenize: %zu bytes of text, more than "
                          "the %u this tokenizer takes at once", len, RT_TOKENIZE_MAX);
  const uint8_t *bytes = text ? (const uint8_t *)text : (const uint8_t *)"";
  rt_fragments frags = {0};
  rt_ids ids = {0};
  tandem_status status = rt_partition(tok, bytes, len, parse_special != 0, &frags);
  if (!status) status = rt_tokenize_fragments(tok, bytes, &frags, add_special != 0, &ids);
  free(frags.data);
  if (status) {
    free(ids.data);
    return status;
  }
  if (!ids.data && !(ids.data = malloc(sizeof *ids.data))) return rt_oom();
  *out_ids = ids.data;
  *out_count = ids.count;
  return NULL;
}

tandem_status tandem_token_piece(const tandem_tokenizer *tok, int32_t id, const char **out_bytes,
                                 size_t *out_len) {
  if (!out_bytes || !out_len)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "tandem_token_piece: NULL output");
  *out_bytes = NULL;
  *out_len = 0;
  if (!tok) return rt_status_make(TANDEM_INVALID_ARGUMENT, "tandem_token_piece: NULL tokenizer");
  if (id < 0 || (uint32_t)id >= tok->n_tokens)
    return rt_status_make(TANDEM_INVALID_ARGUMENT,
                          "token id %" PRId32 " is out of range (the vocabulary has %" PRIu32
                          " tokens)", id, tok->n_tokens);
  *out_bytes = (const char *)tok->piece + tok->piece_start[id];
  *out_len = tok->piece_start[id + 1] - tok->piece_start[id];
  return NULL;
}
