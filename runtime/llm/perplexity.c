/* --perplexity and --kl-divergence, computed exactly as llama.cpp's llama-perplexity
 * (tools/perplexity/perplexity.cpp: perplexity() and kl_divergence()):
 *
 *   The file is tokenized whole (BOS as the vocabulary says, special tokens not
 *   parsed) and cut into n_chunk = n_tokens / ctx windows of ctx tokens; the rest is
 *   dropped. Each window is evaluated from position 0 (its first token replaced by BOS
 *   when the vocabulary adds BOS), and only its second half is scored: for positions
 *   j = ctx/2 .. ctx-2, nll_j = -log softmax(logits_j)[token_{j+1}]. After each window
 *   "[k]PPL," shows the running exp(mean nll); at the end
 *   "Final estimate: PPL = exp(mean) +/- exp(mean) * sqrt(var(nll) / (count - 1))".
 *
 *   --save-logits writes llama-perplexity's --kl-divergence-base file: "_logits_",
 *   i32 ctx, i32 n_vocab, i32 n_chunk, i32 tokens[n_chunk * ctx], then per window and
 *   scored position a row of nv = 2 * ((n_vocab + 1) / 2) + 4 u16: f32 scale, f32
 *   min_log_prob, then each log-probability quantized to 16 bits over its top 16 nats.
 *   Files from llama-perplexity and from tandem are interchangeable.
 *
 *   --kl-divergence evaluates the file's own tokens and compares with its rows: mean
 *   KLD, its percentiles, the probability of the right token (delta p), and how often
 *   the most likely token is the same, printed as llama-perplexity prints them. (It
 *   skips the summary below 100 scored tokens; here it is always printed.)
 *
 * The arithmetic keeps llama.cpp's float and double choices, so that the numbers match
 * to the printed digits for the same logits. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt_llm_driver.h"
#include "rt_tokenizer.h"

#define RT_LOGITS_MAGIC "_logits_"

typedef struct rt_ppl {
  rt_llm_driver *d;
  uint32_t ctx, first, scored, n_chunk, n_vocab;
  size_t nv;         /* u16 per saved row */
  int32_t *tokens;   /* [n_tokens] */
  size_t n_tokens;
  int32_t *window;   /* [ctx] */
  float *logits;     /* [ctx - first, n_vocab]: positions first .. ctx-1 of a window */
  uint16_t *rows;    /* [scored, nv]: saved or base log-probabilities of a window */
  bool add_bos;
  int32_t bos;
} rt_ppl;

static void rt_ppl_free(rt_ppl *p) {
  free(p->tokens);
  free(p->window);
  free(p->logits);
  free(p->rows);
}

static int rt_ppl_alloc(rt_ppl *p, bool rows) {
  p->first = p->ctx / 2;
  p->scored = p->ctx - 1 - p->first;
  p->n_vocab = p->d->desc->n_vocab;
  p->nv = 2 * (((size_t)p->n_vocab + 1) / 2) + 4;
  p->add_bos = p->d->llm->tokenizer->add_bos;
  p->bos = p->d->llm->tokenizer->bos_id;
  p->window = malloc(p->ctx * sizeof *p->window);
  p->logits = malloc((size_t)(p->ctx - p->first) * p->n_vocab * sizeof *p->logits);
  p->rows = rows ? calloc((size_t)p->scored * p->nv, sizeof *p->rows) : NULL;
  if (!p->window || !p->logits || (rows && !p->rows))
    return rt_llm_fail(p->d, RT_EXIT_BAD_INPUT, "out of memory for a window of %" PRIu32 " tokens", p->ctx);
  return RT_EXIT_OK;
}

/* Window `chunk`: its first token becomes BOS if the vocabulary adds one. */
static int rt_ppl_eval(rt_ppl *p, uint32_t chunk) {
  memcpy(p->window, p->tokens + (size_t)chunk * p->ctx, p->ctx * sizeof *p->window);
  if (p->add_bos) p->window[0] = p->bos;
  tandem_status status = rt_llm_eval(p->d->llm, p->window, p->ctx, 0, p->first, p->logits);
  return status ? rt_llm_fail_status(p->d, status) : RT_EXIT_OK;
}

