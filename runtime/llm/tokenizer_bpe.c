/* Byte-level BPE (GGUF tokenizer.ggml.model "gpt2"), as llama.cpp's
 * llm_tokenizer_bpe_session does it:
 *
 *   1. The text is decoded as UTF-8 the way llama.cpp decodes it (what does not decode
 *      becomes U+FFFD) and split into words by the pre-tokenizer's regexes, each regex
 *      splitting the pieces the previous one left, matches and the gaps between them
 *      alike (unicode_regex_split). The regexes are llama.cpp's for the
 *      tokenizer.ggml.pre name, run by PCRE2 in UTF + UCP mode; llama.cpp runs the
 *      GPT-2 and Llama-3 ones as hand-written matchers that behave as these regexes do.
 *   2. Each word's bytes become GPT-2's printable stand-ins (bytes_to_unicode).
 *   3. Adjacent symbols merge, lowest merge rank first (leftmost among equals), until
 *      no pair has a rank.
 *   4. Each symbol is looked up as a token; one that is not (it can only happen with
 *      an incomplete vocabulary) falls back to its single bytes, as llama.cpp does.
 *
 * Malformed UTF-8 is the one place where this can differ from llama.cpp: surrogate
 * code points and values past U+10FFFF (which llama.cpp passes on or throws on)
 * become U+FFFD here, because PCRE2 matches valid UTF-8 only. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "rt_status.h"
#include "rt_tokenizer.h"

/* ---- pre-tokenizers --------------------------------------------------------------- */

#define RT_GPT2_REGEX "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
/* llama.cpp's case-insensitive contractions spelled out ("(?i:'s|...)" would also fold
 * the long s and other non-ASCII letters, which its matcher does not). */
#define RT_CONTRACTIONS "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
#define RT_MAX_REGEXES 4

