/* The tokenizer on hand-made vocabularies (fake_vocab.c): BPE and SPM, special tokens,
 * BOS/EOS, pieces, the serialized form, and open on damaged bytes. */
#include <stdlib.h>
#include <string.h>

#include "fake_llm.h"
#include "test_llm.h"

tandem_tokenizer *t_open_spec(const tandem_tokenizer_spec *spec) {
  uint8_t *data = NULL;
  size_t size = 0;
  tandem_tokenizer *tok = NULL;
  CHECK_OK(tandem_tokenizer_serialize(spec, &data, &size));
  if (data) CHECK_OK(tandem_tokenizer_open(data, size, &tok));
  free(data); /* open keeps what it needs */
  return tok;
}

void t_expect_ids(const char *file, int line, const tandem_tokenizer *tok, const char *text,
                  size_t len, int add_special, int parse_special, const int32_t *ids, size_t n) {
  int32_t *got = NULL;
  size_t count = 0;
  t_check_status(tandem_tokenize(tok, text, len, add_special, parse_special, &got, &count),
                 TANDEM_OK, NULL, file, line, text);
  if (count != n || (n && memcmp(got, ids, n * sizeof *ids) != 0)) {
    char detail[2048];
    size_t at = (size_t)snprintf(detail, sizeof detail, "got");
    for (size_t i = 0; i < count && at < sizeof detail - 16; i++)
      at += (size_t)snprintf(detail + at, sizeof detail - at, " %d", got[i]);
    at += (size_t)snprintf(detail + at, sizeof detail - at, ", expected");
    for (size_t i = 0; i < n && at < sizeof detail - 16; i++)
      at += (size_t)snprintf(detail + at, sizeof detail - at, " %d", ids[i]);
    t_fail(file, line, text, detail);
  }
  free(got);
}

/* EXPECT_IDS(tok, "text", add_special, parse_special, ids...); the first list element
 * is a placeholder so that the list may be empty. */
#define EXPECT_IDS(tok, text, add, parse, ...)                                               \
  do {                                                                                        \
    static const int32_t expect_[] = {-1, __VA_ARGS__};                                       \
    t_expect_ids(__FILE__, __LINE__, tok, text, sizeof text - 1, add, parse, expect_ + 1,     \
                 sizeof expect_ / sizeof expect_[0] - 1);                                     \
  } while (0)

static void t_expect_piece(const char *file, int line, const tandem_tokenizer *tok, int32_t id,
                           const char *bytes, size_t len) {
  const char *got = NULL;
  size_t n = 0;
  t_check_status(tandem_token_piece(tok, id, &got, &n), TANDEM_OK, NULL, file, line, "piece");
  if (got && (n != len || memcmp(got, bytes, len) != 0)) t_fail(file, line, "piece", bytes);
}
#define EXPECT_PIECE(tok, id, s) t_expect_piece(__FILE__, __LINE__, tok, id, s, sizeof s - 1)

/* The pieces of `text`'s tokens put together give `expect` (`text`, or SPM's with its
 * leading space). */
static void t_round_trip(const tandem_tokenizer *tok, const char *text, const char *expect) {
  int32_t *ids = NULL;
  size_t n = 0, len = 0;
  char out[1024];
  CHECK_OK(tandem_tokenize(tok, text, strlen(text), 0, 1, &ids, &n));
  for (size_t i = 0; i < n; i++) {
    const char *piece;
    size_t plen;
    CHECK_OK(tandem_token_piece(tok, ids[i], &piece, &plen));
    if (len + plen < sizeof out) memcpy(out + len, piece, plen);
    len += plen;
  }
  if (len != strlen(expect) || memcmp(out, expect, len) != 0) t_fail(__FILE__, __LINE__, "round trip", text);
  free(ids);
}

#define B(c) (FAKE_BPE_BYTE + (unsigned char)(c))
#define S(c) (3 + (unsigned char)(c)) /* SPM byte token */

