/* test_llm_vocab FIXTURE EXPECTED: a real model's tokenizer against llama.cpp.
 *
 * FIXTURE is a GGUF tokenizer dumped by make_tokenizer_fixture.py; EXPECTED holds
 * llama.cpp's ids for test strings (make_reference_ids.py). The fixture becomes a
 * tandem_tokenizer_spec as tandemc's importer would make it, goes through serialize
 * and open, and every string must tokenize to llama.cpp's ids; the pieces of those ids
 * must give the string back where it is valid UTF-8 (llama.cpp's U+FFFD otherwise). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tandem/llm.h"

static int failures;

/* Splits the buffer into lines in place (no '\n' kept). */
typedef struct lines {
  char **line;
  size_t count, at;
} lines;

static bool lines_split(char *text, size_t len, lines *out) {
  out->count = out->at = 0;
  out->line = malloc((len + 2) * sizeof *out->line);
  if (!out->line) return false;
  for (char *p = text; p < text + len;) {
    char *nl = memchr(p, '\n', (size_t)(text + len - p));
    if (nl) *nl = 0;
    out->line[out->count++] = p;
    p = nl ? nl + 1 : text + len;
  }
  return true;
}

static char *lines_next(lines *l) { return l->at < l->count ? l->line[l->at++] : NULL; }

/* Undoes make_tokenizer_fixture.py's escape() in place; returns the length. */
static size_t unescape(char *s) {
  size_t n = 0;
  for (char *p = s; *p; p++) {
    if (*p != '\\' || !p[1]) {
      s[n++] = *p;
      continue;
    }
    char c = *++p;
    if (c == 'n') s[n++] = '\n';
    else if (c == 'r') s[n++] = '\r';
    else if (c == 't') s[n++] = '\t';
    else if (c == 'x' && p[1] && p[2]) {
      char hex[3] = {p[1], p[2], 0};
      s[n++] = (char)strtol(hex, NULL, 16);
      p += 2;
    } else s[n++] = c;
  }
  s[n] = 0;
  return n;
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = size >= 0 ? malloc((size_t)size + 1) : NULL;
  if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf) buf[size] = 0;
  *len = (size_t)size;
  return buf;
}

typedef struct fixture {
  tandem_tokenizer_spec spec;
  char model[32], pre[64];
  const char **tokens, **merges;
  float *scores;
  int32_t *types;
} fixture;

static bool key_int(lines *l, const char *key, int32_t *out) {
  char *line = lines_next(l);
  size_t n = strlen(key);
  if (!line || strncmp(line, key, n) != 0 || line[n] != ' ') return false;
  *out = (int32_t)strtol(line + n + 1, NULL, 10);
  return true;
}

static bool read_strings(lines *l, const char *key, const char ***out, uint32_t *count) {
  char *line = lines_next(l);
  size_t n = strlen(key);
  if (!line || strncmp(line, key, n) != 0) return false;
  *count = (uint32_t)strtoul(line + n + 1, NULL, 10);
  *out = calloc(*count ? *count : 1, sizeof **out);
  for (uint32_t i = 0; *out && i < *count; i++) {
    char *s = lines_next(l);
    if (!s) return false;
    unescape(s);
    (*out)[i] = s;
  }
  return *out != NULL;
}

/* "types K" / "scores K" then K lines "ID VALUE", or "... none". */
static bool read_sparse(lines *l, const char *key, uint32_t n_tokens, int32_t **types, float **scores) {
  char *line = lines_next(l);
  size_t n = strlen(key);
  if (!line || strncmp(line, key, n) != 0) return false;
  if (strcmp(line + n + 1, "none") == 0) return true;
  uint32_t count = (uint32_t)strtoul(line + n + 1, NULL, 10);
  if (types) {
    *types = malloc(n_tokens * sizeof **types);
    for (uint32_t i = 0; i < n_tokens; i++) (*types)[i] = 1;
  } else {
    *scores = calloc(n_tokens, sizeof **scores);
  }
  for (uint32_t i = 0; i < count; i++) {
    char *s = lines_next(l), *end;
    if (!s) return false;
    unsigned long id = strtoul(s, &end, 10);
    if (id >= n_tokens) return false;
    if (types) (*types)[id] = (int32_t)strtol(end, NULL, 10);
    else (*scores)[id] = strtof(end, NULL);
  }
  return true;
}