static const char *const rt_pre_regexes[RT_PRE_COUNT][RT_MAX_REGEXES] = {
    [RT_PRE_DEFAULT] = {"[\\p{P}\\$\\+<=>\\^~\\|]+", RT_GPT2_REGEX, "\\p{N}+", "[0-9][0-9][0-9]"},
    [RT_PRE_GPT2] = {RT_GPT2_REGEX},
    [RT_PRE_SMOLLM] = {"\\p{N}", RT_GPT2_REGEX},
    [RT_PRE_LLAMA3] = {RT_CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+"
                       "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
    [RT_PRE_QWEN2] = {RT_CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+"
                      "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
};

/* tokenizer.ggml.pre names, as llama_vocab::impl::load maps them (only those whose
 * regexes are above, and that need nothing else). */
static const struct {
  const char *name;
  rt_pre_kind kind;
  bool ignore_merges, add_bos;
} rt_pre_names[] = {
    {"default", RT_PRE_DEFAULT, false, false},
    {"gpt2", RT_PRE_GPT2, false, false},   {"gpt-2", RT_PRE_GPT2, false, false},
    {"phi-2", RT_PRE_GPT2, false, false},  {"gigachat", RT_PRE_GPT2, false, false},
    {"a.x-4.0", RT_PRE_GPT2, false, false}, {"mellum", RT_PRE_GPT2, false, false},
    {"mpt", RT_PRE_GPT2, false, false},    {"olmo", RT_PRE_GPT2, false, false},
    {"jais", RT_PRE_GPT2, false, false},   {"trillion", RT_PRE_GPT2, false, false},
    {"granite-docling", RT_PRE_GPT2, false, false}, {"exaone4", RT_PRE_GPT2, false, false},
    {"smollm", RT_PRE_SMOLLM, false, false}, {"starcoder", RT_PRE_SMOLLM, false, false},
    {"refact", RT_PRE_SMOLLM, false, false}, {"command-r", RT_PRE_SMOLLM, false, false},
    {"codeshell", RT_PRE_SMOLLM, false, false}, {"exaone", RT_PRE_SMOLLM, false, false},
    {"minerva-7b", RT_PRE_SMOLLM, false, false}, {"mellum2", RT_PRE_SMOLLM, false, false},
    {"llama3", RT_PRE_LLAMA3, true, true}, {"llama-v3", RT_PRE_LLAMA3, true, true},
    {"llama-bpe", RT_PRE_LLAMA3, true, true}, {"falcon3", RT_PRE_LLAMA3, true, true},
    {"falcon-h1", RT_PRE_LLAMA3, true, true}, {"pixtral", RT_PRE_LLAMA3, true, true},
    {"midm-2.0", RT_PRE_LLAMA3, true, true}, {"lfm2", RT_PRE_LLAMA3, true, true},
    {"dbrx", RT_PRE_LLAMA3, false, false}, {"smaug-bpe", RT_PRE_LLAMA3, false, false},
    {"qwen2", RT_PRE_QWEN2, false, false}, {"deepseek-r1-qwen", RT_PRE_QWEN2, false, false},
    {"stablelm2", RT_PRE_QWEN2, false, false}, {"megrez", RT_PRE_QWEN2, false, false},
    {"hunyuan", RT_PRE_QWEN2, false, false},
};

bool rt_pre_lookup(const char *name, rt_pre_kind *kind, bool *ignore_merges, bool *add_bos) {
  for (size_t i = 0; i < sizeof rt_pre_names / sizeof rt_pre_names[0]; i++)
    if (strcmp(rt_pre_names[i].name, name) == 0) {
      *kind = rt_pre_names[i].kind;
      *ignore_merges = rt_pre_names[i].ignore_merges;
      *add_bos = rt_pre_names[i].add_bos;
      return true;
    }
  return false;
}

struct rt_pre {
  pcre2_code *code[RT_MAX_REGEXES];
  int count;
};

void rt_pre_free(rt_pre *pre) {
  if (!pre) return;
  for (int i = 0; i < pre->count; i++) pcre2_code_free(pre->code[i]);
  free(pre);
}

tandem_status rt_pre_compile(rt_pre_kind kind, rt_pre **out) {
  *out = calloc(1, sizeof **out);
  if (!*out) return rt_status_make(TANDEM_OUT_OF_MEMORY, "tokenizer: out of memory");
  for (int i = 0; i < RT_MAX_REGEXES && rt_pre_regexes[kind][i]; i++) {
    int error;
    PCRE2_SIZE offset;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)rt_pre_regexes[kind][i], PCRE2_ZERO_TERMINATED,
                                     PCRE2_UTF | PCRE2_UCP, &error, &offset, NULL);
    if (!code) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error, message, sizeof message);
      return rt_status_make(TANDEM_INTERNAL, "tokenizer: pre-tokenizer regex %d: %s at %zu", i,
                            (const char *)message, (size_t)offset);
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* optional: the interpreter is the fallback */
    (*out)->code[(*out)->count++] = code;
  }
  return NULL;
}

/* ---- splitting text into words ---------------------------------------------------- */

typedef struct rt_span {
  size_t start, len;
} rt_span;

typedef struct rt_spans {
  rt_span *data;
  size_t count, cap;
} rt_spans;

static bool rt_spans_push(rt_spans *s, size_t start, size_t len) {
  if (len == 0) return true;
  if (s->count == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 64;
    rt_span *data = realloc(s->data, cap * sizeof *data);
    if (!data) return false;
    s->data = data;
    s->cap = cap;
  }
  s->data[s->count++] = (rt_span){start, len};
  return true;
}

/* The text as valid UTF-8: what llama.cpp's decoder reads, re-encoded (*out_len
 * bytes, at most 3 per input byte). */
static uint8_t *rt_sanitize(const uint8_t *text, size_t len, size_t *out_len) {
  uint8_t *out = malloc(3 * len + 1);
  size_t n = 0;
  if (!out) return NULL;
  for (size_t i = 0, step; i < len; i += step) {
    uint32_t cp = rt_utf8_decode(text + i, len - i, &step);
    if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) cp = 0xfffd;
    n += rt_utf8_encode(cp, out + n);
  }
  *out_len = n;
  return out;
}