void test_bpe(void) {
  tandem_tokenizer *tok = t_open_spec(fake_vocab_bpe());
  if (!tok) return;
  /* Merges by rank: he, ll, hell, hello, although "e l" is a merge too. */
  EXPECT_IDS(tok, "hello world", 1, 1, FAKE_BPE_HELLO, FAKE_BPE_SPACE_WORLD);
  EXPECT_IDS(tok, "hel", 0, 1, 259, B('l'));
  EXPECT_IDS(tok, "ab", 0, 1, 271);
  EXPECT_IDS(tok, "", 1, 1);
  /* smollm: digits one by one, then GPT-2's regex: contractions, letters, other. */
  EXPECT_IDS(tok, "a123", 0, 1, B('a'), B('1'), B('2'), B('3'));
  EXPECT_IDS(tok, "it's", 0, 1, B('i'), B('t'), B('\''), B('s'));
  /* "\s+(?!\S)" leaves the last space to the next word; "ĠĠ" merges. */
  EXPECT_IDS(tok, "a   b", 0, 1, B('a'), 269, B(' '), B('b'));
  EXPECT_IDS(tok, "a\n\nb", 0, 1, B('a'), B('\n'), B('\n'), B('b'));
  /* Bytes: é is C3 A9; a byte that does not decode is U+FFFD (EF BF BD), as in llama.cpp. */
  EXPECT_IDS(tok, "\xc3\xa9", 0, 1, B(0xc3), B(0xa9));
  EXPECT_IDS(tok, "\xff", 0, 1, B(0xef), B(0xbf), B(0xbd));
  /* Special tokens: CONTROL only with parse_special, USER_DEFINED always. */
  EXPECT_IDS(tok, "<|im_start|>hello<|im_end|>", 1, 1, FAKE_BPE_IM_START, FAKE_BPE_HELLO,
             FAKE_BPE_IM_END);
  EXPECT_IDS(tok, "<|im_start|>hello", 1, 0, B('<'), B('|'), B('i'), B('m'), B('_'), B('s'),
             B('t'), B('a'), B('r'), B('t'), B('|'), B('>'), FAKE_BPE_HELLO);
  EXPECT_IDS(tok, "x<tool>y", 0, 0, B('x'), 270, B('y'));
  EXPECT_IDS(tok, "x<tool>y", 0, 1, B('x'), 270, B('y'));
  EXPECT_PIECE(tok, FAKE_BPE_HELLO, "hello");
  EXPECT_PIECE(tok, FAKE_BPE_SPACE_WORLD, " world");
  EXPECT_PIECE(tok, B('\n'), "\n");
  EXPECT_PIECE(tok, 269, "  ");
  EXPECT_PIECE(tok, FAKE_BPE_IM_START, "<|im_start|>");
  EXPECT_PIECE(tok, 270, "<tool>");
  const char *piece;
  size_t len;
  CHECK_STATUS(tandem_token_piece(tok, FAKE_LLM_VOCAB, &piece, &len), TANDEM_INVALID_ARGUMENT,
               "token id 272 is out of range");
  CHECK_STATUS(tandem_token_piece(tok, -1, &piece, &len), TANDEM_INVALID_ARGUMENT, "out of range");
  static const char text[] = "hello world\n\tfoo  123 it's \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 <|im_end|>!";
  t_round_trip(tok, text, text);
  tandem_tokenizer_close(tok);
}

