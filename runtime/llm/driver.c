/* tandem_llm_driver_main: the command line of an LLM executable built by tandemc.
 *
 *   PROG -p PROMPT [-n N] [--temp T] [--top-k K] [--top-p P] [--seed S] [--chat]
 *   PROG --perplexity FILE [--ctx N] [--save-logits FILE]
 *   PROG --kl-divergence FILE [--perplexity FILE] [--ctx N]
 *   PROG --score-tokens=@ids.npy --output=@logits.npy
 *   PROG --tokenize TEXT
 *   PROG --bench [-p N] [-n N]
 *   common: --weights PATH, --threads N, --remainder auto|decode|pad, --help
 *
 * Options take their value as the next argument or after '=' (--temp=0.5). Parsing
 * is two steps: the strings of each option (each at most once), then their values and
 * the mode they select, so that every usage error is found before the model is
 * opened. Usage errors exit 2, bad input 1; each is one line "PROG: message". */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rt_llm_driver.h"
#include "rt_tokenizer.h"

int rt_llm_fail(const rt_llm_driver *d, int code, const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "%s: ", d->prog);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return code;
}

int rt_llm_fail_status(const rt_llm_driver *d, tandem_status status) {
  rt_llm_fail(d, RT_EXIT_BAD_INPUT, "%s", tandem_status_message(status));
  tandem_status_free(status);
  return RT_EXIT_BAD_INPUT;
}

double rt_llm_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

tandem_status rt_llm_read_file(const char *path, char **out, size_t *out_len) {
  *out = NULL;
  *out_len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return rt_status_errno(errno, "%s: cannot open", path);
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap + 1);
  for (size_t got = 1; buf && got;) {
    if (len == cap) {
      char *bigger = realloc(buf, 2 * cap + 1);
      if (!bigger) break;
      buf = bigger;
      cap *= 2;
    }
    len += got = fread(buf + len, 1, cap - len, f);
  }
  int err = ferror(f) ? errno : 0;
  fclose(f);
  if (!buf || len == cap) { /* len == cap: the last realloc failed */
    free(buf);
    return rt_status_make(TANDEM_OUT_OF_MEMORY, "%s: out of memory reading it", path);
  }
  if (err) {
    free(buf);
    return rt_status_errno(err, "%s: cannot read", path);
  }
  buf[len] = 0;
  *out = buf;
  *out_len = len;
  return NULL;
}

/* ---- the command line ------------------------------------------------------------- */

typedef enum rt_opt {
  O_PROMPT, O_N, O_TEMP, O_TOP_K, O_TOP_P, O_SEED, O_CHAT, O_PPL, O_CTX, O_SAVE, O_KLD,
  O_SCORE, O_OUTPUT, O_TOKENIZE, O_NO_SPECIAL, O_BENCH, O_THREADS, O_WEIGHTS, O_REMAINDER, O_HELP,
  O_COUNT
} rt_opt;

static const struct {
  const char *name, *alias;
  bool value;
} rt_opts[O_COUNT] = {
    [O_PROMPT] = {"-p", "--prompt", true},       [O_N] = {"-n", "--n-predict", true},
    [O_TEMP] = {"--temp", NULL, true},           [O_TOP_K] = {"--top-k", NULL, true},
    [O_TOP_P] = {"--top-p", NULL, true},         [O_SEED] = {"--seed", NULL, true},
    [O_CHAT] = {"--chat", NULL, false},          [O_PPL] = {"--perplexity", NULL, true},
    [O_CTX] = {"--ctx", "-c", true},             [O_SAVE] = {"--save-logits", NULL, true},
    [O_KLD] = {"--kl-divergence", NULL, true},   [O_SCORE] = {"--score-tokens", NULL, true},
    [O_OUTPUT] = {"--output", NULL, true},       [O_TOKENIZE] = {"--tokenize", NULL, true},
    [O_NO_SPECIAL] = {"--no-parse-special", NULL, false},
    [O_BENCH] = {"--bench", NULL, false},        [O_THREADS] = {"--threads", "-t", true},
    [O_WEIGHTS] = {"--weights", NULL, true},     [O_REMAINDER] = {"--remainder", NULL, true},
    [O_HELP] = {"--help", "-h", false},
};