static bool read_fixture(lines *l, fixture *fx) {
  tandem_tokenizer_spec *s = &fx->spec;
  char *line = lines_next(l);
  if (!line || strcmp(line, "tandem-tokenizer-fixture 1") != 0) return false;
  if (!(line = lines_next(l)) || sscanf(line, "model %31s", fx->model) != 1) return false;
  s->kind = strcmp(fx->model, "llama") == 0 ? TANDEM_TOKENIZER_SPM : TANDEM_TOKENIZER_BPE;
  if (l->at < l->count && sscanf(l->line[l->at], "pre %63s", fx->pre) == 1) {
    s->pre = fx->pre;
    l->at++;
  }
  if (!key_int(l, "bos_id", &s->bos_id) || !key_int(l, "eos_id", &s->eos_id) ||
      !key_int(l, "unk_id", &s->unk_id) || !key_int(l, "pad_id", &s->pad_id) ||
      !key_int(l, "add_bos", &s->add_bos) || !key_int(l, "add_eos", &s->add_eos) ||
      !key_int(l, "add_space_prefix", &s->add_space_prefix))
    return false;
  if (l->at < l->count && strncmp(l->line[l->at], "chat_template ", 14) == 0) {
    char *t = lines_next(l) + 14;
    unescape(t);
    s->chat_template = t;
  }
  uint32_t n_tokens;
  if (!read_strings(l, "tokens", &fx->tokens, &n_tokens)) return false;
  s->n_tokens = n_tokens;
  s->tokens = fx->tokens;
  if (!read_sparse(l, "types", n_tokens, &fx->types, NULL) ||
      !read_sparse(l, "scores", n_tokens, NULL, &fx->scores) ||
      !read_strings(l, "merges", &fx->merges, &s->n_merges))
    return false;
  s->token_types = fx->types;
  s->scores = fx->scores;
  s->merges = fx->merges;
  return (line = lines_next(l)) && strcmp(line, "end") == 0;
}

static bool valid_utf8(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!len || i + len > n) return false;
    for (size_t k = 1; k < len; k++)
      if ((s[i + k] & 0xc0) != 0x80) return false;
    i += len;
  }
  return true;
}

/* One EXPECTED line: "S|N \t text \t ids". */
static void check_line(const tandem_tokenizer *tok, bool spm, char *line, int *count) {
  char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
  if (!tab1 || !tab2) return;
  *tab1 = *tab2 = 0;
  bool special = line[0] == 'S';
  char *text = tab1 + 1;
  size_t len = unescape(text);
  int32_t expect[4096];
  size_t n_expect = 0;
  for (char *p = tab2 + 1; *p && n_expect < 4096;) {
    expect[n_expect++] = (int32_t)strtol(p, &p, 10);
    if (*p == ',') p++;
  }
  int32_t *ids = NULL;
  size_t n = 0;
  tandem_status status = tandem_tokenize(tok, text, len, 0, special, &ids, &n);
  bool same = !status && n == n_expect && (n == 0 || memcmp(ids, expect, n * sizeof *ids) == 0);
  if (!same) {
    failures++;
    fprintf(stderr, "MISMATCH (%s) \"%s\"\n  tandem:   ", special ? "special" : "plain", text);
    for (size_t i = 0; i < n; i++) fprintf(stderr, "%s%d", i ? "," : "", ids[i]);
    fprintf(stderr, "%s\n  llama.cpp: %s\n", status ? tandem_status_message(status) : "", tab2 + 1);
  }
  tandem_status_free(status);
  if (same && valid_utf8((const unsigned char *)text, len)) {
    char out[8192];
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
      const char *piece;
      size_t plen;
      if (tandem_token_piece(tok, ids[i], &piece, &plen) || at + plen > sizeof out) break;
      memcpy(out + at, piece, plen);
      at += plen;
    }
    /* SPM's first piece carries the space prefix, which llama.cpp's detokenize drops. */
    size_t skip = spm && at == len + 1 && out[0] == ' ' ? 1 : 0;
    if (at - skip != len || memcmp(out + skip, text, len) != 0) {
      failures++;
      fprintf(stderr, "ROUND TRIP \"%s\": the pieces give \"%.*s\"\n", text, (int)at, out);
    }
  }
  free(ids);
  (*count)++;
}

