/* verify-graph: every op of the graph is a tdm op whose result type follows from
 * its operands and attributes (ir/shape.c), every weight lies inside its file, and
 * every tensor is static and non-empty. IRDL has already checked each op's
 * structure; this checks the semantics, so that a hand-edited .mlir fails here
 * with a located message rather than later in codegen. */
#include <string.h>

#include "mlir-c/BuiltinAttributes.h"
#include "passes/pass.h"

typedef struct verify_ctx {
  tdm_session *s;
  tdm_status error;
} verify_ctx;

static int is_op(MlirOperation op, const char *name) {
  MlirStringRef n = mlirIdentifierStr(mlirOperationGetName(op));
  return n.length == strlen(name) && memcmp(n.data, name, n.length) == 0;
}

static tdm_status check_value_type(MlirValue v, tdm_type *out) {
  TDM_TRY(tdm_type_from_mlir(mlirValueGetType(v), out));
  int64_t n;
  TDM_TRY(tdm_shape_numel(&out->shape, &n));
  if (n == 0) return TDM_BAD("zero-size tensors are not supported");
  return NULL;
}

/* The attention's caches must be function arguments marked tdm.state. */
static tdm_status check_state(MlirOperation op, int operand) {
  MlirValue v = mlirOperationGetOperand(op, operand);
  if (!mlirValueIsABlockArgument(v))
    return TDM_BAD("attention operand %d (a KV cache) must be a function argument marked tdm.state", operand);
  MlirOperation func = mlirBlockGetParentOperation(mlirBlockArgumentGetOwner(v));
  MlirAttribute all = mlirOperationGetAttributeByName(func, tdm_str("arg_attrs"));
  intptr_t i = mlirBlockArgumentGetArgNumber(v);
  MlirAttribute d = !mlirAttributeIsNull(all) && mlirAttributeIsAArray(all) && i < mlirArrayAttrGetNumElements(all)
                        ? mlirArrayAttrGetElement(all, i)
                        : mlirAttributeGetNull();
  if (mlirAttributeIsNull(d) || !mlirAttributeIsADictionary(d) ||
      mlirAttributeIsNull(mlirDictionaryAttrGetElementByName(d, tdm_str("tdm.state"))))
    return TDM_BAD("attention operand %d (a KV cache) must be a function argument marked tdm.state", operand);
  return NULL;
}