/* The token scored at row j of window `chunk`. */
static int32_t rt_ppl_target(const rt_ppl *p, uint32_t chunk, uint32_t j) {
  return p->tokens[(size_t)chunk * p->ctx + p->first + j + 1];
}

/* ---- llama-perplexity's per-row arithmetic ------------------------------------------ */

/* log_softmax(n_vocab, logits, tok).log_softmax */
static double rt_log_softmax(const float *logits, uint32_t n, int32_t tok) {
  float max = logits[0];
  for (uint32_t i = 1; i < n; i++) max = fmaxf(max, logits[i]);
  double sum = 0.0;
  for (uint32_t i = 0; i < n; i++) sum += expf(logits[i] - max);
  return logits[tok] - max - log(sum);
}

static int rt_nearest_int(float f) {
  float v = f + 12582912.f;
  int i;
  memcpy(&i, &v, sizeof i);
  return (i & 0x007fffff) - 0x00400000;
}

/* log_softmax(n_vocab, logits, log_prob, tok): quantizes the row into `q` and returns
 * the token's nll. */
static double rt_log_softmax_save(const float *logits, uint32_t n, uint16_t *q, int32_t tok) {
  float max = logits[0], min = logits[0];
  for (uint32_t i = 1; i < n; i++) {
    max = fmaxf(max, logits[i]);
    min = fminf(min, logits[i]);
  }
  min = fmaxf(min, max - 16);
  double sum = 0.0;
  for (uint32_t i = 0; i < n; i++) sum += expf(logits[i] - max);
  const float log_sum_exp = (float)log(sum);
  const float min_log_prob = min - max - log_sum_exp;
  const float scale = (max - min) / 65535.f, head[2] = {scale, min_log_prob};
  memcpy(q, head, sizeof head);
  q += 4;
  if (scale) {
    const float inv_scale = 1 / scale;
    for (uint32_t i = 0; i < n; i++)
      q[i] = logits[i] > min ? (uint16_t)rt_nearest_int(inv_scale * (logits[i] - min)) : 0;
  } else {
    memset(q, 0, n * sizeof *q);
  }
  return max + log_sum_exp - logits[tok];
}

/* ---- --perplexity -------------------------------------------------------------------- */

typedef struct rt_save {
  const char *path;
  char *tmp;
  FILE *f;
} rt_save;

static tandem_status rt_save_open(rt_save *s, const rt_ppl *p) {
  s->tmp = malloc(strlen(s->path) + sizeof ".tmp-XXXXXX");
  if (!s->tmp) return rt_status_make(TANDEM_OUT_OF_MEMORY, "out of memory");
  strcat(strcpy(s->tmp, s->path), ".tmp-XXXXXX");
  int fd = mkstemp(s->tmp);
  if (fd < 0 || !(s->f = fdopen(fd, "wb"))) {
    int err = errno;
    if (fd >= 0) close(fd);
    free(s->tmp);
    s->tmp = NULL;
    return rt_status_errno(err, "%s: cannot create", s->path);
  }
  int32_t head[3] = {(int32_t)p->ctx, (int32_t)p->n_vocab, (int32_t)p->n_chunk};
  fwrite(RT_LOGITS_MAGIC, 1, 8, s->f);
  fwrite(head, sizeof head, 1, s->f);
  fwrite(p->tokens, sizeof *p->tokens, (size_t)p->n_chunk * p->ctx, s->f);
  return NULL;
}

/* Renames the complete file into place, or removes it. */
static tandem_status rt_save_close(rt_save *s, bool keep) {
  tandem_status status = NULL;
  if (!s->f) return NULL;
  bool ok = !ferror(s->f);
  ok = fclose(s->f) == 0 && ok;
  if (keep && !ok) status = rt_status_errno(errno ? errno : EIO, "%s: cannot write", s->path);
  else if (keep && rename(s->tmp, s->path) != 0) status = rt_status_errno(errno, "%s: cannot rename into place", s->path);
  if (!keep || status) unlink(s->tmp);
  free(s->tmp);
  s->f = NULL;
  s->tmp = NULL;
  return status;
}

