/* Fuzz target: the LLM runtime's tokenizer (runtime/llm/tokenizer*.c, tokenize.c).
 *
 * The first byte of the input picks what the rest is:
 *   bits 0-1  0: a serialized tokenizer (tandem_tokenizer_open on any bytes); if it
 *                opens, its last 64 bytes are tokenized too, as text;
 *             1: text for SmolLM2's real tokenizer (byte-level BPE, its regexes),
 *                serialized at build time from tests/llm_runtime/smollm2/tokenizer.txt;
 *             2: text for the fake SPM vocabulary (Llama 2 style, byte fallback);
 *             3: text for the fake BPE vocabulary (tests/llm_runtime/fake_vocab.c);
 *   bit 2     parse special tokens ("<|im_start|>");
 *   bit 3     add BOS/EOS as the vocabulary says.
 * Every id must have a piece; with SmolLM2, plain valid UTF-8 without special tokens
 * must come back from the pieces byte for byte, except the bytes that have no token
 * in its vocabulary (0x13 and 0x14 do not), which are dropped as llama.cpp drops them.
 * SmolLM2's tokenizer is read from $TANDEM_FUZZ_SMOLLM2 or FUZZ_SMOLLM2_TOK. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_llm.h"
#include "fuzz_util.h"
#include "tandem/llm.h"

#ifndef FUZZ_SMOLLM2_TOK
#define FUZZ_SMOLLM2_TOK "smollm2.tok"
#endif

static void fail(const char *what, tandem_status st) {
  fprintf(stderr, "fuzz: %s%s%s\n", what, st ? ": " : "", st ? tandem_status_message(st) : "");
  abort();
}

static tandem_tokenizer *open_spec(const tandem_tokenizer_spec *spec) {
  uint8_t *bytes = NULL;
  size_t n = 0;
  tandem_tokenizer *tok = NULL;
  tandem_status st = tandem_tokenizer_serialize(spec, &bytes, &n);
  if (!st) st = tandem_tokenizer_open(bytes, n, &tok);
  if (st) fail("cannot open a fake vocabulary", st);
  free(bytes);
  return tok;
}

static tandem_tokenizer *open_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    fail("SmolLM2's serialized tokenizer is missing (set TANDEM_FUZZ_SMOLLM2)", NULL);
  }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *bytes = malloc(size > 0 ? (size_t)size : 1);
  if (!bytes || fread(bytes, 1, (size_t)size, f) != (size_t)size) fail("cannot read SmolLM2's tokenizer", NULL);
  fclose(f);
  tandem_tokenizer *tok = NULL;
  tandem_status st = tandem_tokenizer_open(bytes, (size_t)size, &tok);
  if (st) fail("cannot open SmolLM2's tokenizer", st);
  free(bytes);
  return tok;
}

/* The real tokenizers live for the whole process (LSan sees them as reachable). */
static tandem_tokenizer *real[3];
/* The bytes SmolLM2's vocabulary has no token for. */
static bool smollm2_drops[256];

/* Whether some piece of `text`'s tokens holds byte b. */
static bool byte_survives(const tandem_tokenizer *tok, const uint8_t *text, size_t len, uint8_t b) {
  int32_t *ids = NULL;
  size_t count = 0;
  bool found = false;
  tandem_status st = tandem_tokenize(tok, (const char *)text, len, 0, 0, &ids, &count);
  if (st) fail("cannot tokenize a byte", st);
  for (size_t i = 0; i < count && !found; i++) {
    const char *piece;
    size_t n;
    tandem_status_free(tandem_token_piece(tok, ids[i], &piece, &n));
    found = n && memchr(piece, b, n) != NULL;
  }
  free(ids);
  return found;
}

