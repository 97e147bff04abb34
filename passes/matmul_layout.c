/* matmul-layout: every matmul reads its operands untransposed.
 *
 * A transposed right operand (transpose_b, how every exported linear layer stores
 * its weight: [out, in]) makes the vectorised contraction gather B's columns with
 * strided loads. This pass moves the transpose into the graph as tdm.transpose:
 *   - on a weight, lower-graph evaluates it at compile time (const_eval.c), so the
 *     blob holds W^T and the transpose costs nothing at run time;
 *   - on an activation it is a copy, worth it when the contraction reuses B over
 *     at least 4 rows of A (attention's Q.K^T); thinner ones keep transpose_b.
 * A weight the block-weight kernels read (tdm_weight_is_blocked: Q8_0, Q4_0, Q4_1,
 * F16, BF16 matrices) keeps transpose_b: its rows of K are the kernels' layout, and
 * transposing would mean decoding it to f32.
 * transpose_a is always made explicit (it is rare). Keeps the graph verified. */
#include <string.h>

#include "mlir-c/BuiltinAttributes.h"
#include "passes/pass.h"

/* True when `v` is a weight, possibly behind reshapes/converts: foldable. */
static int is_weight(MlirValue v) {
  while (mlirValueIsAOpResult(v)) {
    MlirOperation def = mlirOpResultGetOwner(v);
    tdm_op_kind k = tdm_op_kind_of(def);
    if (k == TDM_OP_WEIGHT) return 1;
    if (k != TDM_OP_RESHAPE && k != TDM_OP_CONVERT && k != TDM_OP_TRANSPOSE) return 0;
    v = mlirOperationGetOperand(def, 0);
  }
  return 0;
}

/* A transpose of the last two dims of operand `i` of `op`, inserted before it. */
static tdm_status transpose_operand(MlirOperation op, int i) {
  MlirValue v = mlirOperationGetOperand(op, i);
  tdm_type t;
  TDM_TRY(tdm_type_from_mlir(mlirValueGetType(v), &t));
  tdm_attrs a = {0};
  a.nperm = t.shape.rank;
  for (int d = 0; d < t.shape.rank; d++) a.perm[d] = d;
  a.perm[t.shape.rank - 2] = t.shape.rank - 1;
  a.perm[t.shape.rank - 1] = t.shape.rank - 2;
  MlirValue out;
  tdm_type rt;
  TDM_TRY(tdm_build_before(mlirOperationGetBlock(op), op, mlirOperationGetLocation(op),
                           TDM_OP_TRANSPOSE, &v, 1, &a, &rt, &out));
  mlirOperationSetOperand(op, i, out);
  MlirContext ctx = mlirOperationGetContext(op);
  mlirOperationSetAttributeByName(op, tdm_str(i ? "transpose_b" : "transpose_a"), mlirBoolAttrGet(ctx, 0));
  return NULL;
}

static int is_blocked_weight(MlirValue v) {
  if (!mlirValueIsAOpResult(v)) return 0;
  MlirOperation def = mlirOpResultGetOwner(v);
  return tdm_op_kind_of(def) == TDM_OP_WEIGHT && tdm_weight_is_blocked(def);
}

static tdm_status visit(MlirOperation op) {
  tdm_attrs a;
  TDM_TRY(tdm_attrs_from_op(op, TDM_OP_MATMUL, &a));
  tdm_type lhs, rhs;
  TDM_TRY(tdm_type_from_mlir(mlirValueGetType(mlirOperationGetOperand(op, 0)), &lhs));
  TDM_TRY(tdm_type_from_mlir(mlirValueGetType(mlirOperationGetOperand(op, 1)), &rhs));
  if (a.transpose_a && lhs.shape.rank >= 2) TDM_TRY(transpose_operand(op, 0));
  if (!a.transpose_b || rhs.shape.rank < 2 || is_blocked_weight(mlirOperationGetOperand(op, 1))) return NULL;
  int64_t rows = lhs.shape.rank >= 2 ? lhs.shape.dim[lhs.shape.rank - 2] : 1;
  if (is_weight(mlirOperationGetOperand(op, 1)) || rows >= 4) TDM_TRY(transpose_operand(op, 1));
  return NULL;
}

static tdm_status run(MlirOperation module, tdm_session *s) {
  (void)s;
  MlirBlock blocks[TDM_MAX_ENTRIES];
  int n = tdm_graph_blocks(module, blocks, TDM_MAX_ENTRIES);
  for (int i = 0; i < n; i++)
    for (MlirOperation op = mlirBlockGetFirstOperation(blocks[i]); !mlirOperationIsNull(op);
         op = mlirOperationGetNextInBlock(op))
      if (tdm_op_kind_of(op) == TDM_OP_MATMUL) TDM_TRY(tdm_op_error(op, visit(op)));
  return NULL;
}

const tdm_pass_def tdm_matmul_layout_def = {
    "matmul-layout", "Make matmul operands untransposed (weights at compile time)", run};

MlirPass tdm_pass_matmul_layout(tdm_session *s) { return tdm_pass_create(&tdm_matmul_layout_def, s); }