/* The tokens of a text file, as llama-perplexity tokenizes it. */
static int rt_ppl_tokenize(rt_llm_driver *d, const char *path, int32_t **ids, size_t *n) {
  char *text;
  size_t len;
  tandem_status status = rt_llm_read_file(path, &text, &len);
  if (!status) status = tandem_tokenize(d->llm->tokenizer, text, len, 1, 0, ids, n);
  if (status) {
    free(text);
    return rt_llm_fail_status(d, status);
  }
  free(text);
  return RT_EXIT_OK;
}

static int rt_ppl_setup(rt_ppl *p) {
  rt_llm_driver *d = p->d;
  uint32_t n_ctx = d->desc->n_ctx;
  if (d->args.ctx > (long)n_ctx)
    return rt_llm_fail(d, RT_EXIT_USAGE, "--ctx %ld: the model's context holds %" PRIu32, d->args.ctx, n_ctx);
  p->ctx = d->args.ctx ? (uint32_t)d->args.ctx : n_ctx < 512 ? n_ctx : 512;
  if (p->ctx < 4) return rt_llm_fail(d, RT_EXIT_BAD_INPUT, "the model's context (%" PRIu32 ") is too short to score", n_ctx);
  if (d->llm->tokenizer->add_eos)
    return rt_llm_fail(d, RT_EXIT_BAD_INPUT, "the vocabulary appends EOS to every text, which "
                       "perplexity windows cannot follow (llama-perplexity refuses it too)");
  int code = rt_ppl_tokenize(d, d->args.perplexity, &p->tokens, &p->n_tokens);
  if (code) return code;
  if (p->n_tokens < 2 * (size_t)p->ctx)
    return rt_llm_fail(d, RT_EXIT_BAD_INPUT, "%s: %zu tokens; a context of %" PRIu32
                       " needs at least %zu (use a longer text or a smaller --ctx)",
                       d->args.perplexity, p->n_tokens, p->ctx, 2 * (size_t)p->ctx);
  p->n_chunk = (uint32_t)(p->n_tokens / p->ctx);
  return rt_ppl_alloc(p, d->args.save_logits != NULL);
}

typedef struct rt_nll {
  double nll, nll2;
  size_t count;
} rt_nll;

static int rt_ppl_chunk(rt_ppl *p, uint32_t chunk, rt_save *save, rt_nll *acc) {
  int code = rt_ppl_eval(p, chunk);
  if (code) return code;
  for (uint32_t j = 0; j < p->scored; j++) {
    const float *row = p->logits + (size_t)j * p->n_vocab;
    int32_t tok = rt_ppl_target(p, chunk, j);
    double v = save->f ? rt_log_softmax_save(row, p->n_vocab, p->rows + j * p->nv, tok)
                       : -rt_log_softmax(row, p->n_vocab, tok);
    acc->nll += v;
    acc->nll2 += v * v;
  }
  if (save->f) fwrite(p->rows, sizeof *p->rows, (size_t)p->scored * p->nv, save->f);
  acc->count += p->scored;
  printf("[%" PRIu32 "]%.4lf,", chunk + 1, exp(acc->nll / (double)acc->count));
  fflush(stdout);
  return RT_EXIT_OK;
}

static void rt_ppl_final(rt_nll acc) {
  double nll = acc.nll / (double)acc.count, nll2 = acc.nll2 / (double)acc.count;
  double ppl = exp(nll);
  nll2 -= nll * nll;
  /* llama-perplexity reports a non-positive variance as an error and prints no
   * estimate; the spread is 0 then (every token equally likely). */
  double spread = nll2 > 0 ? sqrt(nll2 / (double)(acc.count - 1)) : 0.0;
  printf("\nFinal estimate: PPL = %.4lf +/- %.5lf\n", ppl, spread * ppl);
}

int rt_llm_perplexity(rt_llm_driver *d) {
  rt_ppl p = {.d = d};
  rt_save save = {d->args.save_logits, NULL, NULL};
  rt_nll acc = {0};
  int code = rt_ppl_setup(&p);
  tandem_status status = NULL;
  if (!code && save.path && (status = rt_save_open(&save, &p))) code = rt_llm_fail_status(d, status);
  for (uint32_t c = 0; !code && c < p.n_chunk; c++) code = rt_ppl_chunk(&p, c, &save, &acc);
  if ((status = rt_save_close(&save, code == RT_EXIT_OK))) code = rt_llm_fail_status(d, status);
  if (!code) rt_ppl_final(acc);
  rt_ppl_free(&p);
  return code;
}