static int rt_match(const pcre2_code *code, const uint8_t *subject, size_t len, size_t offset,
                    pcre2_match_data *md) {
  int rc = pcre2_match(code, subject, len, offset, PCRE2_NO_UTF_CHECK, md, NULL);
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
    rc = pcre2_match(code, subject, len, offset, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, NULL);
  return rc;
}

/* One regex over every span of `in`: matches and the gaps between them become the
 * spans of `out`, in order. */
static tandem_status rt_split_one(const pcre2_code *code, const uint8_t *text, const rt_spans *in,
                                  rt_spans *out, pcre2_match_data *md) {
  out->count = 0;
  for (size_t s = 0; s < in->count; s++) {
    const uint8_t *subject = text + in->data[s].start;
    size_t len = in->data[s].len, done = 0, offset = 0;
    while (offset < len) {
      int rc = rt_match(code, subject, len, offset, md);
      if (rc == PCRE2_ERROR_NOMATCH) break;
      if (rc < 0)
        return rt_status_make(TANDEM_INTERNAL, "tokenizer: pre-tokenizer regex failed (PCRE2 "
                              "error %d)", rc);
      const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
      size_t begin = ov[0], end = ov[1];
      if (end == begin) { /* cannot happen with these regexes; step over a character */
        offset = begin + rt_utf8_len(subject[begin]);
        continue;
      }
      if (!rt_spans_push(out, in->data[s].start + done, begin - done) ||
          !rt_spans_push(out, in->data[s].start + begin, end - begin))
        return rt_status_make(TANDEM_OUT_OF_MEMORY, "tokenizer: out of memory");
      done = offset = end;
    }
    if (!rt_spans_push(out, in->data[s].start + done, len - done))
      return rt_status_make(TANDEM_OUT_OF_MEMORY, "tokenizer: out of memory");
  }
  return NULL;
}

static tandem_status rt_split(const rt_pre *pre, const uint8_t *text, size_t len, rt_spans *words) {
  rt_spans other = {0};
  /* One pair is all we read: the whole match (the regexes capture nothing). */
  pcre2_match_data *md = pcre2_match_data_create(1, NULL);
  tandem_status status = NULL;
  if (!md || !rt_spans_push(words, 0, len))
    status = rt_status_make(TANDEM_OUT_OF_MEMORY, "tokenizer: out of memory");
  for (int i = 0; !status && i < pre->count; i++) {
    status = rt_split_one(pre->code[i], text, words, &other, md);
    rt_spans swap = *words;
    *words = other;
    other = swap;
  }
  pcre2_match_data_free(md);
  free(other.data);
  return status;
}

/* ---- merging ---------------------------------------------------------------------- */

/* Scratch for one word: its byte-level text and symbols. */
typedef struct rt_bpe_work {
  uint8_t *word; /* byte-level encoded */
  size_t word_len;
  rt_symbol *sym;
  rt_bigram_queue queue;
} rt_bpe_work;

static bool rt_bpe_add_bigram(const tandem_tokenizer *tok, rt_bpe_work *w, int32_t left,
                              int32_t right) {
  if (left < 0 || right < 0) return true;
  const rt_symbol *l = &w->sym[left], *r = &w->sym[right];
  int32_t rank = rt_merge_rank(tok, w->word + l->start, l->n, w->word + r->start, r->n);
  if (rank < 0) return true;
  return rt_bigram_push(&w->queue, (rt_bigram){rank, left, right, l->n, r->n});
}

/* Splits w->word into characters and merges them; the symbols left with n > 0 are
 * the word's tokens. */