/* Each byte in the shortest valid UTF-8 that holds it. */
static void find_dropped_bytes(const tandem_tokenizer *tok) {
  for (int b = 0; b < 256; b++) {
    uint8_t t[4] = {(uint8_t)b, 0x80, 0x80, 0x80};
    size_t n = 1;
    if (b >= 0x80 && b < 0xc0) t[0] = 0xc2, t[1] = (uint8_t)b, n = 2;
    else if (b >= 0xc2 && b < 0xe0) n = 2;
    else if (b >= 0xe0 && b < 0xf0) t[1] = b == 0xe0 ? 0xa0 : 0x80, n = 3;
    else if (b >= 0xf0 && b < 0xf5) t[1] = b == 0xf0 ? 0x90 : 0x80, n = 4;
    else if (b >= 0x80) continue; /* never in valid UTF-8 */
    smollm2_drops[b] = !byte_survives(tok, t, n, (uint8_t)b);
  }
}

static void init(void) {
  if (real[0]) return;
  const char *path = getenv("TANDEM_FUZZ_SMOLLM2");
  real[0] = open_file(path && *path ? path : FUZZ_SMOLLM2_TOK);
  real[1] = open_spec(fake_vocab_spm());
  real[2] = open_spec(fake_vocab_bpe());
  find_dropped_bytes(real[0]);
}

/* Valid UTF-8 in the strict sense of RFC 3629: no C0, C1 or F5..FF lead bytes, no
 * overlong forms (E0 80..9F, F0 80..8F), no surrogates (ED A0..BF), nothing past
 * U+10FFFF (F4 90..BF). What the tokenizer does with other bytes is its own choice. */
static bool valid_utf8(const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n;) {
    uint8_t c = s[i];
    size_t len = c < 0x80 ? 1 : c < 0xc2 ? 0 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf5 ? 4 : 0;
    if (!len || i + len > n) return false;
    for (size_t k = 1; k < len; k++)
      if ((s[i + k] & 0xc0) != 0x80) return false;
    uint8_t c1 = len > 1 ? s[i + 1] : 0;
    if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0) || (c == 0xf0 && c1 < 0x90) ||
        (c == 0xf4 && c1 >= 0x90))
      return false;
    i += len;
  }
  return true;
}

/* Tokenizes; checks every piece; with `round_trip`, that the pieces give the text. */
static void tokenize(const tandem_tokenizer *tok, const uint8_t *text, size_t len, int add, int special,
                     bool round_trip) {
  int32_t *ids = NULL;
  size_t count = 0;
  tandem_status st = tandem_tokenize(tok, (const char *)text, len, add, special, &ids, &count);
  if (st) {
    if (round_trip) fail("a real tokenizer failed on text", st);
    tandem_status_free(st);
    free(ids);
    return;
  }
  /* Walks the text along the pieces, skipping the bytes the vocabulary drops. */
  size_t at = 0;
  bool same = true;
  for (size_t i = 0; i < count; i++) {
    const char *piece;
    size_t n;
    st = tandem_token_piece(tok, ids[i], &piece, &n);
    if (st) fail("a token id that tokenize gave has no piece", st);
    for (size_t k = 0; k < n && same; k++) {
      while (at < len && text[at] != (uint8_t)piece[k] && smollm2_drops[text[at]]) at++;
      same = at < len && text[at++] == (uint8_t)piece[k];
    }
  }
  while (at < len && smollm2_drops[text[at]]) at++;
  if (round_trip && (!same || at != len)) fail("SmolLM2's pieces do not give the text back", NULL);
  free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  init();
  if (size == 0) return 0;
  int mode = data[0] & 3, special = (data[0] >> 2) & 1, add = (data[0] >> 3) & 1;
  const uint8_t *rest = data + 1;
  size_t n = size - 1;
  if (mode) {
    bool round_trip = mode == 1 && !special && !add && valid_utf8(rest, n);
    tokenize(real[mode - 1], rest, n, add, special, round_trip);
    return 0;
  }
  tandem_tokenizer *tok = (tandem_tokenizer *)1;
  tandem_status st = tandem_tokenizer_open(rest, n, &tok);
  if (st) {
    if (tok) fail("a failed open left its out-parameter set", NULL);
    tandem_status_free(st);
    return 0;
  }
  size_t tail = n < 64 ? n : 64;
  for (int sp = 0; sp < 2; sp++) tokenize(tok, rest + n - tail, tail, add, sp, false);
  tandem_tokenizer_close(tok);
  return 0;
}
