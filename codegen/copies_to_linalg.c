/* copies-to-linalg: memref.copy -> linalg.copy.
 *
 * Bufferization copies with memref.copy; between non-contiguous views (a concat's
 * slices) that lowers to a call into MLIR's C runner library, which compiled
 * models do not link. As linalg.copy it becomes loops like any other linalg op,
 * which LLVM turns into memcpy or vector moves. Requires bufferized IR. */
#include <stdlib.h>

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/Dialect/Linalg.h"
#include "passes/pass.h"

typedef struct copies {
  MlirOperation *ops;
  int n, cap;
} copies;

static MlirWalkResult collect(MlirOperation op, void *user) {
  copies *c = user;
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
  if (!mlirStringRefEqual(name, tdm_str("memref.copy"))) return MlirWalkResultAdvance;
  if (c->n == c->cap) {
    int cap = c->cap ? c->cap * 2 : 16;
    MlirOperation *p = realloc(c->ops, sizeof *p * (size_t)cap);
    if (!p) return MlirWalkResultInterrupt;
    c->ops = p;
    c->cap = cap;
  }
  c->ops[c->n++] = op;
  return MlirWalkResultAdvance;
}

static void replace(MlirContext ctx, MlirOperation copy) {
  MlirValue operands[2] = {mlirOperationGetOperand(copy, 0), mlirOperationGetOperand(copy, 1)};
  MlirOperationState st = mlirOperationStateGet(tdm_str("linalg.copy"), mlirOperationGetLocation(copy));
  mlirOperationStateAddOperands(&st, 2, operands);
  int32_t segments[2] = {1, 1};
  MlirNamedAttribute seg = mlirNamedAttributeGet(
      mlirIdentifierGet(ctx, tdm_str("operandSegmentSizes")), mlirDenseI32ArrayGet(ctx, 2, segments));
  mlirOperationStateAddAttributes(&st, 1, &seg);
  MlirRegion region = mlirRegionCreate();
  mlirOperationStateAddOwnedRegions(&st, 1, &region);
  MlirOperation lc = mlirOperationCreate(&st);
  mlirLinalgFillBuiltinNamedOpRegion(lc);
  mlirBlockInsertOwnedOperationBefore(mlirOperationGetBlock(copy), copy, lc);
  mlirOperationDestroy(copy);
}

static tdm_status run(MlirOperation module, tdm_session *s) {
  copies c = {0};
  mlirOperationWalk(module, collect, &c, MlirWalkPostOrder);
  for (int i = 0; i < c.n; i++) replace(s->ctx, c.ops[i]);
  free(c.ops);
  return NULL;
}

const tdm_pass_def tdm_copies_to_linalg_def = {
    "copies-to-linalg", "Turn memref.copy into linalg.copy so that it lowers to loops", run};

MlirPass tdm_pass_copies_to_linalg(tdm_session *s) { return tdm_pass_create(&tdm_copies_to_linalg_def, s); }
