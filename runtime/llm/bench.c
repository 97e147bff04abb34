/* --bench [-p NP] [-n NG]: tokens per second, as llama-bench measures them.
 *
 *   ppNP: NP tokens (default 512, at most n_ctx) fed from position 0 the way a prompt
 *         is (full prefill chunks, then the remainder);
 *   tgNG: NG tokens (default 128, at most n_ctx) decoded one at a time from position 0.
 *
 * The token ids are fixed pseudo-random ones. One short warm-up (a chunk and a decode:
 * page faults on the weights and cache) precedes three timed runs of each test; the
 * table shows the median and the range, and the parallel regions (include/tandem/
 * runtime.h) per token: how often the threads meet.
 *
 *   | model | n_ctx | chunk | threads |  test |    t/s |    min |    max | regions/token |
 *   | ----- | ----: | ----: | ------: | ----: | -----: | -----: | -----: | ------------: |
 *   | NAME  |  2048 |    64 |       2 | pp512 | 812.31 | 806.10 | 815.02 |          3.42 |
 *   | NAME  |  2048 |    64 |       2 | tg128 |  61.40 |  61.02 |  61.77 |        152.00 | */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "rt_llm_driver.h"
#include "rt_sample.h"

#define RT_BENCH_RUNS 3

static int rt_bench_count(rt_llm_driver *d, const char *flag, const char *text, long def, long *out) {
  char *end;
  long v = def;
  if (text) v = strtol(text, &end, 10);
  if (text && (!*text || *end || v < 1))
    return rt_llm_fail(d, RT_EXIT_USAGE, "--bench %s %s: expected a token count from 1", flag, text);
  *out = v > (long)d->desc->n_ctx ? (long)d->desc->n_ctx : v;
  return RT_EXIT_OK;
}

static int rt_compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Seconds for one run: `n` tokens as a prompt, or decoded one by one. */
static tandem_status rt_bench_run(rt_llm *llm, const int32_t *ids, size_t n, bool decode, double *s) {
  double start = rt_llm_now();
  tandem_status status = NULL;
  if (!decode) status = rt_llm_eval(llm, ids, n, 0, 0, NULL);
  for (size_t i = 0; decode && !status && i < n; i++) status = rt_llm_eval(llm, ids + i, 1, (uint32_t)i, 0, NULL);
  *s = rt_llm_now() - start;
  return status;
}

static int rt_bench_test(rt_llm_driver *d, const int32_t *ids, size_t n, bool decode) {
  double rate[RT_BENCH_RUNS];
  uint64_t regions = tandem_parallel_regions();
  for (int r = 0; r < RT_BENCH_RUNS; r++) {
    double s;
    tandem_status status = rt_bench_run(d->llm, ids, n, decode, &s);
    if (status) return rt_llm_fail_status(d, status);
    rate[r] = (double)n / (s > 0 ? s : 1e-9);
  }
  double per_token = (double)(tandem_parallel_regions() - regions) / ((double)n * RT_BENCH_RUNS);
  qsort(rate, RT_BENCH_RUNS, sizeof *rate, rt_compare_double);
  const tandem_llm_desc *m = d->desc;
  char test[32];
  snprintf(test, sizeof test, "%s%zu", decode ? "tg" : "pp", n);
  printf("| %-24s | %6" PRIu32 " | %5" PRIu32 " | %7d | %7s | %9.2f | %9.2f | %9.2f | %13.2f |\n",
         m->name ? m->name : "?", m->n_ctx, m->prefill_tokens, (int)d->args.threads, test, rate[RT_BENCH_RUNS / 2],
         rate[0], rate[RT_BENCH_RUNS - 1], per_token);
  fflush(stdout);
  return RT_EXIT_OK;
}

int rt_llm_bench(rt_llm_driver *d) {
  long np = 0, ng = d->args.n_predict < 0 ? 128 : d->args.n_predict;
  int code = rt_bench_count(d, "-p", d->args.prompt, 512, &np);
  if (code) return code;
  if (ng < 1) return rt_llm_fail(d, RT_EXIT_USAGE, "--bench -n %ld: expected a token count from 1", ng);
  if (ng > (long)d->desc->n_ctx) ng = (long)d->desc->n_ctx;
  size_t n = (size_t)(np > ng ? np : ng);
  int32_t *ids = malloc(n * sizeof *ids);
  if (!ids) return rt_llm_fail(d, RT_EXIT_BAD_INPUT, "out of memory");
  rt_rng rng;
  rt_rng_seed(&rng, 1);
  for (size_t i = 0; i < n; i++) ids[i] = (int32_t)(rt_rng_next(&rng) % d->desc->n_vocab);
  double s;
  size_t warm = d->desc->prefill_tokens < (size_t)np ? d->desc->prefill_tokens : (size_t)np;
  tandem_status status = rt_bench_run(d->llm, ids, warm, false, &s);
  if (!status) status = rt_bench_run(d->llm, ids, 1, true, &s);
  if (status) code = rt_llm_fail_status(d, status);
  if (!code) {
    printf("| %-24s | %6s | %5s | %7s | %7s | %9s | %9s | %9s | %13s |\n", "model", "n_ctx", "chunk", "threads",
           "test", "t/s", "min", "max", "regions/token");
    printf("| %.24s | -----: | ----: | ------: | ------: | --------: | --------: | --------: | ------------: |\n",
           "-------------------------");
    code = rt_bench_test(d, ids, (size_t)np, false);
  }
  if (!code) code = rt_bench_test(d, ids, (size_t)ng, true);
  free(ids);
  return code;
}