/* ---- --kl-divergence ------------------------------------------------------------------- */

typedef struct rt_kld {
  double sum_nll, sum_nll2, sum_nll_base, sum_nll_base2, sum_nll_nll_base;
  double sum_kld, sum_kld2, sum_p_diff, sum_p_diff2, sum_p_diff4;
  float max_p_diff;
  size_t n_same_top, count;
  float *kld_values, *p_diff_values; /* [n_chunk * scored] */
} rt_kld;

/* llama-perplexity's log_softmax(n_vocab, logits, base_log_prob, tok, kld): one row. */
static void rt_kld_row(rt_kld *k, const float *logits, uint32_t n, const uint16_t *base, int32_t tok) {
  float max_logit = logits[0];
  uint32_t imax = 0;
  for (uint32_t i = 1; i < n; i++)
    if (logits[i] > max_logit) max_logit = logits[i], imax = i;
  double sum_exp = 0.0;
  for (uint32_t i = 0; i < n; i++) sum_exp += expf(logits[i] - max_logit);
  const float log_sum_exp = (float)log(sum_exp);
  float head[2];
  memcpy(head, base, sizeof head);
  const float scale = head[0], min_log_prob = head[1];
  base += 4;
  const float nll = max_logit + log_sum_exp - logits[tok];
  k->sum_nll += nll, k->sum_nll2 += nll * nll;
  const float nll_base = -(scale * base[tok] + min_log_prob);
  k->sum_nll_base += nll_base, k->sum_nll_base2 += nll_base * nll_base;
  k->sum_nll_nll_base += nll * nll_base;
  max_logit += log_sum_exp;
  double sum = 0;
  uint32_t imax_base = 0;
  float p_log_base_max = 0;
  for (uint32_t i = 0; i < n; i++) {
    const float p_log_base = scale * base[i] + min_log_prob;
    if (i == 0 || p_log_base > p_log_base_max) p_log_base_max = p_log_base, imax_base = i;
    if (p_log_base > -16.f) sum += expf(p_log_base) * (p_log_base - logits[i] + max_logit);
  }
  k->sum_kld += sum, k->sum_kld2 += sum * sum;
  k->n_same_top += imax == imax_base;
  const float p_diff = expf(-nll) - expf(-nll_base);
  const double p_diff2 = p_diff * p_diff;
  k->sum_p_diff += p_diff, k->sum_p_diff2 += p_diff2, k->sum_p_diff4 += p_diff2 * p_diff2;
  k->max_p_diff = fmaxf(k->max_p_diff, fabsf(p_diff));
  k->kld_values[k->count] = (float)sum;
  k->p_diff_values[k->count] = p_diff;
  k->count++;
}

typedef struct rt_mean {
  double value, uncertainty;
} rt_mean;

static rt_mean rt_mean_of(double sum, double sum2, size_t count) {
  if (count < 1) return (rt_mean){0, 0};
  double f = sum / count, df = sum2 / count - f * f;
  return (rt_mean){f, df > 0 && count > 10 ? sqrt(df / (count - 1)) : 0.};
}

static double rt_covariance(double a, double b, double ab, size_t count) {
  if (count < 10) return 0.0;
  return (ab / count - (a / count) * (b / count)) / (count - 1);
}

static float rt_percentile(const float *v, size_t n, float fraction) {
  if (fraction <= 0) return v[0];
  if (fraction >= 1) return v[n - 1];
  float p = fraction * (n - 1);
  size_t ip = (size_t)p;
  p -= ip;
  return (1 - p) * v[ip] + p * v[ip + 1 < n ? ip + 1 : n - 1];
}

static float rt_median(const float *v, size_t n) {
  return n % 2 == 0 ? 0.5f * (v[n / 2] + v[n / 2 - 1]) : v[n / 2];
}

