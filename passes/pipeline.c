/* The pipeline. build() below is the whole compiler from graph to LLVM dialect,
 * top to bottom; everything else here is plumbing for printing and dumps. */
#include "passes/pipeline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "passes/pass.h"

const char *const tdm_phase_names[TDM_PHASE_COUNT] = {
    "import", "graph", "linalg", "vectorized", "bufferized", "lowered", "llvm", "llvm-ir",
};

int tdm_phase_from_name(const char *name) {
  for (int i = 0; i < TDM_PHASE_COUNT; i++)
    if (strcmp(tdm_phase_names[i], name) == 0) return i;
  return -1;
}

/* ---- The builder the pipeline is written against -------------------------------- */

typedef struct builder {
  tdm_session *s;
  MlirPassManager pm;          /* NULL when only listing names */
  const tdm_pipeline_options *o;
  tdm_phase phase;             /* the phase being built */
  int stopped;                 /* past o->stop_after */
  FILE *list;                  /* tdm_pipeline_list's output */
  int list_first;
  const char *find;            /* tdm_pipeline_check_pass_names: a name to look for */
  int found;
  tdm_status error;
} builder;

static void add_printer(builder *b, const char *pass_name);

/* "func.func(convert-linalg-to-loops)" -> "convert-linalg-to-loops";
 * "one-shot-bufferize{...}" -> "one-shot-bufferize". */
static void pass_name(const char *pipeline, char *out, size_t n) {
  const char *p = strchr(pipeline, '(');
  p = p ? p + 1 : pipeline;
  size_t len = strcspn(p, "{()");
  if (len >= n) len = n - 1;
  memcpy(out, p, len);
  out[len] = 0;
}

static void note(builder *b, const char *name) {
  if (b->list) {
    fprintf(b->list, "%s%s", b->list_first ? " " : ", ", name);
    b->list_first = 0;
  }
  if (b->find && strcmp(b->find, name) == 0) b->found = 1;
}

static int wants_print(builder *b, const char *name) {
  if (b->o->print_after_all) return 1;
  for (int i = 0; i < b->o->nprint_after; i++)
    if (strcmp(b->o->print_after[i], name) == 0) return 1;
  return 0;
}

/* One of our passes. */
static void own(builder *b, MlirPass (*create)(tdm_session *), const tdm_pass_def *def) {
  note(b, def->name);
  if (!b->pm.ptr || b->stopped || b->error) return;
  mlirPassManagerAddOwnedPass(b->pm, create(b->s));
  if (wants_print(b, def->name)) add_printer(b, def->name);
}

static void on_pipeline_error(MlirStringRef msg, void *user) { tdm_sb_put_ref(user, msg); }

/* One of MLIR's, as textual pipeline elements. */
static void mlir(builder *b, const char *pipeline) {
  char name[128];
  pass_name(pipeline, name, sizeof name);
  note(b, name);
  if (!b->pm.ptr || b->stopped || b->error) return;
  strbuf err;
  sb_init(&err);
  MlirOpPassManager opm = mlirPassManagerGetAsOpPassManager(b->pm);
  if (mlirLogicalResultIsFailure(mlirOpPassManagerAddPipeline(opm, tdm_str(pipeline), on_pipeline_error, &err)))
    b->error = TDM_INTERNAL("pass pipeline '%s': %s", pipeline, sb_str(&err));
  sb_free(&err);
  if (wants_print(b, name)) add_printer(b, name);
}

static void add_dumper(builder *b, tdm_phase phase);

static void phase_end(builder *b) {
  if (b->list) {
    fprintf(b->list, "\n");
    b->list_first = 1;
  }
  if (b->pm.ptr && !b->stopped && b->o->dump_dir) add_dumper(b, b->phase);
  if (b->phase == b->o->stop_after) b->stopped = 1;
  b->phase++;
  if (b->list && b->phase < TDM_PHASE_LLVM_IR) fprintf(b->list, "%s:", tdm_phase_names[b->phase]);
}

