/* -p PROMPT: generate text, streaming each token's bytes to stdout as it comes.
 *
 * The prompt is tokenized with the vocabulary's BOS/EOS rule and special tokens parsed
 * (as llama.cpp's CLI does), evaluated in prefill chunks, then each sampled token is
 * printed and fed back through decode. Generation stops after -n tokens, at an
 * end-of-generation token (EOS, <|im_end|>, <|eot_id|>, ...: not printed), or when the
 * context is full. Control tokens are not printed. Timings go to stderr, so stdout
 * holds only the generated text and a final newline. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rt_llm_driver.h"
#include "rt_sample.h"
#include "rt_tokenizer.h"

static uint64_t rt_clock_seed(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
}

static int rt_prompt_ids(rt_llm_driver *d, int32_t **ids, size_t *n) {
  const tandem_tokenizer *tok = d->llm->tokenizer;
  char *formatted = NULL;
  const char *text = d->args.prompt;
  tandem_status status = NULL;
  if (d->args.chat) {
    status = rt_chat_format(tok->chat_template, text, &formatted);
    if (status) return rt_llm_fail_status(d, status);
    text = formatted;
  }
  status = tandem_tokenize(tok, text, strlen(text), 1, 1, ids, n);
  free(formatted);
  if (status) return rt_llm_fail_status(d, status);
  if (*n == 0) return rt_llm_fail(d, RT_EXIT_BAD_INPUT, "the prompt is empty (and the model adds no BOS)");
  if (*n > d->desc->n_ctx)
    return rt_llm_fail(d, RT_EXIT_BAD_INPUT, "prompt is %zu tokens, the context holds %" PRIu32, *n,
                       d->desc->n_ctx);
  return RT_EXIT_OK;
}

/* Prints a token's bytes; control tokens print nothing, as in llama.cpp's CLI without
 * --special, and neither do ids past the tokenizer's (a padded vocabulary). */
static bool rt_emit(const tandem_tokenizer *tok, int32_t id) {
  const char *bytes;
  size_t len;
  if ((uint32_t)id >= tok->n_tokens || (tok->attrs[id] & (RT_ATTR_CONTROL | RT_ATTR_UNKNOWN)))
    return true;
  tandem_status status = tandem_token_piece(tok, id, &bytes, &len);
  if (status) {
    tandem_status_free(status);
    return true;
  }
  return fwrite(bytes, 1, len, stdout) == len && fflush(stdout) == 0;
}

typedef struct rt_gen_stats {
  size_t prompt, generated;
  double prompt_s, gen_s;
} rt_gen_stats;

/* Samples, prints and feeds back up to n_predict tokens after the prompt at `pos`. */
static int rt_generate_loop(rt_llm_driver *d, rt_sampler *s, uint32_t pos, rt_gen_stats *st) {
  const tandem_tokenizer *tok = d->llm->tokenizer;
  long n_predict = d->args.n_predict < 0 ? 64 : d->args.n_predict;
  double start = rt_llm_now();
  for (long i = 0; i < n_predict; i++) {
    int32_t id = rt_sampler_sample(s, d->llm->last);
    if (rt_token_is_eog(tok, id)) break;
    if (!rt_emit(tok, id)) return rt_llm_fail(d, RT_EXIT_BAD_INPUT, "cannot write to stdout");
    st->generated++;
    if (i + 1 == n_predict) break;
    if (pos == d->desc->n_ctx) {
      fprintf(stderr, "%s: note: the context of %" PRIu32 " tokens is full\n", d->prog, pos);
      break;
    }
    tandem_status status = rt_llm_eval(d->llm, &id, 1, pos++, 0, NULL);
    if (status) return rt_llm_fail_status(d, status);
  }
  st->gen_s = rt_llm_now() - start;
  return RT_EXIT_OK;
}

int rt_llm_generate(rt_llm_driver *d) {
  int32_t *ids = NULL;
  size_t n = 0;
  int code = rt_prompt_ids(d, &ids, &n);
  rt_sampler s = {0};
  rt_sampler_params params = {d->args.temp, d->args.top_k, d->args.top_p,
                              d->args.seed_given ? d->args.seed : rt_clock_seed()};
  rt_gen_stats st = {n, 0, 0, 0};
  tandem_status status = code ? NULL : rt_sampler_init(&s, &params, d->desc->n_vocab);
  if (!code && !status) {
    double start = rt_llm_now();
    status = rt_llm_eval(d->llm, ids, n, 0, 0, NULL);
    st.prompt_s = rt_llm_now() - start;
  }
  if (status) code = rt_llm_fail_status(d, status);
  if (!code) code = rt_generate_loop(d, &s, (uint32_t)n, &st);
  if (!code) {
    putchar('\n');
    fflush(stdout);
    fprintf(stderr, "%s: prompt %zu tokens in %.3f s (%.2f tok/s), generated %zu tokens in %.3f s "
            "(%.2f tok/s)\n", d->prog, st.prompt, st.prompt_s, st.prompt / (st.prompt_s > 0 ? st.prompt_s : 1),
            st.generated, st.gen_s, st.generated / (st.gen_s > 0 ? st.gen_s : 1));
  }
  rt_sampler_free(&s);
  free(ids);
  return code;
}
