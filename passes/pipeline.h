/* The compilation pipeline: every pass, in order, in one place (pipeline.c).
 *
 * Phases name the points where the IR has a recognisable form; --compile-to stops
 * after one, --dump-dir writes each as NN-phase.mlir. */
#ifndef TANDEM_PASSES_PIPELINE_H
#define TANDEM_PASSES_PIPELINE_H

#include "ir/session.h"

typedef enum tdm_phase {
  TDM_PHASE_IMPORT,     /* the graph as the frontend built it */
  TDM_PHASE_GRAPH,      /* after the graph passes */
  TDM_PHASE_LINALG,     /* linalg/tensor/arith/math on tensors */
  TDM_PHASE_VECTORIZED, /* contractions tiled and vectorised (still tensors) */
  TDM_PHASE_BUFFERIZED, /* on memrefs */
  TDM_PHASE_LOWERED,    /* loops, vectors, memrefs: just above LLVM */
  TDM_PHASE_LLVM,       /* the LLVM dialect */
  TDM_PHASE_LLVM_IR,    /* LLVM IR after LLVM's optimisation (not an MLIR phase) */
  TDM_PHASE_COUNT
} tdm_phase;

extern const char *const tdm_phase_names[TDM_PHASE_COUNT];
int tdm_phase_from_name(const char *name); /* -1 if unknown */

#define TDM_MAX_PRINT_AFTER 32

typedef struct tdm_pipeline_options {
  tdm_phase stop_after;      /* run the MLIR passes up to and including this phase */
  const char *print_after[TDM_MAX_PRINT_AFTER];
  int nprint_after;
  int print_after_all;
  const char *dump_dir;      /* NULL: no dumps */
  int timing;
} tdm_pipeline_options;

/* Runs the passes from the graph phase to options->stop_after on `module`, which
 * is at the import phase. Writes the import dump too when dump_dir is set. */
tdm_status tdm_pipeline_run(tdm_session *s, MlirModule module, const tdm_pipeline_options *o);

/* Prints "phase: pass, pass, ..." for every phase (tandemc --list-passes). */
void tdm_pipeline_list(FILE *out);
/* Fails naming the first --print-ir-after pass that is not in the pipeline. */
tdm_status tdm_pipeline_check_pass_names(const tdm_pipeline_options *o);

/* Writes `module` to DIR/NN-phase.mlir (weights are never inline; large constants
 * are elided). */
tdm_status tdm_dump_phase(const char *dir, tdm_phase phase, MlirOperation module);
/* Printing with large elements attributes elided, for dumps. */
void tdm_print_module(MlirOperation module, FILE *out, int elide);

#endif