/* The pipeline. */
static void build(builder *b) {
  b->phase = TDM_PHASE_GRAPH;
  own(b, tdm_pass_verify_graph, &tdm_verify_graph_def);
  own(b, tdm_pass_simplify_graph, &tdm_simplify_graph_def);
  own(b, tdm_pass_layer_parallel, &tdm_layer_parallel_def);
  own(b, tdm_pass_matmul_layout, &tdm_matmul_layout_def);
  own(b, tdm_pass_fuse_gemm, &tdm_fuse_gemm_def);
  phase_end(b); /* graph */

  own(b, tdm_pass_lower_graph, &tdm_lower_graph_def);
  mlir(b, "inline");
  mlir(b, "symbol-dce");
  mlir(b, "canonicalize");
  phase_end(b); /* linalg */

  own(b, tdm_pass_tile_and_vectorize, &tdm_tile_and_vectorize_def);
  mlir(b, "canonicalize");
  phase_end(b); /* vectorized */

  /* Before any CSE: each result's tensor.empty must stay its own, so that the
   * last op writing an output is given the output buffer as its destination. */
  mlir(b, "eliminate-empty-tensors");
  mlir(b, "one-shot-bufferize{buffer-alignment=64 bufferize-function-boundaries=1 "
          "function-boundary-type-conversion=identity-layout-map}");
  mlir(b, "canonicalize");
  mlir(b, "cse");
  mlir(b, "buffer-deallocation-pipeline");
  mlir(b, "convert-bufferization-to-memref");
  own(b, tdm_pass_copies_to_linalg, &tdm_copies_to_linalg_def);
  phase_end(b); /* bufferized */

  own(b, tdm_pass_lower_vectors, &tdm_lower_vectors_def);
  mlir(b, "func.func(convert-linalg-to-loops)");
  mlir(b, "lower-affine");
  mlir(b, "convert-vector-to-scf{full-unroll}");
  mlir(b, "convert-scf-to-cf");
  mlir(b, "expand-strided-metadata");
  mlir(b, "lower-affine");
  mlir(b, "arith-expand{include-bf16=true}"); /* bf16 truncation without a libcall */
  mlir(b, "convert-math-to-funcs");
  mlir(b, "canonicalize");
  phase_end(b); /* lowered */

  mlir(b, "finalize-memref-to-llvm");
  mlir(b, "convert-vector-to-llvm");
  mlir(b, "convert-math-to-llvm");
  mlir(b, "convert-arith-to-llvm");
  mlir(b, "convert-ub-to-llvm");
  mlir(b, "convert-cf-to-llvm");
  mlir(b, "convert-func-to-llvm");
  mlir(b, "reconcile-unrealized-casts");
  phase_end(b); /* llvm */
}

/* ---- Printing and dumping passes ------------------------------------------------- */

typedef struct util_pass {
  char label[160];
  char path[4096];
  tdm_phase phase;
  tdm_session *s;
} util_pass;

static void util_construct(void *u) { (void)u; }
static void util_destruct(void *u) { free(u); }
static void *util_clone(void *u) {
  util_pass *p = malloc(sizeof *p);
  if (p) *p = *(util_pass *)u;
  return p;
}

static void write_to_file(MlirStringRef s, void *fp) { fwrite(s.data, 1, s.length, fp); }

void tdm_print_module(MlirOperation module, FILE *out, int elide) {
  MlirOpPrintingFlags flags = mlirOpPrintingFlagsCreate();
  if (elide) mlirOpPrintingFlagsElideLargeElementsAttrs(flags, 16);
  mlirOperationPrintWithFlags(module, flags, write_to_file, out);
  mlirOpPrintingFlagsDestroy(flags);
  fputc('\n', out);
}

static void print_elided(MlirOperation op, FILE *fp) { tdm_print_module(op, fp, 1); }

static void printer_run(MlirOperation op, MlirExternalPass pass, void *u) {
  (void)pass;
  util_pass *p = u;
  fprintf(stderr, "// -----// IR Dump After %s //----- //\n", p->label);
  print_elided(op, stderr);
  fflush(stderr);
}

static void add_printer(builder *b, const char *name) {
  static const int id_anchor = 0;
  util_pass *p = calloc(1, sizeof *p);
  snprintf(p->label, sizeof p->label, "%s (%s)", name, tdm_phase_names[b->phase]);
  MlirExternalPassCallbacks cb = {util_construct, util_destruct, NULL, util_clone, printer_run};
  mlirPassManagerAddOwnedPass(
      b->pm, mlirCreateExternalPass(mlirTypeIDCreate(&id_anchor), tdm_str("print-ir"), tdm_str("print-ir"),
                                    tdm_str("Print the IR"), tdm_str("builtin.module"), 0, NULL, cb, p));
}