typedef struct rt_parse {
  const char *value[O_COUNT];
  bool seen[O_COUNT];
  rt_llm_rest rest;
} rt_parse;

/* Which option `arg` is, and where its value starts if it carries one after '='. */
static int rt_opt_find(const char *arg, const char **inline_value) {
  *inline_value = NULL;
  for (int o = 0; o < O_COUNT; o++) {
    const char *names[2] = {rt_opts[o].name, rt_opts[o].alias};
    for (int k = 0; k < 2 && names[k]; k++) {
      size_t len = strlen(names[k]);
      if (strncmp(arg, names[k], len) != 0) continue;
      if (arg[len] == 0) return o;
      if (arg[len] == '=' && rt_opts[o].value) {
        *inline_value = arg + len + 1;
        return o;
      }
    }
  }
  return -1;
}

static int rt_parse_strings(const rt_llm_driver *d, int argc, char **argv, rt_parse *p) {
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i], *value;
    int o = rt_opt_find(arg, &value);
    if (o < 0)
      return rt_llm_fail(d, RT_EXIT_USAGE, arg[0] == '-' ? "unknown option '%s' (see --help)"
                                                         : "unexpected argument '%s' (see --help)", arg);
    if (p->seen[o]) return rt_llm_fail(d, RT_EXIT_USAGE, "%s given twice", rt_opts[o].name);
    p->seen[o] = true;
    if (!rt_opts[o].value) continue;
    if (!value) {
      if (i + 1 >= argc) return rt_llm_fail(d, RT_EXIT_USAGE, "%s needs a value", arg);
      value = argv[++i];
    }
    p->value[o] = value;
  }
  return RT_EXIT_OK;
}

static bool rt_parse_long(const char *s, long min, long max, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (!*s || *end || errno || v < min || v > max) return false;
  *out = v;
  return true;
}

static bool rt_parse_float(const char *s, float min, float max, float *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (!*s || *end || errno || !(v >= min && v <= max)) return false;
  *out = (float)v;
  return true;
}

static bool rt_parse_u64(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  if (!*s || *s == '-' || *s == '+') return false;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end || errno) return false;
  *out = v;
  return true;
}

/* "@file" or "file" for the .npy options. */
static const char *rt_file_value(const char *v) { return v && v[0] == '@' ? v + 1 : v; }

static int rt_parse_numbers(const rt_llm_driver *d, const rt_parse *p, rt_llm_args *a) {
  long v;
  if (p->value[O_N] && !rt_parse_long(p->value[O_N], 0, 100000000, &a->n_predict))
    return rt_llm_fail(d, RT_EXIT_USAGE, "-n %s: expected a token count from 0", p->value[O_N]);
  if (p->value[O_TEMP] && !rt_parse_float(p->value[O_TEMP], 0, 1e6f, &a->temp))
    return rt_llm_fail(d, RT_EXIT_USAGE, "--temp %s: expected a number >= 0", p->value[O_TEMP]);
  if (p->value[O_TOP_K]) {
    if (!rt_parse_long(p->value[O_TOP_K], 0, INT32_MAX, &v))
      return rt_llm_fail(d, RT_EXIT_USAGE, "--top-k %s: expected a count >= 0 (0: off)", p->value[O_TOP_K]);
    a->top_k = (int32_t)v;
  }
  if (p->value[O_TOP_P] && !rt_parse_float(p->value[O_TOP_P], 0, 1, &a->top_p))
    return rt_llm_fail(d, RT_EXIT_USAGE, "--top-p %s: expected a number from 0 to 1", p->value[O_TOP_P]);
  if (p->value[O_SEED] && !(a->seed_given = rt_parse_u64(p->value[O_SEED], &a->seed)))
    return rt_llm_fail(d, RT_EXIT_USAGE, "--seed %s: expected an integer from 0 to 2^64-1", p->value[O_SEED]);
  if (p->value[O_CTX] && !rt_parse_long(p->value[O_CTX], 4, INT32_MAX, &a->ctx))
    return rt_llm_fail(d, RT_EXIT_USAGE, "--ctx %s: expected a context length from 4", p->value[O_CTX]);
  if (p->value[O_THREADS] && !rt_parse_long(p->value[O_THREADS], 1, 4096, &a->threads))
    return rt_llm_fail(d, RT_EXIT_USAGE, "--threads %s: expected a count from 1", p->value[O_THREADS]);
  return RT_EXIT_OK;
}

