/* tandem-test-llm-fixtures DIR: writes what llm_driver_test.sh feeds the fake LLM
 * executables and what it expects back, computed here without the LLM runtime's
 * evaluation, sampling or perplexity code: the model run directly
 * (fake_llm_reference), the argmax, and llama-perplexity's formulas written out
 * again. Only tokenizing uses the runtime (its own tests cover it). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_llm.h"

#define V FAKE_LLM_VOCAB

static const char *dir;

static const char *fx_path(const char *name) {
  static char buf[2][4096];
  static int next;
  char *p = buf[next++ % 2];
  snprintf(p, sizeof buf[0], "%s/%s", dir, name);
  return p;
}

static void fx_die(const char *what) {
  fprintf(stderr, "tandem-test-llm-fixtures: %s\n", what);
  exit(1);
}

static void fx_check(tandem_status status) {
  if (status) fx_die(tandem_status_message(status));
}

static void fx_text(const char *name, const char *text) {
  FILE *f = fopen(fx_path(name), "wb");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) fx_die(name);
}

static void fx_npy(const char *name, int32_t dtype, int32_t rank, const int64_t *shape, const void *data) {
  uint64_t bytes = tandem_dtype_size(dtype);
  for (int32_t i = 0; i < rank; i++) bytes *= (uint64_t)shape[i];
  tandem_tensor_desc desc = {name, dtype, rank, shape, bytes};
  fx_check(tandem_npy_write(fx_path(name), &desc, data));
}

static tandem_tokenizer *fx_tokenizer(const tandem_llm_desc *desc) {
  tandem_tokenizer *tok;
  fx_check(tandem_tokenizer_open(desc->tokenizer, (size_t)desc->tokenizer_size, &tok));
  return tok;
}

static int32_t *fx_tokenize(const tandem_llm_desc *desc, const char *text, int parse_special, size_t *n) {
  tandem_tokenizer *tok = fx_tokenizer(desc);
  int32_t *ids;
  fx_check(tandem_tokenize(tok, text, strlen(text), 1, parse_special, &ids, n));
  tandem_tokenizer_close(tok);
  return ids;
}

static const char fx_prose[] =
    "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs!\n"
    "How vexingly quick daft zebras jump; the five boxing wizards jump quickly. Sphinx of "
    "black quartz, judge my vow. Jackdaws love my big sphinx of quartz. A wizard's job is "
    "to vex chumps quickly in fog. Watch \"Jeopardy!\", Alex Trebek's fun TV quiz game.\n"
    "hello world, hello again: 12 + 30 = 42, and 7 * 6 = 42 too. Waltz, bad nymph, for quick "
    "jigs vex. Glib jocks quiz nymph to vex dwarf. Sphinx of black quartz, judge my vow. How "
    "quickly daft jumping zebras vex. The five boxing wizards jump quickly; pack my box with "
    "five dozen liquor jugs. Quick zephyrs blow, vexing daft Jim. Two driven jocks help fax "
    "my big quiz. The jay, pig, fox, zebra and my wolves quack! Blowzy red vixens fight for "
    "a quick jump. Joaquin Phoenix was gazed by MTV for luck. A quick movement of the enemy "
    "will jeopardize six gunboats. All questions asked by five watched experts amaze the "
    "judge. Crazy Fredrick bought many very exquisite opal jewels.\n";

/* llama-perplexity's log_softmax(...).log_softmax */
static double fx_log_softmax(const float *l, int32_t tok) {
  float max = l[0];
  for (uint32_t i = 1; i < V; i++) max = l[i] > max ? l[i] : max;
  double sum = 0.0;
  for (uint32_t i = 0; i < V; i++) sum += expf(l[i] - max);
  return l[tok] - max - log(sum);
}

/* What --perplexity prints for `text` with windows of `ctx`, into NAME. */
static void fx_perplexity(const char *name, const tandem_llm_desc *desc, const char *text, uint32_t ctx,
                          int add_bos, int32_t bos) {
  size_t n;
  int32_t *tokens = fx_tokenize(desc, text, 0, &n), *window = malloc(ctx * sizeof *window);
  float *logits = malloc((size_t)ctx * V * sizeof *logits);
  FILE *f = fopen(fx_path(name), "w");
  if (!f || !window || !logits || n < 2 * (size_t)ctx) fx_die(name);
  double nll = 0, nll2 = 0;
  size_t count = 0;
  for (size_t c = 0; c < n / ctx; c++) {
    memcpy(window, tokens + c * ctx, ctx * sizeof *window);
    if (add_bos) window[0] = bos;
    fake_llm_reference(window, ctx, logits);
    for (uint32_t j = ctx / 2; j < ctx - 1; j++) {
      double v = -fx_log_softmax(logits + (size_t)j * V, tokens[c * ctx + j + 1]);
      nll += v;
      nll2 += v * v;
      count++;
    }
    fprintf(f, "[%zu]%.4lf,", c + 1, exp(nll / count));
  }
  nll /= count;
  nll2 = nll2 / count - nll * nll;
  fprintf(f, "\nFinal estimate: PPL = %.4lf +/- %.5lf\n", exp(nll),
          (nll2 > 0 ? sqrt(nll2 / (count - 1)) : 0) * exp(nll));
  if (fclose(f) != 0) fx_die(name);
  free(tokens);
  free(window);
  free(logits);
}