static void rt_kld_chunk_line(const rt_kld *k, uint32_t chunk) {
  rt_mean ppl = rt_mean_of(k->sum_nll, k->sum_nll2, k->count);
  rt_mean base = rt_mean_of(k->sum_nll_base, k->sum_nll_base2, k->count);
  double cov = rt_covariance(k->sum_nll, k->sum_nll_base, k->sum_nll_nll_base, k->count);
  rt_mean kl = rt_mean_of(k->sum_kld, k->sum_kld2, k->count);
  rt_mean mse = rt_mean_of(k->sum_p_diff2, k->sum_p_diff4, k->count);
  double rms = sqrt(mse.value), top = 1. * k->n_same_top / k->count;
  printf("%4" PRIu32, chunk + 1);
  printf("    %9.4lf \xc2\xb1 %9.4lf", exp(ppl.value), exp(ppl.value) * ppl.uncertainty);
  printf("    %10.5lf \xc2\xb1 %10.5lf", ppl.value - base.value,
         sqrt(ppl.uncertainty * ppl.uncertainty + base.uncertainty * base.uncertainty - 2.0 * cov));
  printf("    %10.5lf \xc2\xb1 %10.5lf", kl.value, kl.uncertainty);
  printf("    %6.3lf \xc2\xb1 %6.3lf %%", 100.0 * rms, 100.0 * 0.5 / rms * mse.uncertainty);
  printf("    %6.3lf \xc2\xb1 %6.3lf %%\n", 100.0 * top, 100.0 * sqrt(top * (1 - top) / (k->count - 1)));
  fflush(stdout);
}

static int rt_compare_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static void rt_kld_ppl_summary(const rt_kld *k) {
  rt_mean lp = rt_mean_of(k->sum_nll, k->sum_nll2, k->count);
  rt_mean lb = rt_mean_of(k->sum_nll_base, k->sum_nll_base2, k->count);
  double ppl = exp(lp.value), ppl_unc = ppl * lp.uncertainty;
  double base = exp(lb.value), base_unc = base * lb.uncertainty;
  double cov = rt_covariance(k->sum_nll, k->sum_nll_base, k->sum_nll_nll_base, k->count);
  double ratio = lp.value - lb.value;
  double ratio_unc = sqrt(lp.uncertainty * lp.uncertainty + lb.uncertainty * lb.uncertainty - 2.0 * cov);
  printf("====== Perplexity statistics ======\n");
  printf("Mean PPL(Q)                   : %10.6lf \xc2\xb1 %10.6lf\n", ppl, ppl_unc);
  printf("Mean PPL(base)                : %10.6lf \xc2\xb1 %10.6lf\n", base, base_unc);
  printf("Cor(ln(PPL(Q)), ln(PPL(base))): %6.2lf%%\n", 100.0 * cov / (lp.uncertainty * lb.uncertainty));
  printf("Mean ln(PPL(Q)/PPL(base))     : %10.6lf \xc2\xb1 %10.6lf\n", ratio, ratio_unc);
  printf("Mean PPL(Q)/PPL(base)         : %10.6lf \xc2\xb1 %10.6lf\n", exp(ratio), exp(ratio) * ratio_unc);
  double ppl_cov = ppl * base * cov;
  printf("Mean PPL(Q)-PPL(base)         : %10.6lf \xc2\xb1 %10.6lf\n\n", ppl - base,
         sqrt(ppl_unc * ppl_unc + base_unc * base_unc - 2.0 * ppl_cov));
}

