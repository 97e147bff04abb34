/* Applying the transform-dialect schedule (codegen/schedule_cpu.mlir, embedded). */
#include <string.h>

#include "codegen/schedule.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/Dialect/Transform/Interpreter.h"

extern const char tdm_schedule_cpu[];
extern const unsigned long tdm_schedule_cpu_size;

/* Parses the schedule (plus `extra` sequences) and applies `entry` to `module`. */
tdm_status cg_schedule_apply(MlirOperation module, tdm_session *s, const char *extra,
                             const char *entry) {
  strbuf text;
  sb_init(&text);
  /* The schedule file without its final "}", then the extra sequences. */
  const char *end = strrchr(tdm_schedule_cpu, '}');
  sb_append(&text, tdm_schedule_cpu, (size_t)(end - tdm_schedule_cpu));
  sb_puts(&text, extra);
  sb_puts(&text, "}\n");
  MlirModule script = mlirModuleCreateParse(s->ctx, tdm_str(sb_str(&text)));
  sb_free(&text);
  if (mlirModuleIsNull(script))
    return tdm_session_failure(s, TDM_EXIT_INTERNAL, "the transform schedule does not parse");
  MlirOperation root = {NULL};
  for (MlirOperation op = mlirBlockGetFirstOperation(mlirModuleGetBody(script)); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    MlirAttribute name = mlirOperationGetAttributeByName(op, tdm_str("sym_name"));
    if (!mlirAttributeIsNull(name) && mlirStringRefEqual(mlirStringAttrGetValue(name), tdm_str(entry)))
      root = op;
  }
  MlirTransformOptions opts = mlirTransformOptionsCreate();
  MlirLogicalResult r = mlirTransformApplyNamedSequence(module, root, mlirModuleGetOperation(script), opts);
  mlirTransformOptionsDestroy(opts);
  mlirModuleDestroy(script);
  if (mlirLogicalResultIsFailure(r))
    return tdm_session_failure(s, TDM_EXIT_INTERNAL, "the transform schedule failed");
  return NULL;
}

