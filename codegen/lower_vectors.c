/* lower-vectors: the second half of the transform-dialect schedule
 * (@tdm_lower_vectors in codegen/schedule_cpu.mlir).
 *
 * Requires memrefs (after bufferization). Lowers vector.contract to outer products
 * and FMAs, and transfers, transposes, broadcasts and reductions to what
 * convert-vector-to-llvm takes. */
#include "codegen/schedule.h"
#include "passes/pass.h"

static tdm_status run(MlirOperation module, tdm_session *s) {
  return cg_schedule_apply(module, s, "", "tdm_lower_vectors_main");
}

const tdm_pass_def tdm_lower_vectors_def = {
    "lower-vectors", "Lower vector contractions and transfers towards LLVM", run};

MlirPass tdm_pass_lower_vectors(tdm_session *s) { return tdm_pass_create(&tdm_lower_vectors_def, s); }