static void rt_kld_summary(rt_kld *k) {
  size_t n = k->count;
  qsort(k->kld_values, n, sizeof *k->kld_values, rt_compare_float);
  qsort(k->p_diff_values, n, sizeof *k->p_diff_values, rt_compare_float);
  rt_kld_ppl_summary(k);
  rt_mean kl = rt_mean_of(k->sum_kld, k->sum_kld2, n);
  const float *v = k->kld_values, *pd = k->p_diff_values;
  printf("====== KL divergence statistics ======\n");
  printf("Mean    KLD: %10.6lf \xc2\xb1 %10.6lf\n", kl.value, kl.uncertainty);
  printf("Maximum KLD: %10.6f\n", v[n - 1]);
  static const float levels[] = {0.999f, 0.990f, 0.950f, 0.900f};
  static const char *const names[] = {"99.9%", "99.0%", "95.0%", "90.0%"};
  for (int i = 0; i < 4; i++) printf("%s   KLD: %10.6f\n", names[i], rt_percentile(v, n, levels[i]));
  printf("Median  KLD: %10.6f\n", rt_median(v, n));
  printf("10.0%%   KLD: %10.6f\n", rt_percentile(v, n, 0.100f));
  printf(" 5.0%%   KLD: %10.6f\n", rt_percentile(v, n, 0.050f));
  printf(" 1.0%%   KLD: %10.6f\n", rt_percentile(v, n, 0.010f));
  printf(" 0.1%%   KLD: %10.6f\n", rt_percentile(v, n, 0.001f));
  printf("Minimum KLD: %10.6f\n\n", v[0]);
  printf("====== Token probability statistics ======\n");
  rt_mean pdm = rt_mean_of(k->sum_p_diff, k->sum_p_diff2, n);
  printf("Mean    \xce\x94p: %6.3lf \xc2\xb1 %5.3lf %%\n", 100.0 * pdm.value, 100.0 * pdm.uncertainty);
  printf("Maximum \xce\x94p: %6.3lf%%\n", 100.0 * pd[n - 1]);
  static const float pl[] = {0.999f, 0.990f, 0.950f, 0.900f, 0.750f};
  static const char *const pn[] = {"99.9%", "99.0%", "95.0%", "90.0%", "75.0%"};
  for (int i = 0; i < 5; i++) printf("%s   \xce\x94p: %6.3lf%%\n", pn[i], 100.0 * rt_percentile(pd, n, pl[i]));
  printf("Median  \xce\x94p: %6.3lf%%\n", 100.0 * rt_median(pd, n));
  static const float ql[] = {0.250f, 0.100f, 0.050f, 0.010f, 0.001f};
  static const char *const qn[] = {"25.0%", "10.0%", " 5.0%", " 1.0%", " 0.1%"};
  for (int i = 0; i < 5; i++) printf("%s   \xce\x94p: %6.3lf%%\n", qn[i], 100.0 * rt_percentile(pd, n, ql[i]));
  printf("Minimum \xce\x94p: %6.3lf%%\n", 100.0 * pd[0]);
  rt_mean mse = rt_mean_of(k->sum_p_diff2, k->sum_p_diff4, n);
  double rms = sqrt(mse.value), top = 1.0 * k->n_same_top / n;
  printf("RMS \xce\x94p    : %6.3lf \xc2\xb1 %5.3lf %%\n", 100.0 * rms, 100.0 * 0.5 / rms * mse.uncertainty);
  printf("Same top p: %6.3lf \xc2\xb1 %5.3lf %%\n", 100.0 * top, 100.0 * sqrt(top * (1.0 - top) / (n - 1)));
}

/* ---- reading a logits file ------------------------------------------------------------- */

static int rt_kld_fail(rt_ppl *p, const char *what) {
  return rt_llm_fail(p->d, RT_EXIT_BAD_INPUT, "%s: %s", p->d->args.kl_divergence, what);
}

/* The header and tokens, checked against the model and the file's size. */
static int rt_kld_read_head(rt_ppl *p, FILE *f) {
  char magic[8];
  int32_t head[3];
  struct stat st;
  if (fread(magic, 1, 8, f) != 8 || memcmp(magic, RT_LOGITS_MAGIC, 8) != 0 || fread(head, sizeof head, 1, f) != 1)
    return rt_kld_fail(p, "not a file of log-probabilities (--save-logits, llama-perplexity "
                          "--kl-divergence-base)");
  if (head[0] < 4 || (uint32_t)head[0] > p->d->desc->n_ctx)
    return rt_llm_fail(p->d, RT_EXIT_BAD_INPUT, "%s: computed with a context of %" PRId32
                       ", this model holds %" PRIu32, p->d->args.kl_divergence, head[0], p->d->desc->n_ctx);
  if (head[1] != (int32_t)p->d->desc->n_vocab)
    return rt_llm_fail(p->d, RT_EXIT_BAD_INPUT, "%s: computed with %" PRId32 " tokens, this model has %"
                       PRIu32, p->d->args.kl_divergence, head[1], p->d->desc->n_vocab);
  if (head[2] < 1) return rt_kld_fail(p, "no windows");
  if (p->d->args.ctx && p->d->args.ctx != head[0])
    return rt_llm_fail(p->d, RT_EXIT_BAD_INPUT, "%s: computed with a context of %" PRId32 ", not --ctx %ld",
                       p->d->args.kl_divergence, head[0], p->d->args.ctx);
  p->ctx = (uint32_t)head[0];
  p->n_chunk = (uint32_t)head[2];
  int code = rt_ppl_alloc(p, true);
  if (code) return code;
  uint64_t expect = 20 + (uint64_t)p->n_chunk * p->ctx * 4 + (uint64_t)p->n_chunk * p->scored * p->nv * 2;
  if (fstat(fileno(f), &st) != 0 || (uint64_t)st.st_size != expect)
    return rt_llm_fail(p->d, RT_EXIT_BAD_INPUT, "%s: %lld bytes, expected %" PRIu64 " for %" PRIu32
                       " windows of %" PRIu32, p->d->args.kl_divergence, (long long)st.st_size, expect,
                       p->n_chunk, p->ctx);
  p->n_tokens = (size_t)p->n_chunk * p->ctx;
  p->tokens = malloc(p->n_tokens * sizeof *p->tokens);
  if (!p->tokens || fread(p->tokens, sizeof *p->tokens, p->n_tokens, f) != p->n_tokens)
    return rt_kld_fail(p, "cannot read its tokens");
  for (size_t i = 0; i < p->n_tokens; i++)
    if (p->tokens[i] < 0 || (uint32_t)p->tokens[i] >= p->n_vocab) return rt_kld_fail(p, "a token is out of range");
  return RT_EXIT_OK;
}

