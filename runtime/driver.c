/* tandem_driver_main: the command line of an executable built by tandemc --emit=exe.
 *
 *   PROG --input=@x.npy [--input=@y.npy ...] [--output=@out.npy ...] [--weights=PATH]
 *        [--bench=N] [--threads=N] [--help]
 *
 * Modelled on iree-run-module: inputs are positional in the model's input order and
 * name files with '@'. Each output goes to the next --output file, or is printed
 * ("y: f32[1,64] = [0.1, ...]") when no file is left for it. Every error is one line
 * "PROG: message" on stderr; exit 1 for bad input files, 2 for a bad command line.
 * Output files are written under temporary names and renamed only once all of them
 * are complete, so a failure leaves none behind. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rt_dtype.h"
#include "rt_npy.h"
#include "rt_status.h"

enum { RT_EXIT_OK = 0, RT_EXIT_BAD_INPUT = 1, RT_EXIT_USAGE = 2 };
#define RT_BENCH_MAX 10000000L
#define RT_BENCH_MAX_TEXT "10000000"
#define RT_PRINT_VALUES 8

typedef struct rt_driver_args {
  const char **inputs; /* [argc] paths borrowed from argv; input_count used */
  size_t input_count;
  const char **outputs; /* [argc] */
  size_t output_count;
  const char *weights; /* NULL: the default next to the executable */
  long bench;          /* 0: run once */
  long threads;        /* 0: the default (include/tandem/runtime.h) */
  bool help;
} rt_driver_args;

typedef struct rt_driver {
  const char *prog;
  const tandem_model_desc *desc;
  rt_driver_args args;
  char *weights_path; /* owned */
  tandem_model *model;
  tandem_array *arrays;      /* [desc->input_count], owned */
  const void **input_data;   /* [desc->input_count] */
  char **tmp_outputs;        /* [args.output_count], written but not yet renamed */
} rt_driver;

/* Every error is this one line on stderr. */
static void rt_driver_vreport(const rt_driver *d, const char *fmt, va_list ap) {
  fprintf(stderr, "%s: ", d->prog);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

static int rt_driver_fail(const rt_driver *d, int code, const char *fmt, ...) RT_PRINTF(3, 4);

static int rt_driver_fail(const rt_driver *d, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rt_driver_vreport(d, fmt, ap);
  va_end(ap);
  return code;
}

/* Reports and frees `status`; the caller returns the exit code. */
static int rt_driver_fail_status(const rt_driver *d, tandem_status status, const char *hint) {
  rt_driver_fail(d, RT_EXIT_BAD_INPUT, "%s%s", tandem_status_message(status), hint);
  tandem_status_free(status);
  return RT_EXIT_BAD_INPUT;
}

static const char *rt_driver_basename(const char *argv0) {
  if (!argv0 || !*argv0) return "model";
  const char *slash = strrchr(argv0, '/');
  return slash && slash[1] ? slash + 1 : argv0;
}

/* "x, y" for the message about a wrong count; long lists end in "...". */
static void rt_driver_names(const tandem_tensor_desc *tensors, uint32_t count, char *buf,
                            size_t cap) {
  size_t len = 0;
  buf[0] = 0;
  for (uint32_t i = 0; i < count && len < cap; i++)
    len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "",
                            tensors[i].name ? tensors[i].name : "?");
  if (len >= cap && cap > 4) strcpy(buf + cap - 4, "...");
}

/* ---- the command line ------------------------------------------------------------ */

/* Reports a usage error; returns false for the parser to pass up. */
static bool rt_driver_usage(const rt_driver *d, const char *fmt, ...) RT_PRINTF(2, 3);

static bool rt_driver_usage(const rt_driver *d, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rt_driver_vreport(d, fmt, ap);
  va_end(ap);
  return false;
}

/* "--input=@x.npy" -> "x.npy" appended to files[*count]. */
static bool rt_driver_file_flag(const rt_driver *d, const char *flag, const char *arg,
                                const char **files, size_t *count) {
  const char *value = arg + strlen(flag);
  if (value[0] != '@')
    return rt_driver_usage(d, "%s: expected %s@FILE.npy (the @ marks a file, as in "
                           "iree-run-module)", arg, flag);
  if (!value[1]) return rt_driver_usage(d, "%s: missing file name after '@'", arg);
  files[(*count)++] = value + 1;
  return true;
}

/* --NAME=N with 1 <= N <= max, given once; `expected` completes the error message. */
static bool rt_driver_count_flag(const rt_driver *d, const char *name, const char *arg, long max,
                                 const char *expected, long *out) {
  const char *value = strchr(arg, '=') + 1;
  char *end;
  if (*out) return rt_driver_usage(d, "%s given twice", name);
  errno = 0;
  long n = strtol(value, &end, 10);
  if (!*value || *end || errno || n < 1 || n > max) return rt_driver_usage(d, "%s: expected %s", arg, expected);
  *out = n;
  return true;
}

