/* The LLM executable's command line (driver.c) and its modes, each in its own file:
 * generate.c (-p), perplexity.c (--perplexity, --kl-divergence), bench.c (--bench);
 * --tokenize and --score-tokens are small enough to live in driver.c. Every error
 * is one line "PROG: message" on stderr; a mode returns the exit status. */
#ifndef TANDEM_RT_LLM_DRIVER_H
#define TANDEM_RT_LLM_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "rt_llm.h"
#include "rt_status.h"

enum { RT_EXIT_OK = 0, RT_EXIT_BAD_INPUT = 1, RT_EXIT_USAGE = 2 };

typedef struct rt_llm_args {
  const char *prompt;        /* -p: the prompt; with --bench, the prompt length */
  long n_predict;            /* -n; -1: the mode's default */
  float temp, top_p;
  int32_t top_k;
  uint64_t seed;
  bool seed_given, chat, bench;
  const char *perplexity;    /* text file */
  long ctx;                  /* --ctx; 0: default */
  const char *save_logits, *kl_divergence;
  const char *score_tokens, *output;
  const char *tokenize;
  bool no_parse_special;     /* --no-parse-special: "<|im_start|>" in --tokenize text is text */
  long threads;
  const char *weights;
} rt_llm_args;

typedef struct rt_llm_driver {
  const char *prog;
  const tandem_llm_desc *desc;
  rt_llm_args args;
  rt_llm *llm;
} rt_llm_driver;

int rt_llm_fail(const rt_llm_driver *d, int code, const char *fmt, ...) RT_PRINTF(3, 4);
/* Reports and frees `status` (exit 1). */
int rt_llm_fail_status(const rt_llm_driver *d, tandem_status status);
double rt_llm_now(void); /* seconds, monotonic */

int rt_llm_generate(rt_llm_driver *d);
int rt_llm_perplexity(rt_llm_driver *d);
int rt_llm_kl_divergence(rt_llm_driver *d);
int rt_llm_bench(rt_llm_driver *d);

/* The prompt in the chat template's form for one user message (malloc'd); an error
 * names what the template is when it is not ChatML or [INST] (chat.c). */
tandem_status rt_chat_format(const char *chat_template, const char *prompt, char **out);

/* Reads a whole file (malloc'd, NUL-terminated past *out_len). */
tandem_status rt_llm_read_file(const char *path, char **out, size_t *out_len);

#endif
