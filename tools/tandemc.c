/* tandemc: the compiler driver.
 *
 *   import (frontend/) -> passes (passes/pipeline.c) -> LLVM IR -> object -> outputs
 *
 * Every output is staged under a temporary name and renamed into place only when
 * the whole compile succeeded. Messages go to stderr; stdout carries output only
 * when asked (-o - or a text --emit without -o).
 * Exit codes: 0 ok, 1 bad input, 2 usage, 3 internal error. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "codegen/codegen.h"
#include "frontend/frontend.h"
#include "mlir-c/BuiltinAttributes.h"
#include "passes/lp.h"
#include "passes/pipeline.h"
#include "tools/lp_auto.h"

typedef enum emit_kind { EMIT_EXE, EMIT_OBJ, EMIT_LIB, EMIT_MLIR, EMIT_LLVM, EMIT_COUNT } emit_kind;
static const char *const emit_names[EMIT_COUNT] = {"exe", "obj", "lib", "mlir", "llvm"};

typedef struct options {
  const char *input;
  const char *output;   /* NULL: derived */
  int emit;             /* -1: from the output's extension */
  int compile_to;       /* -1: all the way */
  tdm_pipeline_options pipeline;
  cg_target target;
  int embed_weights;
  const char *name;
  int depfile;              /* -MD */
  int ctx, prefill;         /* LLMs: --ctx, --prefill-tokens */
  const char *depfile_path; /* -MF PATH (default: OUTPUT.d) */
  int lp;                   /* LP_OFF, LP_WINDOW (lp_start:lp_end) or LP_AUTO */
  int lp_start, lp_end;
  int lp_list;              /* --lp-list: print the layers and stop */
  int no_fuse_gemm;
  int gemm_mlir;            /* --gemm=mlir */
  const char *weights_type; /* --weights-type; NULL: keep */
  int kv_f16;               /* --kv-type=f16 */
  lp_auto_options lp_auto;  /* --lp=auto's calibration, budget, report */
} options;

enum { LP_OFF, LP_WINDOW, LP_AUTO };

static void usage(FILE *out) {
  fprintf(out,
          "usage: tandemc MODEL [options]\n"
          "Compiles a model (OpenVINO IR .xml+.bin, a llama GGUF, or a tandem .mlir) to native code.\n"
          "\n"
          "Output\n"
          "  -o PATH                  output file ('-' for stdout, text outputs only)\n"
          "  --emit=KIND              exe (default), obj (PATH.o + .h), lib (static library + .h),\n"
          "                           mlir (the graph, re-readable by tandemc), llvm (LLVM IR)\n"
          "  --name=NAME              symbol prefix (default: from the output file name)\n"
          "  --embed-weights          put the weights in the object instead of NAME.weights\n"
          "  --ctx=N                  LLMs: KV cache positions (default: min(trained, 4096))\n"
          "  --prefill-tokens=N       LLMs: tokens per prefill call (default 64)\n"
          "  --weights-type=T         GGUF: store weight matrices as f32, f16, bf16, q8_0, q4_0 or\n"
          "                           q4_1 (converted at compile time); keep (default): as in the file\n"
          "  --kv-type=f32|f16        LLMs: the KV cache's element type (default f32; f16 halves its\n"
          "                           memory and the bytes attention reads, as llama.cpp's default)\n"
          "  --dynamic-quant=on|off   on (default): decode's products by q8_0/q4_0/q4_1 weights\n"
          "                           quantise x to int8 per block of 32, as llama.cpp and OpenVINO\n"
          "                           do, for integer dot products; off: x stays f32 (exact)\n"
          "  --gemm=kernel|mlir       f32 products (by dense weights, of two activations), softmax,\n"
          "                           MVN, swish, row copies, element-wise arithmetic: kernel\n"
          "                           (default): C kernels on the thread pool; mlir: MLIR's\n"
          "                           generated code (tiled, vectorised; one thread)\n"
          "  -MD [-MF PATH]           also write a Make-style depfile (default OUTPUT.d) naming\n"
          "                           every file the compile read, for Make and Ninja\n"
          "\n"
          "Layer parallelism (arXiv 2502.02790)\n"
          "  --lp=off|auto|START:END  run layers START..END-1 as parallel pairs (START, START+1), ...;\n"
          "                           auto: choose the window by calibration (LLMs); default off\n"
          "  --lp-list                print the residual layers found, the pairs possible, and why\n"
          "                           any candidate was rejected; then stop\n"
          "  --lp-calibration=FILE    auto: text to calibrate on (default: a built-in English text)\n"
          "  --lp-budget=P            auto: largest perplexity increase allowed, percent (default 5)\n"
          "  --lp-tokens=N            auto: tokens to score pairs on, and as many to test windows\n"
          "                           on (default 512 each)\n"
          "  --lp-report=FILE.json    write the scores, candidates and choice (and FILE.svg, a chart)\n"
          "  --fuse-gemm=off          keep every GEMM as the model has it (default on)\n"
          "\n"
          "Target\n"
          "  --target-cpu=CPU         LLVM CPU name (default: host)\n"
          "  -O0 -O1 -O2 -O3          LLVM optimisation level (default: -O3)\n"
          "\n"
          "Inspecting the compiler\n"
          "  --compile-to=PHASE       stop after PHASE and write its IR: import, graph, linalg,\n"
          "                           vectorized, bufferized, lowered, llvm, llvm-ir\n"
          "  --print-ir-after=PASS    print the IR after PASS to stderr (repeatable)\n"
          "  --print-ir-after-all     print the IR after every pass\n"
          "  --dump-dir=DIR           write every phase to DIR/NN-PHASE.mlir (and NN-llvm-ir.ll)\n"
          "  --timing                 report the time each pass took\n"
          "  --list-passes            print the pipeline, phase by phase\n"
          "  --version, --help\n"
          "\n"
          "Exit status: 0 ok, 1 bad input, 2 usage error, 3 internal error.\n");
}