static bool rt_driver_weights_flag(const rt_driver *d, const char *arg, const char **out) {
  if (*out) return rt_driver_usage(d, "--weights given twice");
  *out = arg + strlen("--weights=");
  if (!**out) return rt_driver_usage(d, "--weights= needs a path");
  return true;
}

static bool rt_starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* One argument into d->args; false after reporting a usage error. */
static bool rt_driver_parse_one(rt_driver *d, const char *arg) {
  rt_driver_args *a = &d->args;
  if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
    a->help = true;
    return true;
  }
  if (rt_starts_with(arg, "--input="))
    return rt_driver_file_flag(d, "--input=", arg, a->inputs, &a->input_count);
  if (rt_starts_with(arg, "--output="))
    return rt_driver_file_flag(d, "--output=", arg, a->outputs, &a->output_count);
  if (rt_starts_with(arg, "--weights=")) return rt_driver_weights_flag(d, arg, &a->weights);
  if (rt_starts_with(arg, "--bench="))
    return rt_driver_count_flag(d, "--bench", arg, RT_BENCH_MAX, "a number of runs from 1 to " RT_BENCH_MAX_TEXT,
                                &a->bench);
  if (rt_starts_with(arg, "--threads=")) return rt_driver_count_flag(d, "--threads", arg, 4096, "a count from 1", &a->threads);
  if (!strcmp(arg, "--input") || !strcmp(arg, "--output") || !strcmp(arg, "--weights") ||
      !strcmp(arg, "--bench") || !strcmp(arg, "--threads"))
    return rt_driver_usage(d, "%s needs a value: %s=...", arg, arg);
  if (arg[0] == '-') return rt_driver_usage(d, "unknown option '%s' (see --help)", arg);
  return rt_driver_usage(d, "unexpected argument '%s' (inputs are given as --input=@FILE.npy)",
                         arg);
}

/* The counts against the model; the model itself is opened later. */
static int rt_driver_check_counts(const rt_driver *d) {
  char names[512];
  const tandem_model_desc *desc = d->desc;
  if (d->args.input_count != desc->input_count) {
    rt_driver_names(desc->inputs, desc->input_count, names, sizeof names);
    return rt_driver_fail(d, RT_EXIT_USAGE, "expected %" PRIu32 " input%s%s%s%s, got %zu",
                          desc->input_count, desc->input_count == 1 ? "" : "s",
                          desc->input_count ? " (" : "", names, desc->input_count ? ")" : "",
                          d->args.input_count);
  }
  if (d->args.output_count > desc->output_count) {
    rt_driver_names(desc->outputs, desc->output_count, names, sizeof names);
    return rt_driver_fail(d, RT_EXIT_USAGE, "got %zu --output flags, but the model has %" PRIu32
                          " output%s%s%s%s", d->args.output_count, desc->output_count,
                          desc->output_count == 1 ? "" : "s", desc->output_count ? " (" : "",
                          names, desc->output_count ? ")" : "");
  }
  return RT_EXIT_OK;
}

static int rt_driver_parse(rt_driver *d, int argc, char **argv) {
  size_t slots = argc > 0 ? (size_t)argc : 1;
  d->args.inputs = calloc(slots, sizeof *d->args.inputs);
  d->args.outputs = calloc(slots, sizeof *d->args.outputs);
  if (!d->args.inputs || !d->args.outputs)
    return rt_driver_fail(d, RT_EXIT_BAD_INPUT, "out of memory");
  for (int i = 1; i < argc; i++)
    if (!rt_driver_parse_one(d, argv[i])) return RT_EXIT_USAGE;
  if (d->args.help) return RT_EXIT_OK;
  return rt_driver_check_counts(d);
}

static void rt_driver_print_tensors(const char *title, const tandem_tensor_desc *tensors,
                                    uint32_t count) {
  char text[RT_SHAPE_TEXT_MAX];
  printf("%s:\n", title);
  for (uint32_t i = 0; i < count; i++)
    printf("  %s: %s\n", tensors[i].name ? tensors[i].name : "?",
           rt_shape_format(text, sizeof text, tensors[i].dtype, tensors[i].rank, tensors[i].shape));
}