static int rt_parse_remainder(const rt_llm_driver *d, const char *v, rt_llm_rest *out) {
  static const char *const names[RT_LLM_REST_COUNT] = {"auto", "decode", "pad"};
  for (int i = 0; v && i < RT_LLM_REST_COUNT; i++)
    if (strcmp(v, names[i]) == 0) {
      *out = (rt_llm_rest)i;
      return RT_EXIT_OK;
    }
  return v ? rt_llm_fail(d, RT_EXIT_USAGE, "--remainder %s: expected auto, decode or pad", v)
           : RT_EXIT_OK;
}

/* The options a mode does not use are mistakes, not silently ignored. */
static int rt_check_mode_options(const rt_llm_driver *d, const rt_parse *p, bool generate) {
  static const rt_opt sampling[] = {O_TEMP, O_TOP_K, O_TOP_P, O_SEED, O_CHAT};
  for (size_t i = 0; i < sizeof sampling / sizeof sampling[0]; i++)
    if (p->seen[sampling[i]] && !generate)
      return rt_llm_fail(d, RT_EXIT_USAGE, "%s applies to generation (-p PROMPT) only",
                         rt_opts[sampling[i]].name);
  if (p->seen[O_N] && !generate && !p->seen[O_BENCH])
    return rt_llm_fail(d, RT_EXIT_USAGE, "-n applies to -p PROMPT and --bench only");
  if (p->seen[O_CTX] && !p->seen[O_PPL] && !p->seen[O_KLD])
    return rt_llm_fail(d, RT_EXIT_USAGE, "--ctx applies to --perplexity and --kl-divergence only");
  if (p->seen[O_SAVE] && !p->seen[O_PPL])
    return rt_llm_fail(d, RT_EXIT_USAGE, "--save-logits applies to --perplexity FILE only");
  if (p->seen[O_KLD] && p->seen[O_SAVE])
    return rt_llm_fail(d, RT_EXIT_USAGE, "--kl-divergence compares with its file, it does not "
                       "write one: drop --save-logits");
  if (p->seen[O_SCORE] != p->seen[O_OUTPUT])
    return rt_llm_fail(d, RT_EXIT_USAGE, "--score-tokens=@IDS.npy and --output=@LOGITS.npy go together");
  return RT_EXIT_OK;
}

static int rt_check_mode(const rt_llm_driver *d, const rt_parse *p) {
  bool generate = p->seen[O_PROMPT] && !p->seen[O_BENCH];
  int modes = generate + (p->seen[O_PPL] || p->seen[O_KLD]) + p->seen[O_SCORE] +
              p->seen[O_TOKENIZE] + p->seen[O_BENCH];
  if (modes == 0)
    return rt_llm_fail(d, RT_EXIT_USAGE, "nothing to do: give -p PROMPT, --perplexity FILE, "
                       "--kl-divergence FILE, --score-tokens=@IDS.npy, --tokenize TEXT or --bench "
                       "(see --help)");
  if (modes > 1)
    return rt_llm_fail(d, RT_EXIT_USAGE, "choose one of -p, --perplexity/--kl-divergence, "
                       "--score-tokens, --tokenize and --bench");
  return rt_check_mode_options(d, p, generate);
}