void test_spm(void) {
  tandem_tokenizer *tok = t_open_spec(fake_vocab_spm());
  if (!tok) return;
  /* BOS by default; a leading space; the best-scoring pair merges first. */
  EXPECT_IDS(tok, "hi", 1, 1, 1, 271);
  EXPECT_IDS(tok, "abc", 0, 1, 259, 260, 269); /* bc (-0.5) before ab (-1) */
  EXPECT_IDS(tok, "\xc3\xa9", 0, 1, 259, S(0xc3), S(0xa9));
  /* After a special token the text gets the space prefix again. */
  EXPECT_IDS(tok, "hi</s>hi", 0, 1, 271, 2, 271);
  EXPECT_IDS(tok, "hi</s>", 0, 0, 271, S('<'), S('/'), S('s'), S('>'));
  EXPECT_IDS(tok, "<unk>", 0, 1, 0);
  EXPECT_PIECE(tok, 271, " hi");
  EXPECT_PIECE(tok, 259, " ");
  EXPECT_PIECE(tok, S('A'), "A");
  EXPECT_PIECE(tok, 1, "<s>");
  t_round_trip(tok, "hi abc", " hi abc");
  tandem_tokenizer_close(tok);

  /* Flags as GGUF gives them: EOS appended, no space prefix, BOS id by default. */
  tandem_tokenizer_spec spec = *fake_vocab_spm();
  spec.add_eos = 1;
  spec.add_space_prefix = 0;
  spec.bos_id = -1;
  if (!(tok = t_open_spec(&spec))) return;
  EXPECT_IDS(tok, "hi", 1, 1, 1, 263, 264, 2);
  EXPECT_IDS(tok, "hi", 0, 1, 263, 264);
  tandem_tokenizer_close(tok);
}

/* Repeated texts: the last id wins; an empty token is "[EMPTY_i]"; a merge without a
 * space never applies. */
void test_vocab_quirks(void) {
  const char *tokens[] = {"a", "b", "a", "", "ab"};
  const char *merges[] = {"ab", "a b"};
  tandem_tokenizer_spec spec = {.kind = TANDEM_TOKENIZER_BPE, .n_tokens = 5, .tokens = tokens,
                                .n_merges = 2, .merges = merges, .bos_id = -1, .eos_id = -1,
                                .unk_id = -1, .pad_id = -1, .add_bos = -1, .add_eos = -1,
                                .add_space_prefix = -1, .pre = "gpt2"};
  tandem_tokenizer *tok = t_open_spec(&spec);
  if (!tok) return;
  EXPECT_IDS(tok, "a", 1, 1, 2);
  EXPECT_IDS(tok, "ab", 1, 1, 4);
  EXPECT_PIECE(tok, 3, "[EMPTY_3]");
  tandem_tokenizer_close(tok);
  spec.pre = "default";
  if ((tok = t_open_spec(&spec))) tandem_tokenizer_close(tok);
  spec.pre = "llama-bpe"; /* adds BOS by default: there is none */
  uint8_t *data;
  size_t size;
  CHECK_OK(tandem_tokenizer_serialize(&spec, &data, &size));
  CHECK_STATUS(tandem_tokenizer_open(data, size, &tok), TANDEM_INVALID_ARGUMENT, "no BOS token");
  CHECK(tok == NULL);
  free(data);
}

static tandem_status t_serialize_changed(void (*change)(tandem_tokenizer_spec *)) {
  tandem_tokenizer_spec spec = *fake_vocab_bpe();
  uint8_t *data = (uint8_t *)1;
  size_t size = 1;
  change(&spec);
  tandem_status status = tandem_tokenizer_serialize(&spec, &data, &size);
  CHECK(status ? data == NULL && size == 0 : data != NULL);
  if (!status) free(data);
  return status;
}

static void t_bad_bos(tandem_tokenizer_spec *s) { s->bos_id = 999; }
static void t_bad_flag(tandem_tokenizer_spec *s) { s->add_bos = 2; }
static void t_bad_kind(tandem_tokenizer_spec *s) { s->kind = 7; }
static void t_bad_pre(tandem_tokenizer_spec *s) { s->pre = "qwen35"; }
static void t_no_tokens(tandem_tokenizer_spec *s) { s->n_tokens = 0; }
static void t_null_merge(tandem_tokenizer_spec *s) { s->merges = NULL; }