static int rt_driver_help(const rt_driver *d) {
  const tandem_model_desc *desc = d->desc;
  bool needs_file = !desc->embedded_weights && desc->weights_size;
  printf("usage: %s --input=@FILE.npy ... [--output=@FILE.npy ...] [--weights=PATH] "
         "[--bench=N] [--threads=N]\nRuns the model '%s' compiled by tandemc.\n",
         d->prog, desc->name ? desc->name : "?");
  rt_driver_print_tensors("inputs, in order", desc->inputs, desc->input_count);
  rt_driver_print_tensors("outputs, in order", desc->outputs, desc->output_count);
  printf("options:\n"
         "  --input=@FILE.npy   the next input, in the order above (one per input)\n"
         "  --output=@FILE.npy  write the next output to FILE.npy instead of printing it\n"
         "  --weights=PATH      %s\n"
         "  --bench=N           run once to warm up, then N times; print the latency\n"
         "  --threads=N         threads for the model's kernels (default: every core this\n"
         "                      process may use, or TANDEM_NUM_THREADS)\n",
         needs_file ? "the weights file (default: this executable's path + \".weights\")"
                    : "ignored: this model needs no weights file");
  return fflush(stdout) == 0 ? RT_EXIT_OK : RT_EXIT_BAD_INPUT;
}

/* ---- model, inputs, run ------------------------------------------------------------ */

/* The running executable's own path + ".weights" (symlinks resolved, as the kernel
 * reports it); argv[0] + ".weights" where /proc is missing. */
static char *rt_driver_default_weights(const char *argv0) {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) exe[n] = 0;
  const char *base = n > 0 ? exe : argv0 ? argv0 : "model";
  char *path = malloc(strlen(base) + sizeof ".weights");
  if (path) strcat(strcpy(path, base), ".weights");
  return path;
}

static int rt_driver_open(rt_driver *d, const char *argv0) {
  if (d->args.weights) {
    d->weights_path = strdup(d->args.weights);
  } else {
    d->weights_path = rt_driver_default_weights(argv0);
  }
  if (!d->weights_path) return rt_driver_fail(d, RT_EXIT_BAD_INPUT, "out of memory");
  tandem_open_options options = {d->weights_path, 0};
  tandem_status status = tandem_model_open(d->desc, &options, NULL, &d->model);
  if (!status) return RT_EXIT_OK;
  bool hint = tandem_status_code_of(status) == TANDEM_NOT_FOUND && !d->args.weights;
  return rt_driver_fail_status(d, status, hint ? " (pass --weights=PATH)" : "");
}

static int rt_driver_read_inputs(rt_driver *d) {
  uint32_t count = d->desc->input_count;
  d->arrays = calloc(count ? count : 1, sizeof *d->arrays);
  d->input_data = calloc(count ? count : 1, sizeof *d->input_data);
  if (!d->arrays || !d->input_data) return rt_driver_fail(d, RT_EXIT_BAD_INPUT, "out of memory");
  for (uint32_t i = 0; i < count; i++) {
    tandem_status status = rt_npy_read_expect_as(d->args.inputs[i], "input", &d->desc->inputs[i],
                                                  NULL, &d->arrays[i]);
    if (status) return rt_driver_fail_status(d, status, "");
    d->input_data[i] = d->arrays[i].data;
  }
  return RT_EXIT_OK;
}

static int rt_driver_run_once(rt_driver *d) {
  tandem_status status = tandem_model_run(d->model, d->input_data, NULL);
  return status ? rt_driver_fail_status(d, status, "") : RT_EXIT_OK;
}

static double rt_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int rt_compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One warm-up run (page faults on the weights, cold caches), then N timed runs. */
static int rt_driver_bench(rt_driver *d) {
  size_t n = (size_t)d->args.bench;
  double *ms = malloc(n * sizeof *ms);
  if (!ms) return rt_driver_fail(d, RT_EXIT_BAD_INPUT, "out of memory for %zu timings", n);
  int code = rt_driver_run_once(d);
  for (size_t i = 0; i < n && code == RT_EXIT_OK; i++) {
    double start = rt_now_ms();
    code = rt_driver_run_once(d);
    ms[i] = rt_now_ms() - start;
  }
  if (code == RT_EXIT_OK) {
    qsort(ms, n, sizeof *ms, rt_compare_double);
    double median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
    printf("latency: median %.3f ms, min %.3f ms, %zu runs\n", median, ms[0], n);
  }
  free(ms);
  return code;
}

/* ---- outputs ------------------------------------------------------------------------ */

static void rt_driver_print_value(int32_t dtype, const void *data, uint64_t i) {
  if (rt_dtype_is_float(dtype)) {
    printf("%g", rt_dtype_load_f64(dtype, data, i));
  } else if (dtype == TANDEM_DTYPE_I64) {
    int64_t v;
    memcpy(&v, (const char *)data + 8 * i, 8);
    printf("%" PRId64, v);
  } else {
    printf("%lld", (long long)rt_dtype_load_f64(dtype, data, i));
  }
}