static int rt_llm_parse(rt_llm_driver *d, int argc, char **argv, rt_parse *p) {
  rt_llm_args *a = &d->args;
  *a = (rt_llm_args){.n_predict = -1, .temp = 0.8f, .top_p = 0.95f, .top_k = 40, .threads = 0};
  int code = rt_parse_strings(d, argc, argv, p);
  if (code || p->seen[O_HELP]) return code;
  if ((code = rt_parse_numbers(d, p, a)) || (code = rt_parse_remainder(d, p->value[O_REMAINDER], &p->rest)))
    return code;
  a->prompt = p->value[O_PROMPT];
  a->chat = p->seen[O_CHAT];
  a->bench = p->seen[O_BENCH];
  a->perplexity = p->value[O_PPL];
  a->save_logits = p->value[O_SAVE];
  a->kl_divergence = p->value[O_KLD];
  a->score_tokens = rt_file_value(p->value[O_SCORE]);
  a->output = rt_file_value(p->value[O_OUTPUT]);
  a->tokenize = p->value[O_TOKENIZE];
  a->no_parse_special = p->seen[O_NO_SPECIAL];
  a->weights = p->value[O_WEIGHTS];
  if ((a->score_tokens && !*a->score_tokens) || (a->output && !*a->output))
    return rt_llm_fail(d, RT_EXIT_USAGE, "--score-tokens and --output need a file name");
  return rt_check_mode(d, p);
}

static int rt_llm_help(const rt_llm_driver *d) {
  const tandem_llm_desc *m = d->desc;
  printf("usage: %s -p PROMPT [-n N] [--temp T] [--top-k K] [--top-p P] [--seed S] [--chat]\n"
         "       %s --perplexity FILE [--ctx N] [--save-logits FILE]\n"
         "       %s --kl-divergence FILE [--perplexity FILE] [--ctx N]\n"
         "       %s --score-tokens=@IDS.npy --output=@LOGITS.npy\n"
         "       %s --tokenize TEXT\n"
         "       %s --bench [-p N] [-n N]\n",
         d->prog, d->prog, d->prog, d->prog, d->prog, d->prog);
  printf("Runs the language model '%s' compiled by tandemc: %" PRIu32 " tokens, context %" PRIu32
         ", %" PRIu32 " layers, prefill chunks of %" PRIu32 ".\n", m->name ? m->name : "?",
         m->n_vocab, m->n_ctx, m->n_layer, m->prefill_tokens);
  printf("generation:\n"
         "  -p, --prompt TEXT     the prompt (special tokens such as <|im_start|> are parsed)\n"
         "  -n N                  tokens to generate (default 64); stops early at end of text\n"
         "  --temp T              temperature (default 0.8); 0 is greedy\n"
         "  --top-k K             keep the K most likely tokens (default 40; 0: off)\n"
         "  --top-p P             then the most likely ones up to probability P (default 0.95)\n"
         "  --seed S              random seed (default: from the clock)\n"
         "  --chat                wrap the prompt in the model's chat template (ChatML, [INST])\n"
         "evaluation:\n"
         "  --perplexity FILE     perplexity of FILE as llama-perplexity computes it\n"
         "  --ctx N               window for --perplexity (default 512, at most the context)\n"
         "  --save-logits FILE    also save the windows' log-probabilities (llama-perplexity's\n"
         "                        --kl-divergence-base format)\n"
         "  --kl-divergence FILE  KL divergence from the model that saved FILE (its tokens and\n"
         "                        context; --ctx, if given, must be the same)\n"
         "  --score-tokens=@IDS.npy --output=@LOGITS.npy\n"
         "                        logits f32[n, n_vocab] of int32/int64 token ids from position 0\n"
         "  --tokenize TEXT       print TEXT's token ids, comma-separated (special tokens such\n"
         "                        as <|im_start|> are parsed, as llama-tokenize does)\n"
         "  --no-parse-special    with --tokenize: special-token text is plain text\n"
         "  --bench [-p N] [-n N] prefill and decode speed (default 512 and 128 tokens)\n"
         "common:\n"
         "  --weights PATH        %s\n"
         "  --threads N           threads for the model's kernels (default: every core this\n"
         "                        process may use, or TANDEM_NUM_THREADS)\n"
         "  --remainder MODE      tokens after the full prefill chunks: auto (default), decode\n"
         "                        (one by one) or pad (a padded prefill chunk); for checking a\n"
         "                        compiled model's entries against each other\n",
         !m->embedded_weights && m->weights_size
             ? "the weights file (default: this executable's path + \".weights\")"
             : "ignored: the weights are inside the executable");
  return fflush(stdout) == 0 ? RT_EXIT_OK : RT_EXIT_BAD_INPUT;
}