tdm_status tdm_dump_phase(const char *dir, tdm_phase phase, MlirOperation module) {
  if (mkdir(dir, 0755) != 0 && errno != EEXIST)
    return TDM_BAD("%s: cannot create directory: %s", dir, strerror(errno));
  char path[4096];
  snprintf(path, sizeof path, "%s/%02d-%s.mlir", dir, (int)phase + 1, tdm_phase_names[phase]);
  FILE *fp = fopen(path, "w");
  if (!fp) return TDM_BAD("%s: cannot write: %s", path, strerror(errno));
  print_elided(module, fp);
  if (fclose(fp) != 0) return TDM_BAD("%s: write failed", path);
  return NULL;
}

static void dumper_run(MlirOperation op, MlirExternalPass pass, void *u) {
  util_pass *p = u;
  tdm_status st = tdm_dump_phase(p->path, p->phase, op);
  if (!st) return;
  if (!p->s->pass_error) p->s->pass_error = st;
  else tdm_status_free(st);
  mlirExternalPassSignalFailure(pass);
}

static void add_dumper(builder *b, tdm_phase phase) {
  static const int id_anchor = 0;
  util_pass *p = calloc(1, sizeof *p);
  snprintf(p->path, sizeof p->path, "%s", b->o->dump_dir);
  p->phase = phase;
  p->s = b->s;
  MlirExternalPassCallbacks cb = {util_construct, util_destruct, NULL, util_clone, dumper_run};
  mlirPassManagerAddOwnedPass(
      b->pm, mlirCreateExternalPass(mlirTypeIDCreate(&id_anchor), tdm_str("dump-phase"), tdm_str("dump-phase"),
                                    tdm_str("Write the IR of a phase"), tdm_str("builtin.module"), 0, NULL, cb, p));
}

/* ---- Entry points ---------------------------------------------------------------------- */

void tdm_pipeline_list(FILE *out) {
  tdm_pipeline_options o = {.stop_after = TDM_PHASE_LLVM};
  builder b = {.o = &o, .list = out, .list_first = 1};
  fprintf(out, "import: (frontend)\n%s:", tdm_phase_names[TDM_PHASE_GRAPH]);
  build(&b);
  fprintf(out, "llvm-ir: (LLVM default<O3> for the target CPU)\n");
}

tdm_status tdm_pipeline_check_pass_names(const tdm_pipeline_options *o) {
  for (int i = 0; i < o->nprint_after; i++) {
    builder b = {.o = o, .find = o->print_after[i]};
    build(&b);
    if (!b.found)
      return tdm_error(TDM_EXIT_USAGE, "--print-ir-after=%s: no such pass in the pipeline (see --list-passes)",
                       o->print_after[i]);
  }
  return NULL;
}

tdm_status tdm_pipeline_run(tdm_session *s, MlirModule module, const tdm_pipeline_options *o) {
  MlirOperation op = mlirModuleGetOperation(module);
  if (o->dump_dir) TDM_TRY(tdm_dump_phase(o->dump_dir, TDM_PHASE_IMPORT, op));
  if (o->stop_after == TDM_PHASE_IMPORT) return NULL;
  builder b = {.s = s, .o = o};
  b.pm = mlirPassManagerCreate(s->ctx);
  if (o->timing) mlirPassManagerEnableTiming(b.pm);
  build(&b);
  if (b.error) {
    mlirPassManagerDestroy(b.pm);
    return b.error;
  }
  tdm_session_clear_diag(s);
  MlirLogicalResult r = mlirPassManagerRunOnOp(b.pm, op);
  mlirPassManagerDestroy(b.pm); /* prints the timing report, if enabled */
  if (mlirLogicalResultIsSuccess(r)) return NULL;
  tdm_status st = tdm_session_take_pass_error(s);
  return st ? st : tdm_session_failure(s, TDM_EXIT_INTERNAL, "a pass failed");
}