void test_format(void) {
  const tandem_tokenizer_spec *spec = fake_vocab_bpe();
  uint8_t *a = NULL, *b = NULL;
  size_t na = 0, nb = 0;
  tandem_tokenizer *tok = NULL;
  CHECK_OK(tandem_tokenizer_serialize(spec, &a, &na));
  CHECK_OK(tandem_tokenizer_serialize(spec, &b, &nb));
  CHECK(a && b && na == nb && memcmp(a, b, na) == 0); /* deterministic */
  CHECK_STATUS(t_serialize_changed(t_bad_bos), TANDEM_INVALID_ARGUMENT, "bos_id 999 is out of range");
  CHECK_STATUS(t_serialize_changed(t_bad_flag), TANDEM_INVALID_ARGUMENT, "add_bos is 2");
  CHECK_STATUS(t_serialize_changed(t_bad_kind), TANDEM_INVALID_ARGUMENT, "unknown kind 7");
  CHECK_STATUS(t_serialize_changed(t_bad_pre), TANDEM_INVALID_ARGUMENT,
               "pre-tokenizer 'qwen35' is not supported");
  CHECK_STATUS(t_serialize_changed(t_no_tokens), TANDEM_INVALID_ARGUMENT, "0 tokens");
  CHECK_STATUS(t_serialize_changed(t_null_merge), TANDEM_INVALID_ARGUMENT, "merges is NULL");
  CHECK_STATUS(tandem_tokenizer_open(NULL, 0, &tok), TANDEM_DATA_LOSS, "not a serialized");
  if (!a) return;
  memcpy(b, a, na);
  b[8] = 2;
  CHECK_STATUS(tandem_tokenizer_open(b, na, &tok), TANDEM_FAILED_PRECONDITION, "format version 2");
  memcpy(b, a, na);
  b[0] = 'X';
  CHECK_STATUS(tandem_tokenizer_open(b, na, &tok), TANDEM_DATA_LOSS, "no \"TNDMTOK1\" magic");
  uint8_t *longer = malloc(na + 1);
  memcpy(longer, a, na);
  longer[na] = 0;
  CHECK_STATUS(tandem_tokenizer_open(longer, na + 1, &tok), TANDEM_DATA_LOSS, "1 bytes after the end");
  CHECK_STATUS(tandem_tokenizer_open(a, na - 1, &tok), TANDEM_DATA_LOSS, "runs past the end");
  CHECK(tok == NULL);
  free(longer);
  free(a);
  free(b);
}

/* Open must survive any bytes: every truncation of the header region and a sample
 * of the rest, and random byte changes (a fixed seed, so failures reproduce). */
void test_fuzz(void) {
  uint8_t *good = NULL, *buf;
  size_t size = 0;
  CHECK_OK(tandem_tokenizer_serialize(fake_vocab_spm(), &good, &size));
  if (!good) return;
  buf = malloc(size);
  int opened = 0;
  for (size_t len = 0; len < size; len += len < 200 ? 1 : 97) {
    tandem_tokenizer *tok = (tandem_tokenizer *)1;
    tandem_status status = tandem_tokenizer_open(good, len, &tok);
    CHECK(status != NULL && tok == NULL);
    tandem_status_free(status);
  }
  uint64_t x = 0x243f6a8885a308d3ull;
  for (int round = 0; round < 400; round++) {
    memcpy(buf, good, size);
    for (int k = 0; k < 1 + round % 4; k++) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      size_t at = (size_t)(x >> 33) % (round % 2 ? 200 : size); /* half near the header */
      buf[at] ^= (uint8_t)(1u << ((x >> 20) & 7)) | (uint8_t)((round & 8) ? 0xff : 0);
    }
    tandem_tokenizer *tok = NULL;
    tandem_status status = tandem_tokenizer_open(buf, size, &tok);
    if (!status) {
      int32_t *ids = NULL;
      size_t n;
      tandem_status_free(tandem_tokenize(tok, "hello <s> world \xc3\xa9!", 18, 1, 1, &ids, &n));
      free(ids);
      opened++;
    }
    tandem_status_free(status);
    tandem_tokenizer_close(tok);
  }
  CHECK(opened > 0); /* flips in token text leave a valid tokenizer */
  free(buf);
  free(good);
}