/* ---- opening the model ---------------------------------------------------------------- */

/* The running executable's own path + ".weights"; argv[0] + ".weights" without /proc. */
static char *rt_llm_default_weights(const char *argv0) {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) exe[n] = 0;
  const char *base = n > 0 ? exe : argv0 ? argv0 : "model";
  char *path = malloc(strlen(base) + sizeof ".weights");
  if (path) strcat(strcpy(path, base), ".weights");
  return path;
}

static int rt_llm_driver_open(rt_llm_driver *d, const char *argv0, rt_llm_rest rest) {
  char *path = d->args.weights ? strdup(d->args.weights) : rt_llm_default_weights(argv0);
  if (!path) return rt_llm_fail(d, RT_EXIT_BAD_INPUT, "out of memory");
  tandem_status status = rt_llm_open(d->desc, path, &d->llm);
  free(path);
  if (status) {
    bool hint = tandem_status_code_of(status) == TANDEM_NOT_FOUND && !d->args.weights;
    rt_llm_fail(d, RT_EXIT_BAD_INPUT, "%s%s", tandem_status_message(status),
                hint ? " (pass --weights PATH)" : "");
    tandem_status_free(status);
    return RT_EXIT_BAD_INPUT;
  }
  d->llm->rest = rest;
  return RT_EXIT_OK;
}

/* ---- --tokenize and --score-tokens ------------------------------------------------------ */

static int rt_llm_tokenize_text(rt_llm_driver *d) {
  tandem_tokenizer *tok;
  tandem_status status = tandem_tokenizer_open(d->desc->tokenizer, (size_t)d->desc->tokenizer_size, &tok);
  if (status) return rt_llm_fail_status(d, status);
  int32_t *ids;
  size_t n;
  status = tandem_tokenize(tok, d->args.tokenize, strlen(d->args.tokenize), 1, !d->args.no_parse_special,
                           &ids, &n);
  tandem_tokenizer_close(tok);
  if (status) return rt_llm_fail_status(d, status);
  for (size_t i = 0; i < n; i++) printf("%s%" PRId32, i ? "," : "", ids[i]);
  putchar('\n');
  free(ids);
  return fflush(stdout) == 0 ? RT_EXIT_OK : rt_llm_fail(d, RT_EXIT_BAD_INPUT, "cannot write to stdout");
}