static bool rt_bpe_merge(const tandem_tokenizer *tok, rt_bpe_work *w, int32_t *out_count) {
  int32_t n = 0;
  w->queue.count = 0;
  if (tok->ignore_merges && rt_token_find(tok, w->word, w->word_len) >= 0) {
    w->sym[0] = (rt_symbol){-1, -1, 0, (uint32_t)w->word_len};
    *out_count = 1;
    return true;
  }
  for (size_t at = 0; at < w->word_len; n++) {
    size_t len = rt_utf8_len(w->word[at]);
    if (len > w->word_len - at) len = w->word_len - at;
    w->sym[n] = (rt_symbol){n - 1, at + len == w->word_len ? -1 : n + 1, (uint32_t)at, (uint32_t)len};
    at += len;
  }
  *out_count = n;
  for (int32_t i = 1; i < n; i++)
    if (!rt_bpe_add_bigram(tok, w, i - 1, i)) return false;
  while (w->queue.count) {
    rt_bigram b = rt_bigram_pop(&w->queue);
    rt_symbol *l = &w->sym[b.left], *r = &w->sym[b.right];
    if (l->n == 0 || r->n == 0 || l->n != b.a || r->n != b.b) continue; /* stale */
    l->n += r->n;
    r->n = 0;
    l->next = r->next;
    if (r->next >= 0) w->sym[r->next].prev = b.left;
    if (!rt_bpe_add_bigram(tok, w, l->prev, b.left) || !rt_bpe_add_bigram(tok, w, b.left, l->next))
      return false;
  }
  return true;
}

static bool rt_bpe_emit(const tandem_tokenizer *tok, const rt_bpe_work *w, int32_t count,
                        rt_ids *out) {
  for (int32_t i = 0; i < count; i++) {
    const rt_symbol *s = &w->sym[i];
    if (s->n == 0) continue;
    int32_t id = rt_token_find(tok, w->word + s->start, s->n);
    if (id >= 0) {
      if (!rt_ids_push(out, id)) return false;
      continue;
    }
    for (uint32_t j = 0; j < s->n; j++) { /* llama.cpp: each byte of the symbol alone */
      id = rt_token_find(tok, w->word + s->start + j, 1);
      if (id >= 0 && !rt_ids_push(out, id)) return false;
    }
  }
  return true;
}

static void rt_bpe_encode_word(const tandem_tokenizer *tok, const uint8_t *text, rt_span span,
                               rt_bpe_work *w) {
  w->word_len = 0;
  for (size_t i = 0; i < span.len; i++)
    w->word_len += rt_utf8_encode(tok->byte_cp[text[span.start + i]], w->word + w->word_len);
}

static tandem_status rt_bpe_words(const tandem_tokenizer *tok, const uint8_t *text,
                                  const rt_spans *words, rt_ids *out) {
  size_t longest = 1;
  for (size_t i = 0; i < words->count; i++)
    if (words->data[i].len > longest) longest = words->data[i].len;
  rt_bpe_work w = {0};
  w.word = malloc(2 * longest);
  w.sym = malloc(2 * longest * sizeof *w.sym);
  bool ok = w.word && w.sym;
  for (size_t i = 0; ok && i < words->count; i++) {
    int32_t count;
    rt_bpe_encode_word(tok, text, words->data[i], &w);
    ok = rt_bpe_merge(tok, &w, &count) && rt_bpe_emit(tok, &w, count, out);
  }
  free(w.word);
  free(w.sym);
  free(w.queue.data);
  return ok ? NULL : rt_status_make(TANDEM_OUT_OF_MEMORY, "tokenizer: out of memory");
}

tandem_status rt_bpe_tokenize(const tandem_tokenizer *tok, const uint8_t *text, size_t len,
                              rt_ids *out) {
  size_t clean_len;
  uint8_t *clean = rt_sanitize(text, len, &clean_len);
  if (!clean) return rt_status_make(TANDEM_OUT_OF_MEMORY, "tokenizer: out of memory");
  rt_spans words = {0};
  tandem_status status = rt_split(tok->pre_regex, clean, clean_len, &words);
  if (!status) status = rt_bpe_words(tok, clean, &words, out);
  free(words.data);
  free(clean);
  return status;
}