/* "y: f32[1,64] = [0.1234, -0.5, ...]": the first values, enough to eyeball. */
static void rt_driver_print_output(const tandem_tensor_desc *t, const void *data) {
  char text[RT_SHAPE_TEXT_MAX];
  uint64_t count = t->byte_size / tandem_dtype_size(t->dtype);
  printf("%s: %s = [", t->name ? t->name : "?",
         rt_shape_format(text, sizeof text, t->dtype, t->rank, t->shape));
  for (uint64_t i = 0; i < count && i < RT_PRINT_VALUES; i++) {
    if (i) fputs(", ", stdout);
    rt_driver_print_value(t->dtype, data, i);
  }
  fputs(count > RT_PRINT_VALUES ? ", ...]\n" : "]\n", stdout);
}

static void rt_driver_discard_outputs(rt_driver *d) {
  for (size_t i = 0; d->tmp_outputs && i < d->args.output_count; i++) {
    rt_npy_tmp_discard(d->tmp_outputs[i]);
    d->tmp_outputs[i] = NULL;
  }
}

/* All files complete under temporary names first, then all renamed: a failure on the
 * way leaves no output file (renamed ones are removed again). */
static int rt_driver_write_outputs(rt_driver *d) {
  size_t count = d->args.output_count;
  d->tmp_outputs = calloc(count ? count : 1, sizeof *d->tmp_outputs);
  if (!d->tmp_outputs) return rt_driver_fail(d, RT_EXIT_BAD_INPUT, "out of memory");
  for (size_t i = 0; i < count; i++) {
    tandem_status status = rt_npy_write_tmp(d->args.outputs[i], &d->desc->outputs[i],
                                            tandem_model_output(d->model, (uint32_t)i),
                                            &d->tmp_outputs[i]);
    if (status) return rt_driver_fail_status(d, status, "");
  }
  for (size_t i = 0; i < count; i++) {
    char *tmp = d->tmp_outputs[i];
    d->tmp_outputs[i] = NULL;
    tandem_status status = rt_npy_tmp_commit(tmp, d->args.outputs[i]);
    if (status) {
      while (i-- > 0) unlink(d->args.outputs[i]);
      return rt_driver_fail_status(d, status, "");
    }
  }
  return RT_EXIT_OK;
}

static int rt_driver_emit(rt_driver *d) {
  int code = rt_driver_write_outputs(d);
  if (code != RT_EXIT_OK || d->args.bench) return code;
  for (uint32_t i = (uint32_t)d->args.output_count; i < d->desc->output_count; i++)
    rt_driver_print_output(&d->desc->outputs[i], tandem_model_output(d->model, i));
  if (fflush(stdout) != 0 || ferror(stdout))
    return rt_driver_fail(d, RT_EXIT_BAD_INPUT, "cannot write to stdout: %s", strerror(errno));
  return RT_EXIT_OK;
}

static void rt_driver_release(rt_driver *d) {
  rt_driver_discard_outputs(d);
  free(d->tmp_outputs);
  for (uint32_t i = 0; d->arrays && i < d->desc->input_count; i++)
    tandem_array_free(&d->arrays[i], NULL);
  free(d->arrays);
  free(d->input_data);
  tandem_model_close(d->model);
  free(d->weights_path);
  free(d->args.inputs);
  free(d->args.outputs);
}

/* The whole run in order; each step reports its own error. */
static int rt_driver_steps(rt_driver *d, int argc, char **argv) {
  int code = rt_driver_parse(d, argc, argv);
  if (code != RT_EXIT_OK) return code;
  if (d->args.help) return rt_driver_help(d);
  if ((code = rt_driver_open(d, argc > 0 ? argv[0] : NULL)) != RT_EXIT_OK) return code;
  if ((code = rt_driver_read_inputs(d)) != RT_EXIT_OK) return code;
  tandem_set_threads((int)d->args.threads);
  code = d->args.bench ? rt_driver_bench(d) : rt_driver_run_once(d);
  if (code != RT_EXIT_OK) return code;
  return rt_driver_emit(d);
}

int tandem_driver_main(const tandem_model_desc *desc, int argc, char **argv) {
  rt_driver d = {0};
  d.prog = rt_driver_basename(argc > 0 ? argv[0] : NULL);
  d.desc = desc;
  if (!desc) return rt_driver_fail(&d, RT_EXIT_BAD_INPUT, "no model descriptor");
  int code = rt_driver_steps(&d, argc, argv);
  rt_driver_release(&d);
  return code;
}