/* The ids of an int32/int64 .npy of shape [n] or [1, n], checked against the model. */
static int rt_llm_read_ids(rt_llm_driver *d, int32_t **out, size_t *out_n) {
  const char *path = d->args.score_tokens;
  tandem_array a;
  tandem_status status = tandem_npy_read(path, NULL, &a);
  if (status) return rt_llm_fail_status(d, status);
  int code = RT_EXIT_OK;
  bool wide = a.dtype == TANDEM_DTYPE_I64;
  size_t n = a.rank == 1 ? (size_t)a.shape[0] : a.rank == 2 && a.shape[0] == 1 ? (size_t)a.shape[1] : 0;
  if ((a.dtype != TANDEM_DTYPE_I32 && !wide) || n == 0)
    code = rt_llm_fail(d, RT_EXIT_BAD_INPUT, "%s: expected int32 or int64 token ids of shape [n] "
                       "or [1, n], n >= 1", path);
  else if (n > d->desc->n_ctx)
    code = rt_llm_fail(d, RT_EXIT_BAD_INPUT, "%s: %zu tokens, the context holds %" PRIu32, path, n,
                       d->desc->n_ctx);
  int32_t *ids = code ? NULL : malloc(n * sizeof *ids);
  if (!code && !ids) code = rt_llm_fail(d, RT_EXIT_BAD_INPUT, "out of memory");
  for (size_t i = 0; !code && i < n; i++) {
    int64_t id = wide ? ((const int64_t *)a.data)[i] : ((const int32_t *)a.data)[i];
    if (id < 0 || id >= d->desc->n_vocab)
      code = rt_llm_fail(d, RT_EXIT_BAD_INPUT, "%s: token %zu is id %" PRId64 ", outside the "
                         "vocabulary (%" PRIu32 " tokens)", path, i, id, d->desc->n_vocab);
    else
      ids[i] = (int32_t)id;
  }
  tandem_array_free(&a, NULL);
  if (code) free(ids);
  *out = code ? NULL : ids;
  *out_n = n;
  return code;
}

static int rt_llm_score(rt_llm_driver *d) {
  int32_t *ids = NULL;
  size_t n = 0, v = d->desc->n_vocab;
  int code = rt_llm_read_ids(d, &ids, &n);
  if (code) return code;
  float *logits = malloc(n * v * sizeof *logits);
  tandem_status status = logits ? rt_llm_eval(d->llm, ids, n, 0, 0, logits)
                                : rt_status_make(TANDEM_OUT_OF_MEMORY, "out of memory for the logits");
  if (!status) {
    int64_t shape[2] = {(int64_t)n, (int64_t)v};
    tandem_tensor_desc t = {"logits", TANDEM_DTYPE_F32, 2, shape, (uint64_t)(n * v * sizeof(float))};
    status = tandem_npy_write(d->args.output, &t, logits);
  }
  free(ids);
  free(logits);
  return status ? rt_llm_fail_status(d, status) : RT_EXIT_OK;
}

/* ---- the whole run ------------------------------------------------------------------------ */

static const char *rt_llm_basename(const char *argv0) {
  if (!argv0 || !*argv0) return "model";
  const char *slash = strrchr(argv0, '/');
  return slash && slash[1] ? slash + 1 : argv0;
}

static int rt_llm_run_mode(rt_llm_driver *d) {
  const rt_llm_args *a = &d->args;
  if (a->bench) return rt_llm_bench(d);
  if (a->kl_divergence) return rt_llm_kl_divergence(d);
  if (a->perplexity) return rt_llm_perplexity(d);
  if (a->score_tokens) return rt_llm_score(d);
  return rt_llm_generate(d);
}

int tandem_llm_driver_main(const tandem_llm_desc *desc, int argc, char **argv) {
  rt_llm_driver d = {rt_llm_basename(argc > 0 ? argv[0] : NULL), desc, {0}, NULL};
  rt_parse p = {0};
  if (!desc) return rt_llm_fail(&d, RT_EXIT_BAD_INPUT, "no model descriptor");
  int code = rt_llm_parse(&d, argc, argv, &p);
  if (code) return code;
  if (p.seen[O_HELP]) return rt_llm_help(&d);
  d.args.threads = tandem_set_threads((int)d.args.threads);
  if (d.args.tokenize) return rt_llm_tokenize_text(&d);
  code = rt_llm_driver_open(&d, argc > 0 ? argv[0] : NULL, p.rest);
  if (!code) code = rt_llm_run_mode(&d);
  rt_llm_close(d.llm);
  return code;
}