/* With --perplexity as well, the text must tokenize to the file's tokens. */
static int rt_kld_check_text(rt_ppl *p) {
  int32_t *ids;
  size_t n;
  if (!p->d->args.perplexity) return RT_EXIT_OK;
  int code = rt_ppl_tokenize(p->d, p->d->args.perplexity, &ids, &n);
  if (code) return code;
  bool same = n >= p->n_tokens && memcmp(ids, p->tokens, p->n_tokens * sizeof *ids) == 0;
  free(ids);
  return same ? RT_EXIT_OK
              : rt_llm_fail(p->d, RT_EXIT_BAD_INPUT, "%s was not computed on the tokens of %s",
                            p->d->args.kl_divergence, p->d->args.perplexity);
}

static int rt_kld_run(rt_ppl *p, FILE *f, rt_kld *k) {
  size_t total = (size_t)p->n_chunk * p->scored;
  k->kld_values = malloc((total ? total : 1) * sizeof *k->kld_values);
  k->p_diff_values = malloc((total ? total : 1) * sizeof *k->p_diff_values);
  if (!k->kld_values || !k->p_diff_values) return rt_llm_fail(p->d, RT_EXIT_BAD_INPUT, "out of memory");
  printf("chunk             PPL               ln(PPL(Q)/PPL(base))          KL Divergence              "
         "\xce\x94p RMS            Same top p\n");
  for (uint32_t c = 0; c < p->n_chunk; c++) {
    int code = rt_ppl_eval(p, c);
    if (code) return code;
    if (fread(p->rows, sizeof *p->rows * p->nv, p->scored, f) != p->scored) return rt_kld_fail(p, "cannot read");
    for (uint32_t j = 0; j < p->scored; j++)
      rt_kld_row(k, p->logits + (size_t)j * p->n_vocab, p->n_vocab, p->rows + j * p->nv, rt_ppl_target(p, c, j));
    rt_kld_chunk_line(k, c);
  }
  printf("\n");
  rt_kld_summary(k);
  return RT_EXIT_OK;
}

int rt_llm_kl_divergence(rt_llm_driver *d) {
  rt_ppl p = {.d = d};
  rt_kld k = {0};
  if (d->args.ctx > (long)d->desc->n_ctx)
    return rt_llm_fail(d, RT_EXIT_USAGE, "--ctx %ld: the model's context holds %" PRIu32, d->args.ctx,
                       d->desc->n_ctx);
  FILE *f = fopen(d->args.kl_divergence, "rb");
  int code = f ? RT_EXIT_OK : rt_llm_fail(d, RT_EXIT_BAD_INPUT, "%s: cannot open: %s",
                                          d->args.kl_divergence, strerror(errno));
  if (!code) code = rt_kld_read_head(&p, f);
  if (!code) code = rt_kld_check_text(&p);
  if (!code) code = rt_kld_run(&p, f, &k);
  if (f) fclose(f);
  free(k.kld_values);
  free(k.p_diff_values);
  rt_ppl_free(&p);
  return code;
}