/* Greedy generation after `prompt`: what -p PROMPT --temp 0 -n N prints. */
static void fx_greedy(const char *name, const char *prompt, size_t n_predict) {
  size_t n;
  int32_t *ids = fx_tokenize(&fake_llm_bpe, prompt, 1, &n);
  int32_t seq[FAKE_LLM_CTX];
  static float logits[FAKE_LLM_CTX * V];
  tandem_tokenizer *tok = fx_tokenizer(&fake_llm_bpe);
  FILE *f = fopen(fx_path(name), "wb");
  if (!f || n + n_predict > FAKE_LLM_CTX) fx_die(name);
  memcpy(seq, ids, n * sizeof *ids);
  for (size_t g = 0; g < n_predict; g++, n++) {
    fake_llm_reference(seq, n, logits);
    const float *last = logits + (n - 1) * V;
    int32_t best = 0;
    for (uint32_t i = 1; i < V; i++)
      if (last[i] > last[best]) best = (int32_t)i;
    if (best == FAKE_BPE_IM_END || best == FAKE_BPE_ENDOFTEXT) break;
    const char *piece;
    size_t len;
    fx_check(tandem_token_piece(tok, best, &piece, &len));
    if (best != FAKE_BPE_IM_START) fwrite(piece, 1, len, f); /* control: not printed */
    seq[n] = best;
  }
  fputc('\n', f);
  if (fclose(f) != 0) fx_die(name);
  tandem_tokenizer_close(tok);
  free(ids);
}

static void fx_scoring(void) {
  int32_t ids[20];
  int64_t wide[20], bad[3] = {5, FAKE_LLM_VOCAB, 7}, one[1] = {20}, rows2[2] = {1, 20};
  static float logits[20 * V];
  for (int i = 0; i < 20; i++) wide[i] = ids[i] = (int32_t)((i * 53 + 11) % V);
  fake_llm_reference(ids, 20, logits);
  fx_npy("ids32.npy", TANDEM_DTYPE_I32, 1, one, ids);
  fx_npy("ids64.npy", TANDEM_DTYPE_I64, 2, rows2, wide);
  fx_npy("ids_bad.npy", TANDEM_DTYPE_I64, 1, (int64_t[]){3}, bad);
  fx_npy("ids_f32.npy", TANDEM_DTYPE_F32, 1, (int64_t[]){2}, (float[]){1, 2});
  static int32_t many[FAKE_LLM_CTX + 1];
  fx_npy("ids_long.npy", TANDEM_DTYPE_I32, 1, (int64_t[]){FAKE_LLM_CTX + 1}, many);
  fx_npy("logits_ref.npy", TANDEM_DTYPE_F32, 2, (int64_t[]){20, V}, logits);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: tandem-test-llm-fixtures DIR\n");
    return 2;
  }
  dir = argv[1];
  if (fake_llm_write_weights(fx_path("fake.weights")) != 0 ||
      fake_llm_write_weights(fx_path("fake_spm.weights")) != 0 ||
      fake_llm_write_weights(fx_path("other.weights")) != 0)
    fx_die("cannot write the weights");
  FILE *f = fopen(fx_path("other.weights"), "r+b"); /* another model's: its hash differs */
  if (!f || fseek(f, 24, SEEK_SET) != 0 || fputc(0x5a, f) == EOF || fclose(f) != 0) fx_die("other.weights");
  fx_text("text.txt", fx_prose);
  fx_text("short.txt", "hello world");
  fx_perplexity("ppl_bpe.txt", &fake_llm_bpe, fx_prose, FAKE_LLM_CTX, 0, 0);
  fx_perplexity("ppl_bpe_ctx16.txt", &fake_llm_bpe, fx_prose, 16, 0, 0);
  fx_perplexity("ppl_spm.txt", &fake_llm_spm, fx_prose, FAKE_LLM_CTX, 1, 1);
  fx_greedy("greedy_hello.txt", "hello", 12);
  fx_greedy("greedy_bang.txt", "Stop!", 12);
  fx_scoring();
  return 0;
}