static int fail(tdm_status st) {
  fprintf(stderr, "tandemc: %s\n", tdm_status_message(st));
  int code = (int)tdm_status_exit(st);
  tdm_status_free(st);
  return code ? code : 3;
}

static tdm_status usage_error(const char *fmt, const char *arg) {
  return tdm_error(TDM_EXIT_USAGE, fmt, arg);
}

static const char *value_of(const char *arg, const char *flag) {
  size_t n = strlen(flag);
  return strncmp(arg, flag, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

/* --lp=off | auto | START:END (END exclusive, START..END-1 an even number of layers). */
static tdm_status parse_lp(const char *v, options *o) {
  if (strcmp(v, "off") == 0) {
    o->lp = LP_OFF;
    return NULL;
  }
  if (strcmp(v, "auto") == 0) {
    o->lp = LP_AUTO;
    return NULL;
  }
  char *end, *end2;
  long a = strtol(v, &end, 10);
  if (end == v || *end != ':' || !isdigit((unsigned char)end[1]))
    return usage_error("--lp=%s: expected off, auto, or START:END (layers START..END-1)", v);
  long b = strtol(end + 1, &end2, 10);
  if (*end2 || a < 0 || b < a || b > 100000)
    return usage_error("--lp=%s: expected off, auto, or START:END with 0 <= START <= END", v);
  if ((b - a) % 2)
    return usage_error("--lp=%s: the window must hold an even number of layers (pairs)", v);
  o->lp = LP_WINDOW;
  o->lp_start = (int)a;
  o->lp_end = (int)b;
  return NULL;
}

/* Returns 1 when the command is handled (--help, --version, --list-passes). */
static tdm_status parse_args(int argc, char **argv, options *o, int *done) {
  memset(o, 0, sizeof *o);
  o->emit = -1;
  o->compile_to = -1;
  o->target.opt_level = 3;
  o->lp_auto.budget = 5.0;
  o->lp_auto.tokens = 512;
  *done = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      *done = 1;
      return NULL;
    } else if (strcmp(a, "--version") == 0) {
      printf("tandemc %s (LLVM/MLIR 22)\n", TANDEM_VERSION_STRING);
      *done = 1;
      return NULL;
    } else if (strcmp(a, "--list-passes") == 0) {
      tdm_pipeline_list(stdout);
      *done = 1;
      return NULL;
    } else if (strcmp(a, "-o") == 0) {
      if (++i == argc) return usage_error("-o needs a path%s", "");
      o->output = argv[i];
    } else if (strncmp(a, "-o", 2) == 0 && a[2] && a[2] != '-') {
      o->output = a + 2;
    } else if ((v = value_of(a, "--emit"))) {
      o->emit = -1;
      for (int k = 0; k < EMIT_COUNT; k++)
        if (strcmp(v, emit_names[k]) == 0) o->emit = k;
      if (o->emit < 0) return usage_error("--emit=%s: expected exe, obj, lib, mlir or llvm", v);
    } else if ((v = value_of(a, "--compile-to"))) {
      o->compile_to = tdm_phase_from_name(v);
      if (o->compile_to < 0)
        return usage_error("--compile-to=%s: unknown phase (import, graph, linalg, vectorized, bufferized, lowered, llvm, llvm-ir)", v);
    } else if ((v = value_of(a, "--print-ir-after"))) {
      if (o->pipeline.nprint_after == TDM_MAX_PRINT_AFTER) return usage_error("too many --print-ir-after flags%s", "");
      o->pipeline.print_after[o->pipeline.nprint_after++] = v;
    } else if (strcmp(a, "--print-ir-after-all") == 0) {
      o->pipeline.print_after_all = 1;
    } else if ((v = value_of(a, "--dump-dir"))) {
      if (!*v) return usage_error("--dump-dir needs a directory%s", "");
      o->pipeline.dump_dir = v;
    } else if (strcmp(a, "--timing") == 0) {
      o->pipeline.timing = 1;
    } else if ((v = value_of(a, "--target-cpu"))) {
      if (!*v) return usage_error("--target-cpu needs a CPU name%s", "");
      o->target.cpu = v;
    } else if (strlen(a) == 3 && a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3') {
      o->target.opt_level = a[2] - '0';
    } else if (strcmp(a, "--embed-weights") == 0) {
      o->embed_weights = 1;
    } else if ((v = value_of(a, "--ctx")) || (v = value_of(a, "--prefill-tokens"))) {
      char *end;
      long n = strtol(v, &end, 10);
      if (*end || n < 1 || n > (1 << 20)) return usage_error("%s: expected a count from 1 to 1048576", a);
      if (a[2] == 'c') o->ctx = (int)n;
      else o->prefill = (int)n;
    } else if (strcmp(a, "-MD") == 0) {
      o->depfile = 1;
    } else if (strcmp(a, "-MF") == 0) {
      if (++i == argc) return usage_error("-MF needs a path%s", "");
      o->depfile_path = argv[i];
    } else if ((v = value_of(a, "--lp"))) {
      TDM_TRY(parse_lp(v, o));
    } else if (strcmp(a, "--lp-list") == 0) {
      o->lp_list = 1;
    } else if ((v = value_of(a, "--lp-calibration"))) {
      if (!*v) return usage_error("--lp-calibration needs a file%s", "");
      o->lp_auto.calibration = v;
    } else if ((v = value_of(a, "--lp-budget"))) {
      char *end;
      double p = strtod(v, &end);
      if (end == v || *end || !(p >= 0 && p <= 1000)) return usage_error("--lp-budget=%s: expected a percentage from 0 to 1000", v);
      o->lp_auto.budget = p;
    } else if ((v = value_of(a, "--lp-tokens"))) {
      char *end;
      long n = strtol(v, &end, 10);
      if (*end || n < 16 || n > (1 << 20)) return usage_error("--lp-tokens=%s: expected a count from 16 to 1048576", v);
      o->lp_auto.tokens = (int)n;
    } else if ((v = value_of(a, "--lp-report"))) {
      if (!*v) return usage_error("--lp-report needs a file%s", "");
      o->lp_auto.report = v;
    } else if ((v = value_of(a, "--fuse-gemm"))) {
      if (strcmp(v, "on") && strcmp(v, "off")) return usage_error("--fuse-gemm=%s: expected on or off", v);
      o->no_fuse_gemm = strcmp(v, "off") == 0;
    } else if ((v = value_of(a, "--kv-type"))) {
      if (strcmp(v, "f32") && strcmp(v, "f16")) return usage_error("--kv-type=%s: expected f32 or f16", v);
      o->kv_f16 = o->lp_auto.kv_f16 = strcmp(v, "f16") == 0;
    } else if ((v = value_of(a, "--gemm"))) {
      if (strcmp(v, "kernel") && strcmp(v, "mlir")) return usage_error("--gemm=%s: expected kernel or mlir", v);
      o->gemm_mlir = o->lp_auto.gemm_mlir = strcmp(v, "mlir") == 0;
    } else if ((v = value_of(a, "--dynamic-quant"))) {
      if (strcmp(v, "on") && strcmp(v, "off")) return usage_error("--dynamic-quant=%s: expected on or off", v);
      o->target.exact_activations = strcmp(v, "off") == 0;
    } else if ((v = value_of(a, "--weights-type"))) {
      static const char *const types[] = {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1"};
      o->weights_type = NULL;
      for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
        if (strcmp(v, types[t]) == 0) o->weights_type = types[t];
      if (!o->weights_type && strcmp(v, "keep"))
        return usage_error("--weights-type=%s: expected f32, f16, bf16, q8_0, q4_0, q4_1 or keep", v);
      o->lp_auto.weights_type = o->weights_type;
    } else if ((v = value_of(a, "--name"))) {
      o->name = v;
    } else if (a[0] == '-' && a[1]) {
      return usage_error("unknown option '%s' (see --help)", a);
    } else if (o->input) {
      return usage_error("more than one model given ('%s'); tandemc compiles one model at a time", a);
    } else {
      o->input = a;
    }
  }
  if (!o->input) return usage_error("no model given (see --help)%s", "");
  return tdm_pipeline_check_pass_names(&o->pipeline);
}

/* ---- Output names ------------------------------------------------------------------- */

static int has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* dir/base.ext -> dir/base */
static void strip_extension(const char *path, strbuf *out) {
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(slash ? slash : path, '.');
  sb_append(out, path, dot && dot != (slash ? slash + 1 : path) ? (size_t)(dot - path) : strlen(path));
}

static const char *basename_of(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

static void resolve_emit(options *o) {
  if (o->emit >= 0) return;
  o->emit = EMIT_EXE;
  if (!o->output) return;
  if (has_suffix(o->output, ".o")) o->emit = EMIT_OBJ;
  else if (has_suffix(o->output, ".a")) o->emit = EMIT_LIB;
  else if (has_suffix(o->output, ".mlir")) o->emit = EMIT_MLIR;
  else if (has_suffix(o->output, ".ll")) o->emit = EMIT_LLVM;
}

/* The output path when -o is absent: named after the model, in the current dir. */
static void default_output(const options *o, strbuf *out) {
  strbuf stem;
  sb_init(&stem);
  strip_extension(basename_of(o->input), &stem);
  switch (o->emit) {
    case EMIT_OBJ: sb_printf(out, "%s.o", sb_str(&stem)); break;
    case EMIT_LIB: sb_printf(out, "lib%s.a", sb_str(&stem)); break;
    case EMIT_EXE: sb_printf(out, "%s", sb_str(&stem)); break;
    default: sb_puts(out, "-"); /* text to stdout */
  }
  sb_free(&stem);
}

/* dir/stem for the header and weights: model.o -> model, libmlp.a -> mlp, exe -> exe. */
static void output_stem(const options *o, const char *output, strbuf *out) {
  if (o->emit == EMIT_EXE) {
    sb_puts(out, output);
    return;
  }
  strbuf s;
  sb_init(&s);
  strip_extension(output, &s);
  const char *base = basename_of(sb_str(&s));
  sb_append(out, sb_str(&s), (size_t)(base - sb_str(&s)));
  sb_puts(out, o->emit == EMIT_LIB && strncmp(base, "lib", 3) == 0 && base[3] ? base + 3 : base);
  sb_free(&s);
}

static tdm_status set_model_name(tdm_session *s, const options *o, const char *stem) {
  const char *src = o->name ? o->name : basename_of(stem);
  size_t n = 0;
  if (!*src) return tdm_error(TDM_EXIT_USAGE, "--name is empty");
  if (isdigit((unsigned char)src[0])) s->model_name[n++] = '_';
  for (; *src && n < sizeof s->model_name - 1; src++)
    s->model_name[n++] = isalnum((unsigned char)*src) ? *src : '_';
  s->model_name[n] = 0;
  if (o->name && strcmp(o->name, s->model_name) != 0)
    return tdm_error(TDM_EXIT_USAGE, "--name=%s is not a C identifier", o->name);
  return NULL;
}

/* ---- Compiling ----------------------------------------------------------------------- */

typedef struct job {
  options *o;
  tdm_session *s;
  MlirModule module;
  int llm;              /* the module is an LLM (module attribute tdm.llm) */
  int n_head, tokenizer_file;
  tdm_outputs *outs;
  const char *output;   /* final path, or "-" */
  strbuf stem;          /* for .h and .weights */
  lp_auto_result lp;    /* --lp=auto's measurements */
  int lp_measured;
} job;

static void write_ref(MlirStringRef s, void *fp) { fwrite(s.data, 1, s.length, fp); }

/* A text output: to stdout for "-", else staged. */
static tdm_status open_text(job *j, FILE **fp) {
  if (strcmp(j->output, "-") == 0) {
    *fp = stdout;
    return NULL;
  }
  return tdm_outputs_stage(j->outs, j->output, 0, fp, NULL);
}

static tdm_status emit_mlir_text(job *j) {
  FILE *fp;
  TDM_TRY(open_text(j, &fp));
  mlirOperationPrint(mlirModuleGetOperation(j->module), write_ref, fp);
  fputc('\n', fp);
  return NULL;
}

static tdm_status stage_bytes(job *j, const char *path, const void *data, size_t n,
                              const char **temp_path) {
  FILE *fp;
  TDM_TRY(tdm_outputs_stage(j->outs, path, 0, &fp, temp_path));
  TDM_TRY(tdm_write_all(fp, data, n, path));
  return fflush(fp) == 0 ? NULL : TDM_INTERNAL("%s: write failed", path);
}

static tdm_status emit_native(job *j, cg_module *m, const cg_weights *w) {
  options *o = j->o;
  strbuf path;
  sb_init(&path);
  tdm_status st = NULL;
  if (!o->embed_weights) {
    sb_printf(&path, "%s.weights", sb_str(&j->stem));
    FILE *fp;
    st = tdm_outputs_stage(j->outs, sb_str(&path), 0, &fp, NULL);
    if (!st) st = cg_weights_write(w, fp, sb_str(&path));
  }
  if (!st && o->emit != EMIT_EXE) {
    sb_clear(&path);
    sb_printf(&path, "%s.h", sb_str(&j->stem));
    FILE *fp;
    strbuf wname;
    sb_init(&wname);
    sb_printf(&wname, "%s.weights", basename_of(sb_str(&j->stem)));
    st = tdm_outputs_stage(j->outs, sb_str(&path), 0, &fp, NULL);
    if (!st) st = j->llm ? cg_llm_header_write(j->s, w, o->embed_weights, sb_str(&wname), o->input, fp, sb_str(&path))
                         : cg_header_write(j->s, w, o->embed_weights, sb_str(&wname), o->input, fp, sb_str(&path));
    sb_free(&wname);
  }
  uint8_t *obj = NULL;
  size_t obj_size = 0;
  if (!st) st = cg_emit_object(m, &obj, &obj_size);
  if (!st && o->emit == EMIT_OBJ) st = stage_bytes(j, j->output, obj, obj_size, NULL);
  if (!st && o->emit == EMIT_LIB) {
    char **syms = NULL;
    int nsyms = 0;
    st = cg_module_global_symbols(m, &syms, &nsyms);
    FILE *fp;
    char member[64];
    snprintf(member, sizeof member, "%.40s.o", j->s->model_name);
    if (!st) st = tdm_outputs_stage(j->outs, j->output, 0, &fp, NULL);
    if (!st) st = cg_archive_write(fp, j->output, member, obj, obj_size, syms, nsyms);
    for (int i = 0; i < nsyms; i++) free(syms[i]);
    free(syms);
  }
  if (!st && o->emit == EMIT_EXE) {
    /* The object lives next to the executable only while linking. */
    sb_clear(&path);
    sb_printf(&path, "%s.o", j->output);
    tdm_outputs *scratch = tdm_outputs_create();
    const char *obj_tmp, *exe_tmp;
    st = scratch ? NULL : TDM_INTERNAL("out of memory");
    if (!st) st = tdm_outputs_stage(scratch, sb_str(&path), 0, NULL, &obj_tmp);
    FILE *fp = NULL;
    if (!st) {
      fp = fopen(obj_tmp, "wb");
      st = fp ? tdm_write_all(fp, obj, obj_size, obj_tmp) : TDM_INTERNAL("%s: cannot write", obj_tmp);
      if (fp && fclose(fp) != 0 && !st) st = TDM_INTERNAL("%s: write failed", obj_tmp);
    }
    if (!st) st = tdm_outputs_stage(j->outs, j->output, 1, NULL, &exe_tmp);
    if (!st) st = cg_link_executable(obj_tmp, exe_tmp, j->llm);
    tdm_outputs_destroy(scratch); /* removes the object */
  }
  free(obj);
  sb_free(&path);
  return st;
}

static tdm_status compile_native(job *j) {
  options *o = j->o;
  tdm_pipeline_options po = o->pipeline;
  po.stop_after = TDM_PHASE_LLVM;
  TDM_TRY(tdm_pipeline_run(j->s, j->module, &po));
  cg_module m;
  TDM_TRY(cg_translate(j->s, j->module, &o->target, &m));
  cg_weights w;
  tdm_status st = cg_weights_build(j->s, &w);
  int to_ir = o->emit == EMIT_LLVM || o->compile_to == TDM_PHASE_LLVM_IR;
  int main_alias = o->emit == EMIT_EXE && !to_ir;
  if (!st && j->llm) {
    uint8_t *tok = NULL;
    size_t tok_size = 0;
    const tdm_weight_file *f = &j->s->files[j->tokenizer_file];
    st = fe_gguf_tokenizer(f->path, f->map.data, f->map.size, &tok, &tok_size);
    if (!st) st = cg_add_llm_descriptor(j->s, &m, &w, o->embed_weights, main_alias, tok, tok_size, j->n_head);
    free(tok);
  } else if (!st) {
    st = cg_add_descriptor(j->s, &m, &w, o->embed_weights, main_alias);
  }
  if (!st) st = cg_optimize(&m, o->target.opt_level);
  if (!st && o->pipeline.dump_dir) {
    strbuf p;
    sb_init(&p);
    sb_printf(&p, "%s/%02d-llvm-ir.ll", o->pipeline.dump_dir, TDM_PHASE_LLVM_IR + 1);
    FILE *fp = fopen(sb_str(&p), "w");
    st = fp ? cg_write_llvm_ir(&m, fp, sb_str(&p)) : TDM_BAD("%s: cannot write", sb_str(&p));
    if (fp) fclose(fp);
    sb_free(&p);
  }
  if (!st && to_ir) {
    FILE *fp;
    st = open_text(j, &fp);
    if (!st) st = cg_write_llvm_ir(&m, fp, j->output);
  } else if (!st) {
    st = emit_native(j, &m, &w);
  }
  cg_weights_free(&w);
  cg_module_dispose(&m);
  return st;
}

/* Fails early, before any work, if `path` cannot be written: a directory, or in a
 * folder that does not exist. */
static tdm_status check_writable(const char *path) {
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    return TDM_BAD("%s: cannot write: Is a directory", path);
  strbuf dir;
  sb_init(&dir);
  const char *slash = strrchr(path, '/');
  if (slash) sb_append(&dir, path, slash == path ? 1 : (size_t)(slash - path));
  else sb_puts(&dir, ".");
  int ok = stat(sb_str(&dir), &st) == 0 && S_ISDIR(st.st_mode);
  sb_free(&dir);
  return ok ? NULL : TDM_BAD("%s: cannot create: No such file or directory", path);
}

/* Every file this compile writes, so that none of them is one of its inputs. */
static int output_paths(const job *j, strbuf paths[3]) {
  int n = 0;
  if (strcmp(j->output, "-") != 0) sb_puts(&paths[n++], j->output);
  if (j->o->emit == EMIT_EXE || j->o->emit == EMIT_OBJ || j->o->emit == EMIT_LIB) {
    if (!j->o->embed_weights) sb_printf(&paths[n++], "%s.weights", sb_str(&j->stem));
    if (j->o->emit != EMIT_EXE) sb_printf(&paths[n++], "%s.h", sb_str(&j->stem));
  }
  return n;
}

static tdm_status check_outputs(const job *j) {
  strbuf paths[3];
  for (int i = 0; i < 3; i++) sb_init(&paths[i]);
  int n = output_paths(j, paths);
  tdm_status st = NULL;
  for (int i = 0; i < n && !st; i++) {
    const char *p = sb_str(&paths[i]);
    if (tdm_file_same(p, j->o->input))
      st = tdm_error(TDM_EXIT_USAGE, "%s: the output would overwrite the model", p);
    for (int f = 0; f < j->s->nfiles && !st; f++)
      if (j->s->files[f].path && tdm_file_same(p, j->s->files[f].path))
        st = tdm_error(TDM_EXIT_USAGE, "%s: the output would overwrite the model's weights", p);
    if (!st) st = check_writable(p);
  }
  for (int i = 0; i < 3; i++) sb_free(&paths[i]);
  return st;
}

/* A Make rule "OUTPUT: every input" (spaces escaped), so that build systems
 * rebuild when the model, its weights or anything else read changes. */
static void dep_path(strbuf *sb, const char *p) {
  for (; *p; p++) {
    if (*p == ' ' || *p == '#') sb_puts(sb, "\\");
    if (*p == '$') sb_puts(sb, "$");
    sb_append(sb, p, 1);
  }
}

static tdm_status write_depfile(job *j) {
  if (!j->o->depfile && !j->o->depfile_path) return NULL;
  if (strcmp(j->output, "-") == 0)
    return tdm_error(TDM_EXIT_USAGE, "-MD needs an output file (-o PATH), not stdout");
  strbuf path, rule;
  sb_init(&path);
  sb_init(&rule);
  if (j->o->depfile_path) sb_puts(&path, j->o->depfile_path);
  else sb_printf(&path, "%s.d", j->output);
  dep_path(&rule, j->output);
  sb_puts(&rule, ":");
  sb_puts(&rule, " ");
  dep_path(&rule, j->o->input);
  for (int f = 0; f < j->s->nfiles; f++)
    if (j->s->files[f].path) {
      sb_puts(&rule, " \\\n  ");
      dep_path(&rule, j->s->files[f].path);
    }
  sb_puts(&rule, "\n");
  FILE *fp;
  tdm_status st = tdm_outputs_stage(j->outs, sb_str(&path), 0, &fp, NULL);
  if (!st) st = tdm_write_all(fp, rule.data, rule.len, sb_str(&path));
  sb_free(&path);
  sb_free(&rule);
  return st;
}

/* Module attribute tdm.llm {tokenizer_file, n_head, ...} marks a language model. */
static tdm_status read_llm_attribute(job *j) {
  MlirAttribute a = mlirOperationGetAttributeByName(mlirModuleGetOperation(j->module), tdm_str("tdm.llm"));
  if (mlirAttributeIsNull(a)) {
    MlirBlock blocks[TDM_MAX_ENTRIES];
    int n = tdm_graph_blocks(mlirModuleGetOperation(j->module), blocks, TDM_MAX_ENTRIES);
    if (n > 1)
      return TDM_BAD("%s: the graph has %d functions; only a language model (module attribute tdm.llm, "
                     "with @prefill and @decode) has more than one", j->o->input, n);
    return NULL;
  }
  MlirAttribute tf = mlirAttributeIsADictionary(a) ? mlirDictionaryAttrGetElementByName(a, tdm_str("tokenizer_file"))
                                                    : mlirAttributeGetNull();
  MlirAttribute nh = mlirAttributeIsADictionary(a) ? mlirDictionaryAttrGetElementByName(a, tdm_str("n_head"))
                                                    : mlirAttributeGetNull();
  if (mlirAttributeIsNull(tf) || !mlirAttributeIsAInteger(tf) || mlirAttributeIsNull(nh) || !mlirAttributeIsAInteger(nh))
    return TDM_BAD("%s: module attribute tdm.llm needs integer tokenizer_file and n_head", j->o->input);
  j->llm = 1;
  j->tokenizer_file = (int)mlirIntegerAttrGetValueInt(tf);
  j->n_head = (int)mlirIntegerAttrGetValueInt(nh);
  if (j->tokenizer_file < 0 || j->tokenizer_file >= j->s->nfiles || !j->s->files[j->tokenizer_file].path)
    return TDM_BAD("%s: tdm.llm's tokenizer_file is not one of tdm.weight_files", j->o->input);
  return NULL;
}

/* The layer-parallelism summary line and --lp-report, once the passes have run. */
static tdm_status finish_lp(job *j) {
  const options *o = j->o;
  const tdm_session *s = j->s;
  const tdm_lp_stats *st = &s->lp_stats;
  if (o->lp != LP_OFF) {
    strbuf line;
    sb_init(&line);
    if (s->lp_start < s->lp_end)
      sb_printf(&line, "layers %d..%d run as %d parallel pairs", s->lp_start, s->lp_end - 1, st->pairs);
    else
      sb_puts(&line, "no layers paired");
    sb_printf(&line, "; GEMMs per token %d -> %d, residual sync points %d -> %d", st->gemms_before, st->gemms_after,
              st->syncs_before, st->syncs_after);
    if (j->lp_measured) {
      const lp_auto_result *r = &j->lp;
      const lp_candidate *c = NULL;
      for (int i = 0; i < r->ncands; i++)
        if (r->cands[i].start == r->start && r->cands[i].end == r->end) c = &r->cands[i];
      if (c)
        sb_printf(&line,
                  " (auto: held-out perplexity %.3f -> %.3f, %+.2f%% within the %g%% budget; %d candidates, %.0f s on %d "
                  "thread%s)",
                  r->base_ppl, c->ppl, c->ppl_increase, o->lp_auto.budget, r->ncands, r->seconds, r->threads,
                  r->threads == 1 ? "" : "s");
      else
        sb_printf(&line, " (auto: no window within the %g%% perplexity budget; %d candidates, %.0f s on %d thread%s)",
                  o->lp_auto.budget, r->ncands, r->seconds, r->threads, r->threads == 1 ? "" : "s");
    }
    fprintf(stderr, "tandemc: %s\n", sb_str(&line));
    sb_free(&line);
  }
  if (!o->lp_auto.report) return NULL;
  return lp_report_write(j->outs, o->lp_auto.report, o->input, &o->lp_auto, j->lp_measured ? &j->lp : NULL,
                         s->lp_start, s->lp_end, st);
}

/* True when `path` starts with GGUF's magic. */
static int is_gguf(const char *path) {
  char magic[4] = {0};
  FILE *fp = fopen(path, "rb");
  if (!fp) return 0;
  size_t n = fread(magic, 1, 4, fp);
  fclose(fp);
  return n == 4 && memcmp(magic, "GGUF", 4) == 0;
}

static tdm_status run_job(job *j) {
  options *o = j->o;
  TDM_TRY(fe_import(j->s, o->input, &j->module));
  if (o->weights_type && !is_gguf(o->input))
    return tdm_error(TDM_EXIT_USAGE, "%s: --weights-type=%s converts the matrices of GGUF models; this is not one",
                     o->input, o->weights_type);
  if (o->kv_f16 && !is_gguf(o->input))
    return tdm_error(TDM_EXIT_USAGE, "%s: --kv-type=f16 sets the KV cache of GGUF language models; this is not one",
                     o->input);
  TDM_TRY(check_outputs(j)); /* now that the weight files are known */
  TDM_TRY(read_llm_attribute(j));
  if (o->lp_list) {
    /* What layer-parallel sees: the graph after verify-graph and simplify-graph. */
    tdm_pipeline_options po = {.stop_after = TDM_PHASE_GRAPH};
    j->s->lp_start = j->s->lp_end = 0;
    j->s->no_fuse_gemm = 1;
    TDM_TRY(tdm_pipeline_run(j->s, j->module, &po));
    return tdm_layer_parallel_list(mlirModuleGetOperation(j->module), stdout);
  }
  if (o->lp == LP_AUTO) {
    TDM_TRY(lp_auto_choose(o->input, &o->lp_auto, &o->target, &j->lp));
    j->lp_measured = 1;
    j->s->lp_start = j->lp.start;
    j->s->lp_end = j->lp.end;
  }
  int text = o->emit == EMIT_MLIR || (o->compile_to >= 0 && o->compile_to < TDM_PHASE_LLVM_IR);
  if (text) {
    tdm_pipeline_options po = o->pipeline;
    po.stop_after = o->compile_to >= 0 ? (tdm_phase)o->compile_to : TDM_PHASE_GRAPH;
    TDM_TRY(tdm_pipeline_run(j->s, j->module, &po));
    TDM_TRY(emit_mlir_text(j));
  } else {
    TDM_TRY(compile_native(j));
  }
  return finish_lp(j);
}

int main(int argc, char **argv) {
  options o;
  int done;
  tdm_status st = parse_args(argc, argv, &o, &done);
  if (st) return fail(st);
  if (done) return 0;
  resolve_emit(&o);
  if (o.compile_to >= 0 && o.emit != EMIT_MLIR && o.emit != EMIT_LLVM && o.output &&
      (o.emit == EMIT_OBJ || o.emit == EMIT_LIB))
    return fail(tdm_error(TDM_EXIT_USAGE, "--compile-to writes IR text; it cannot be combined with --emit=%s", emit_names[o.emit]));
  if (o.compile_to >= 0) o.emit = o.compile_to == TDM_PHASE_LLVM_IR ? EMIT_LLVM : EMIT_MLIR;
  strbuf out;
  sb_init(&out);
  if (o.output) sb_puts(&out, o.output);
  else default_output(&o, &out);
  if (strcmp(sb_str(&out), "-") == 0 && o.emit != EMIT_MLIR && o.emit != EMIT_LLVM) {
    sb_free(&out);
    return fail(tdm_error(TDM_EXIT_USAGE, "-o -: only text outputs (--emit=mlir|llvm) can go to stdout"));
  }
  job j = {.o = &o, .output = sb_str(&out)};
  sb_init(&j.stem);
  output_stem(&o, j.output, &j.stem);
  st = tdm_session_create(&j.s);
  /* Symbols are named after the output file, or after the model for stdout. */
  strbuf name_src;
  sb_init(&name_src);
  if (strcmp(j.output, "-") == 0) strip_extension(basename_of(o.input), &name_src);
  else sb_puts(&name_src, sb_str(&j.stem));
  if (!st) st = set_model_name(j.s, &o, sb_str(&name_src));
  sb_free(&name_src);
  if (!st) {
    j.s->vector_bits = cg_vector_bits(&o.target);
    j.s->llm_ctx = o.ctx;
    j.s->llm_prefill = o.prefill;
    j.s->no_fuse_gemm = o.no_fuse_gemm;
    j.s->weights_type = o.weights_type;
    j.s->kv_f16 = o.kv_f16;
    j.s->gemm_mlir = o.gemm_mlir;
    if (o.lp == LP_WINDOW) j.s->lp_start = o.lp_start, j.s->lp_end = o.lp_end;
  }
  if (!st) {
    j.outs = tdm_outputs_create();
    if (!j.outs) st = TDM_INTERNAL("out of memory");
  }
  if (!st) st = run_job(&j);
  if (!st) st = write_depfile(&j);
  if (!st) st = tdm_outputs_commit(j.outs);
  tdm_outputs_destroy(j.outs);
  if (!mlirModuleIsNull(j.module)) mlirModuleDestroy(j.module);
  tdm_session_destroy(j.s);
  if (j.lp_measured) lp_auto_result_free(&j.lp);
  sb_free(&j.stem);
  sb_free(&out);
  if (st) return fail(st);
  if (fflush(stdout) != 0) return fail(TDM_INTERNAL("cannot write to stdout"));
  return 0;
}