/* test_llm_vocab --serialize FIXTURE OUT: the fixture's tokenizer, serialized as tandemc
 * puts it into an object (tests/fuzz's tokenizer target reads SmolLM2's so). */
static int serialize_to(const char *fixture_path, const char *out_path) {
  size_t flen;
  char *ftext = read_file(fixture_path, &flen);
  lines fl = {0};
  fixture fx = {0};
  if (!ftext || !lines_split(ftext, flen, &fl) || !read_fixture(&fl, &fx)) {
    fprintf(stderr, "test_llm_vocab: cannot read %s\n", fixture_path);
    return 2;
  }
  uint8_t *data = NULL;
  size_t size = 0;
  tandem_status status = tandem_tokenizer_serialize(&fx.spec, &data, &size);
  FILE *f = status ? NULL : fopen(out_path, "wb");
  int bad = status || !f || fwrite(data, 1, size, f) != size;
  if (f && fclose(f) != 0) bad = 1;
  if (bad) fprintf(stderr, "test_llm_vocab: cannot write %s: %s\n", out_path, tandem_status_message(status));
  tandem_status_free(status);
  free(data);
  free(fx.tokens);
  free(fx.merges);
  free(fx.types);
  free(fx.scores);
  free(fl.line);
  free(ftext);
  return bad;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "--serialize") == 0) return serialize_to(argv[2], argv[3]);
  if (argc != 3) {
    fprintf(stderr, "usage: test_llm_vocab FIXTURE EXPECTED | --serialize FIXTURE OUT\n");
    return 2;
  }
  size_t flen, elen;
  char *ftext = read_file(argv[1], &flen), *etext = read_file(argv[2], &elen);
  lines fl = {0}, el = {0};
  fixture fx = {0};
  if (!ftext || !etext || !lines_split(ftext, flen, &fl) || !lines_split(etext, elen, &el) ||
      !read_fixture(&fl, &fx)) {
    fprintf(stderr, "test_llm_vocab: cannot read %s or %s\n", argv[1], argv[2]);
    return 2;
  }
  uint8_t *data = NULL;
  size_t size = 0;
  tandem_tokenizer *tok = NULL;
  tandem_status status = tandem_tokenizer_serialize(&fx.spec, &data, &size);
  if (!status) status = tandem_tokenizer_open(data, size, &tok);
  if (status) {
    fprintf(stderr, "test_llm_vocab: %s\n", tandem_status_message(status));
    return 1;
  }
  int count = 0;
  for (char *line; (line = lines_next(&el));)
    if (line[0] != '#' && line[0]) check_line(tok, fx.spec.kind == TANDEM_TOKENIZER_SPM, line, &count);
  printf("%d of %d strings tokenize as llama.cpp does (%u tokens, %u merges, %zu bytes serialized)\n",
         count - failures, count, fx.spec.n_tokens, fx.spec.n_merges, size);
  tandem_tokenizer_close(tok);
  free(data);
  free(fx.tokens);
  free(fx.merges);
  free(fx.types);
  free(fx.scores);
  free(fl.line);
  free(el.line);
  free(ftext);
  free(etext);
  return failures || count == 0 ? 1 : 0;
}
