/* Our passes as MLIR passes (mlirCreateExternalPass), so that the pass manager's
 * verifier, printing and timing apply to them like to MLIR's own.
 *
 * A pass is a name, a one-line summary, and a run function that returns a status;
 * a failure is kept in the session (tdm_session_take_pass_error) and signalled to
 * the pass manager, which stops the pipeline. */
#ifndef TANDEM_PASSES_PASS_H
#define TANDEM_PASSES_PASS_H

#include "ir/session.h"
#include "mlir-c/Pass.h"

typedef tdm_status (*tdm_pass_run_fn)(MlirOperation module, tdm_session *s);

typedef struct tdm_pass_def {
  const char *name;    /* "verify-graph": what --print-ir-after= names */
  const char *summary;
  tdm_pass_run_fn run; /* runs on the builtin.module */
} tdm_pass_def;

MlirPass tdm_pass_create(const tdm_pass_def *def, tdm_session *s);

/* The first error a pass reported since the last call (caller frees), or NULL. */
tdm_status tdm_session_take_pass_error(tdm_session *s);

/* The passes, one per file. */
MlirPass tdm_pass_verify_graph(tdm_session *s);    /* passes/verify_graph.c */
MlirPass tdm_pass_simplify_graph(tdm_session *s);  /* passes/simplify_graph.c */
MlirPass tdm_pass_layer_parallel(tdm_session *s);  /* passes/layer_parallel.c */
MlirPass tdm_pass_matmul_layout(tdm_session *s);   /* passes/matmul_layout.c */
MlirPass tdm_pass_fuse_gemm(tdm_session *s);       /* passes/fuse_gemm.c */
MlirPass tdm_pass_lower_graph(tdm_session *s);     /* codegen/lower_graph.c */
MlirPass tdm_pass_tile_and_vectorize(tdm_session *s); /* codegen/tile_and_vectorize.c */
MlirPass tdm_pass_lower_vectors(tdm_session *s);      /* codegen/lower_vectors.c */
MlirPass tdm_pass_copies_to_linalg(tdm_session *s);   /* codegen/copies_to_linalg.c */

extern const tdm_pass_def tdm_verify_graph_def, tdm_simplify_graph_def, tdm_layer_parallel_def,
    tdm_matmul_layout_def, tdm_fuse_gemm_def,
    tdm_lower_graph_def,
    tdm_tile_and_vectorize_def, tdm_lower_vectors_def, tdm_copies_to_linalg_def;

#endif