static tdm_status verify_tdm_op(verify_ctx *c, MlirOperation op, tdm_op_kind kind) {
  int n = (int)mlirOperationGetNumOperands(op);
  tdm_type ops[256], result, expect;
  if (n > 256) return TDM_BAD("more than 256 operands");
  for (int i = 0; i < n; i++) TDM_TRY(check_value_type(mlirOperationGetOperand(op, i), &ops[i]));
  if (mlirOperationGetNumResults(op) != 1) return TDM_BAD("expected one result");
  TDM_TRY(check_value_type(mlirOperationGetResult(op, 0), &result));
  tdm_attrs a;
  TDM_TRY(tdm_attrs_from_op(op, kind, &a));
  expect = result;
  TDM_TRY(tdm_infer(kind, ops, n, &a, &expect));
  if (!tdm_type_equal(&expect, &result)) {
    strbuf sb;
    sb_init(&sb);
    tdm_type_print(&result, &sb);
    sb_puts(&sb, " but the operands give ");
    tdm_type_print(&expect, &sb);
    tdm_status st = TDM_BAD("'tdm.%s' result is %s", tdm_op_infos[kind].name, sb_str(&sb));
    sb_free(&sb);
    return st;
  }
  if (kind == TDM_OP_WEIGHT) {
    int64_t numel;
    TDM_TRY(tdm_shape_numel(&result.shape, &numel));
    int64_t bytes = numel * (int64_t)tandem_dtype_size(result.dtype);
    const char *enc = tdm_weight_encoding(op);
    if (enc) {
      if (result.dtype != TANDEM_DTYPE_F32) return TDM_BAD("an encoded weight must be f32");
      bytes = (int64_t)tdm_encoding_bytes(enc, numel);
      if (!bytes)
        return TDM_BAD("weight encoding '%s' is unknown or does not divide %lld elements into blocks", enc,
                       (long long)numel);
    }
    if (!mlirAttributeIsNull(mlirOperationGetAttributeByName(op, tdm_str("storage")))) {
      const char *storage = tdm_weight_storage(op);
      if (!mlirAttributeIsAString(mlirOperationGetAttributeByName(op, tdm_str("storage"))))
        return TDM_BAD("a weight's storage must be a string");
      int64_t row = result.shape.rank ? result.shape.dim[result.shape.rank - 1] : 1;
      if (result.dtype != TANDEM_DTYPE_F32) return TDM_BAD("a weight stored in another encoding must be f32");
      if (!tdm_encoding_bytes(storage, row))
        return TDM_BAD("weight storage '%s' is unknown or does not divide rows of %lld elements into blocks",
                       storage, (long long)row);
    }
    TDM_TRY(tdm_session_check_weight(c->s, a.file, a.offset, bytes));
  }
  if (kind == TDM_OP_ATTENTION)
    for (int i = 3; i < 5; i++) TDM_TRY(check_state(op, i));
  if (kind == TDM_OP_CONSTANT) {
    tdm_type vt;
    TDM_TRY(tdm_type_from_mlir(mlirAttributeGetType(a.value), &vt));
    if (!tdm_type_equal(&vt, &result)) return TDM_BAD("'tdm.constant' value type differs from its result type");
    if (result.dtype == TANDEM_DTYPE_BOOL) return TDM_BAD("boolean constants are not supported");
  }
  return NULL;
}

static tdm_status verify_op(verify_ctx *c, MlirOperation op) {
  tdm_op_kind kind = tdm_op_kind_of(op);
  if (kind != TDM_OP_NONE) return verify_tdm_op(c, op, kind);
  if (is_op(op, "builtin.module")) return NULL;
  if (is_op(op, "func.func")) {
    MlirBlock b = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
    if (mlirBlockIsNull(b)) return TDM_BAD("the model function has no body");
    for (intptr_t i = 0; i < mlirBlockGetNumArguments(b); i++) {
      tdm_type t;
      TDM_TRY(tdm_status_wrap(check_value_type(mlirBlockGetArgument(b, i), &t), "input %d", (int)i));
    }
    return NULL;
  }
  if (is_op(op, "func.return")) {
    for (intptr_t i = 0; i < mlirOperationGetNumOperands(op); i++) {
      tdm_type t;
      TDM_TRY(tdm_status_wrap(check_value_type(mlirOperationGetOperand(op, i), &t), "output %d", (int)i));
    }
    return NULL;
  }
  MlirStringRef n = mlirIdentifierStr(mlirOperationGetName(op));
  return TDM_BAD("'%.*s' is not a graph op", (int)n.length, n.data);
}

static MlirWalkResult visit(MlirOperation op, void *user) {
  verify_ctx *c = user;
  c->error = tdm_op_error(op, verify_op(c, op));
  return c->error ? MlirWalkResultInterrupt : MlirWalkResultAdvance;
}

static tdm_status run(MlirOperation module, tdm_session *s) {
  int nfuncs = 0;
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op))
    nfuncs += is_op(op, "func.func");
  if (nfuncs < 1 || nfuncs > TDM_MAX_ENTRIES)
    return tdm_op_error(module, TDM_BAD("expected 1 to %d functions (the model's entry points), found %d",
                                        TDM_MAX_ENTRIES, nfuncs));
  verify_ctx c = {s, NULL};
  mlirOperationWalk(module, visit, &c, MlirWalkPreOrder);
  return c.error;
}

const tdm_pass_def tdm_verify_graph_def = {
    "verify-graph", "Check the graph's shapes, types and weight references", run};

MlirPass tdm_pass_verify_graph(tdm_session *s) { return tdm_pass_create(&tdm_verify_graph_def, s); }
