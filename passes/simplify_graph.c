/* simplify-graph: local rewrites that make the graph smaller before lowering.
 *
 *   reshape/convert to the operand's own type   -> the operand
 *   reshape(reshape(x))                         -> reshape(x)
 *   pow(x, 2)  (a constant exponent)            -> mul(x, x)
 *   pow(x, 0.5)                                 -> sqrt(x)
 *   pow(x, 1)                                   -> x
 *   ops whose result is unused                  -> removed
 *
 * LLM exports spell RMSNorm as Power(x, 2) -> ReduceMean -> ...; the mul is both
 * exact and much cheaper than powf. Requires a verified graph; keeps it verified. */
#include <stdlib.h>
#include <string.h>

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "passes/pass.h"

static int same_type(MlirValue a, MlirValue b) {
  return mlirTypeEqual(mlirValueGetType(a), mlirValueGetType(b));
}

/* The exponent when `v` is a tdm.constant whose elements are all the same float. */
static int constant_splat(MlirValue v, double *out) {
  if (!mlirValueIsAOpResult(v)) return 0;
  MlirOperation op = mlirOpResultGetOwner(v);
  if (tdm_op_kind_of(op) != TDM_OP_CONSTANT) return 0;
  MlirAttribute a = mlirOperationGetAttributeByName(op, tdm_str("value"));
  if (mlirAttributeIsNull(a) || !mlirAttributeIsADenseFPElements(a)) return 0;
  MlirType et = mlirShapedTypeGetElementType(mlirAttributeGetType(a));
  if (!mlirTypeIsAF32(et)) return 0;
  intptr_t n = mlirElementsAttrGetNumElements(a);
  float first = mlirDenseElementsAttrGetFloatValue(a, 0);
  for (intptr_t i = 1; i < n; i++)
    if (mlirDenseElementsAttrGetFloatValue(a, i) != first) return 0;
  *out = first;
  return 1;
}

/* Rewrites `op` in place if a rule applies; returns 1 if it changed anything. */
static tdm_status rewrite(MlirBlock block, MlirOperation op, int *changed) {
  tdm_op_kind kind = tdm_op_kind_of(op);
  MlirValue result = mlirOperationGetResult(op, 0);
  if ((kind == TDM_OP_RESHAPE || kind == TDM_OP_CONVERT) &&
      same_type(mlirOperationGetOperand(op, 0), result)) {
    mlirValueReplaceAllUsesOfWith(result, mlirOperationGetOperand(op, 0));
    *changed = 1;
    return NULL;
  }
  if (kind == TDM_OP_RESHAPE) {
    MlirValue in = mlirOperationGetOperand(op, 0);
    if (mlirValueIsAOpResult(in) && tdm_op_kind_of(mlirOpResultGetOwner(in)) == TDM_OP_RESHAPE) {
      mlirOperationSetOperand(op, 0, mlirOperationGetOperand(mlirOpResultGetOwner(in), 0));
      *changed = 1;
    }
    return NULL;
  }
  double e;
  if (kind != TDM_OP_POW || !constant_splat(mlirOperationGetOperand(op, 1), &e)) return NULL;
  MlirValue x = mlirOperationGetOperand(op, 0);
  if (!same_type(x, result)) return NULL; /* the exponent broadcasts x: keep pow */
  MlirValue repl = {NULL};
  tdm_type t;
  TDM_TRY(tdm_type_from_mlir(mlirValueGetType(result), &t));
  tdm_attrs none = {0};
  MlirLocation loc = mlirOperationGetLocation(op);
  if (e == 1.0) repl = x;
  else if (e == 2.0) TDM_TRY(tdm_build_before(block, op, loc, TDM_OP_MUL, (MlirValue[]){x, x}, 2, &none, &t, &repl));
  else if (e == 0.5) TDM_TRY(tdm_build_before(block, op, loc, TDM_OP_SQRT, &x, 1, &none, &t, &repl));
  if (mlirValueIsNull(repl)) return NULL;
  mlirValueReplaceAllUsesOfWith(result, repl);
  *changed = 1;
  return NULL;
}

static tdm_status simplify_block(MlirBlock block) {
  for (int round = 0, changed = 1; changed && round < 8; round++) {
    changed = 0;
    for (MlirOperation op = mlirBlockGetFirstOperation(block); !mlirOperationIsNull(op);
         op = mlirOperationGetNextInBlock(op))
      if (tdm_op_kind_of(op) != TDM_OP_NONE) TDM_TRY(tdm_op_error(op, rewrite(block, op, &changed)));
    TDM_TRY(tdm_block_remove_dead(block));
  }
  return NULL;
}

static tdm_status run(MlirOperation module, tdm_session *s) {
  (void)s;
  MlirBlock blocks[TDM_MAX_ENTRIES];
  int n = tdm_graph_blocks(module, blocks, TDM_MAX_ENTRIES);
  for (int i = 0; i < n; i++) TDM_TRY(simplify_block(blocks[i]));
  return NULL;
}

const tdm_pass_def tdm_simplify_graph_def = {
    "simplify-graph", "Remove identity reshapes/converts and dead ops; pow by 2 or 0.5", run};

MlirPass tdm_pass_simplify_graph(tdm_session *s) { return tdm_pass_create(&tdm_simplify_graph_def, s); }
