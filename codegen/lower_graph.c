/* lower-graph: the tdm graph -> an entry function on memrefs, tensors inside.
 *
 * Requires: one func.func of tdm ops (verify-graph has run).
 * Produces: `func.func @NAME_run(%weights: memref<Bxi8>, %in...: memref, %out...:
 * memref)` whose body reads inputs with bufferization.to_tensor, weights as
 * memref.view slices of %weights at the offsets the session's weight layout
 * assigns, calls one helper per graph op (codegen/lower_ops.c), and writes each
 * result into its output buffer with materialize_in_destination. Outputs are
 * destination-passing: one-shot bufferization then writes results in place.
 * Records the entry signature in the session for the object's descriptor.
 *
 * Weights are placed in the blob only when code reads them. Ops whose operands are
 * all weights (transpose, convert, reshape, concat of weights) are evaluated here at
 * compile time (const_eval.c): the blob holds their result, not their inputs.
 *
 * The new IR is written as text and parsed: the templates read as the IR they make. */
#include <stdlib.h>
#include <string.h>

#include "codegen/const_eval.h"
#include "codegen/lower.h"
#include "mlir-c/BuiltinAttributes.h"
#include "passes/pass.h"
#include "support/ptrmap.h"

/* A value known at compile time: bytes in the weight store (a weight, or a
 * weight-only recipe evaluated by const_eval.c). */
typedef struct wref {
  int file;
  uint64_t offset;
  tdm_type type;
} wref;

typedef struct lowering {
  tdm_session *s;
  strbuf body;      /* the entry function's body */
  lw_helpers helpers;
  ptrmap names;     /* MlirValue -> %vN, for values the code computes or reads */
  int next;
  ptrmap consts;    /* MlirValue -> index in wrefs */
  wref *wrefs;
  int nwrefs, cap_wrefs;
} lowering;

static int value_name(lowering *lw, MlirValue v) { return ptrmap_get(&lw->names, v.ptr); }

static tdm_status bind(lowering *lw, MlirValue v, int *out) {
  *out = lw->next++;
  if (!ptrmap_put(&lw->names, v.ptr, *out)) return TDM_INTERNAL("out of memory");
  return NULL;
}

static tdm_status add_wref(lowering *lw, MlirValue v, wref w) {
  if (lw->nwrefs == lw->cap_wrefs) {
    int cap = lw->cap_wrefs ? lw->cap_wrefs * 2 : 64;
    wref *p = realloc(lw->wrefs, sizeof *p * (size_t)cap);
    if (!p) return TDM_INTERNAL("out of memory");
    lw->wrefs = p;
    lw->cap_wrefs = cap;
  }
  lw->wrefs[lw->nwrefs] = w;
  if (!ptrmap_put(&lw->consts, v.ptr, lw->nwrefs++)) return TDM_INTERNAL("out of memory");
  return NULL;
}

static tdm_status lower_weight(lowering *lw, MlirOperation op, const tdm_type *t) {
  tdm_attrs a;
  TDM_TRY(tdm_attrs_from_op(op, TDM_OP_WEIGHT, &a));
  return add_wref(lw, mlirOperationGetResult(op, 0), (wref){(int)a.file, (uint64_t)a.offset, *t});
}

/* Places compile-time bytes in the blob and views them as %v<id>. */
static tdm_status emit_view(lowering *lw, const wref *w, int id) {
  int64_t numel;
  TDM_TRY(tdm_shape_numel(&w->type.shape, &numel));
  uint64_t size = (uint64_t)numel * tandem_dtype_size(w->type.dtype), at;
  TDM_TRY(tdm_session_place_weight(lw->s, w->file, w->offset, size, &at));
  strbuf *b = &lw->body;
  sb_printf(b, "    %%c%d = arith.constant %llu : index\n", id, (unsigned long long)at);
  sb_printf(b, "    %%m%d = memref.view %%weights[%%c%d][] : memref<@BLOB@xi8> to ", id, id);
  lw_memref_type(b, &w->type);
  sb_printf(b, "\n    %%v%d = bufferization.to_tensor %%m%d restrict : ", id, id);
  lw_memref_type(b, &w->type);
  sb_puts(b, " to ");
  lw_tensor_type(b, &w->type);
  sb_puts(b, "\n");
  return NULL;
}

/* The first time code reads a compile-time value: place it in the blob and view it. */
static tdm_status materialize(lowering *lw, MlirValue v) {
  if (value_name(lw, v) >= 0) return NULL;
  int k = ptrmap_get(&lw->consts, v.ptr);
  if (k < 0) return TDM_INTERNAL("a value is used before it is defined");
  int id;
  TDM_TRY(bind(lw, v, &id));
  return emit_view(lw, &lw->wrefs[k], id);
}

/* B of a matmul packed into [N / w, K, w] column panels, evaluated at compile time
 * and viewed as %v<*out_id>. */
static tdm_status packed_view(lowering *lw, const wref *b, int w, tdm_type *out_type, int *out_id) {
  int64_t K = b->type.shape.dim[0], N = b->type.shape.dim[1];
  tdm_type split = {b->type.dtype, {3, {K, N / w, w}}};
  *out_type = (tdm_type){b->type.dtype, {3, {N / w, K, w}}};
  strbuf key;
  sb_init(&key);
  sb_printf(&key, "pack%d(%d:%llu:", w, b->file, (unsigned long long)b->offset);
  tdm_type_print(&b->type, &key);
  sb_puts(&key, ")");
  int file = tdm_session_find_derived(lw->s, sb_str(&key));
  tdm_status st = NULL;
  if (file < 0) {
    const uint8_t *in = lw->s->files[b->file].map.data + b->offset;
    tdm_attrs perm = {.nperm = 3, .perm = {1, 0, 2}};
    uint8_t *data;
    size_t size;
    st = ce_eval(TDM_OP_TRANSPOSE, &perm, &in, &split, 1, out_type, &data, &size);
    if (!st) st = tdm_session_add_derived(lw->s, sb_str(&key), data, size, &file);
  }
  sb_free(&key);
  TDM_TRY(st);
  *out_id = lw->next++;
  wref packed = {file, 0, *out_type};
  return emit_view(lw, &packed, *out_id);
}

/* The recipe of a derived weight, so equal recipes are evaluated once. */
static void recipe_key(lowering *lw, MlirOperation op, tdm_op_kind kind, const tdm_attrs *a,
                       const tdm_type *t, strbuf *key) {
  sb_printf(key, "%s(", tdm_op_infos[kind].name);
  for (intptr_t i = 0; i < mlirOperationGetNumOperands(op); i++) {
    const wref *w = &lw->wrefs[ptrmap_get(&lw->consts, mlirOperationGetOperand(op, i).ptr)];
    sb_printf(key, "%s%d:%llu:", i ? "," : "", w->file, (unsigned long long)w->offset);
    tdm_type_print(&w->type, key);
  }
  sb_printf(key, ") axis=%lld perm=", (long long)a->axis);
  for (int i = 0; i < a->nperm; i++) sb_printf(key, "%lld.", (long long)a->perm[i]);
  sb_puts(key, " -> ");
  tdm_type_print(t, key);
}

/* Evaluates an op whose operands are all compile-time values. */
static tdm_status fold(lowering *lw, MlirOperation op, tdm_op_kind kind, const tdm_type *t) {
  tdm_attrs a;
  TDM_TRY(tdm_attrs_from_op(op, kind, &a));
  MlirValue result = mlirOperationGetResult(op, 0);
  const wref *first = &lw->wrefs[ptrmap_get(&lw->consts, mlirOperationGetOperand(op, 0).ptr)];
  if (kind == TDM_OP_RESHAPE) return add_wref(lw, result, (wref){first->file, first->offset, *t});
  strbuf key;
  sb_init(&key);
  recipe_key(lw, op, kind, &a, t, &key);
  int file = tdm_session_find_derived(lw->s, sb_str(&key));
  tdm_status st = NULL;
  if (file < 0) {
    const uint8_t *ins[2];
    tdm_type types[2];
    int n = (int)mlirOperationGetNumOperands(op);
    for (int i = 0; i < n && i < 2; i++) {
      const wref *w = &lw->wrefs[ptrmap_get(&lw->consts, mlirOperationGetOperand(op, i).ptr)];
      ins[i] = lw->s->files[w->file].map.data + w->offset;
      types[i] = w->type;
    }
    uint8_t *data;
    size_t size;
    st = ce_eval(kind, &a, ins, types, n, t, &data, &size);
    if (!st) st = tdm_session_add_derived(lw->s, sb_str(&key), data, size, &file);
  }
  sb_free(&key);
  TDM_TRY(st);
  return add_wref(lw, result, (wref){file, 0, *t});
}

static int all_operands_const(lowering *lw, MlirOperation op) {
  intptr_t n = mlirOperationGetNumOperands(op);
  for (intptr_t i = 0; i < n; i++)
    if (ptrmap_get(&lw->consts, mlirOperationGetOperand(op, i).ptr) < 0) return 0;
  return n > 0;
}

static void put_hex(strbuf *sb, const uint8_t *p, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < n; i++) {
    char two[2] = {hex[p[i] >> 4], hex[p[i] & 15]};
    sb_append(sb, two, 2);
  }
}

static tdm_status lower_constant(lowering *lw, MlirOperation op, const tdm_type *t) {
  tdm_attrs a;
  TDM_TRY(tdm_attrs_from_op(op, TDM_OP_CONSTANT, &a));
  if (t->dtype == TANDEM_DTYPE_BOOL) return TDM_BAD("boolean constants are not supported");
  int64_t numel;
  TDM_TRY(tdm_shape_numel(&t->shape, &numel));
  size_t width = tandem_dtype_size(t->dtype);
  const uint8_t *raw = mlirDenseElementsAttrGetRawData(a.value);
  /* A splat stores one element; MLIR reads a one-element hex string as a splat. */
  size_t n = mlirDenseElementsAttrIsSplat(a.value) ? width : (size_t)numel * width;
  int id;
  TDM_TRY(bind(lw, mlirOperationGetResult(op, 0), &id));
  sb_printf(&lw->body, "    %%v%d = arith.constant dense<\"0x", id);
  put_hex(&lw->body, raw, n);
  sb_puts(&lw->body, "\"> : ");
  lw_tensor_type(&lw->body, t);
  sb_puts(&lw->body, "\n");
  return NULL;
}

static tdm_status operand_types(MlirOperation op, tdm_type *types, int max, int *n) {
  *n = (int)mlirOperationGetNumOperands(op);
  if (*n > max) return TDM_BAD("more than %d operands", max);
  for (int i = 0; i < *n; i++)
    TDM_TRY(tdm_type_from_mlir(mlirValueGetType(mlirOperationGetOperand(op, i)), &types[i]));
  return NULL;
}

static tdm_status lower_call(lowering *lw, MlirOperation op, tdm_op_kind kind, const tdm_type *t) {
  tdm_type types[256];
  int n, ids[256];
  TDM_TRY(operand_types(op, types, 256, &n));
  tdm_attrs a;
  TDM_TRY(tdm_attrs_from_op(op, kind, &a));
  /* A matmul by a weight reads it packed in column panels (see lower_ops.c). */
  int pack = 0, kb = kind == TDM_OP_MATMUL ? ptrmap_get(&lw->consts, mlirOperationGetOperand(op, 1).ptr) : -1;
  if (kb >= 0) pack = lw_pack_width(&lw->helpers, &types[0], &types[1], &a);
  for (int i = 0; i < n; i++) {
    if (pack && i == 1) {
      TDM_TRY(packed_view(lw, &lw->wrefs[kb], pack, &types[1], &ids[1]));
      continue;
    }
    TDM_TRY(materialize(lw, mlirOperationGetOperand(op, i)));
    ids[i] = value_name(lw, mlirOperationGetOperand(op, i));
    if (ids[i] < 0) return TDM_INTERNAL("operand %d has no lowered value", i);
  }
  const char *helper;
  TDM_TRY(lw_lower_op(&lw->helpers, kind, types, n, &a, t, pack, &helper));
  int id;
  TDM_TRY(bind(lw, mlirOperationGetResult(op, 0), &id));
  strbuf *b = &lw->body;
  sb_printf(b, "    %%v%d = func.call @%s(", id, helper);
  for (int i = 0; i < n; i++) sb_printf(b, i ? ", %%v%d" : "%%v%d", ids[i]);
  sb_puts(b, ") : (");
  for (int i = 0; i < n; i++) {
    if (i) sb_puts(b, ", ");
    lw_tensor_type(b, &types[i]);
  }
  sb_puts(b, ") -> ");
  lw_tensor_type(b, t);
  sb_puts(b, "\n");
  return NULL;
}

static tdm_status lower_op(lowering *lw, MlirOperation op) {
  tdm_op_kind kind = tdm_op_kind_of(op);
  if (kind == TDM_OP_NONE) {
    MlirStringRef nm = mlirIdentifierStr(mlirOperationGetName(op));
    return TDM_BAD("op '%.*s' cannot be lowered", (int)nm.length, nm.data);
  }
  tdm_type t;
  TDM_TRY(tdm_type_from_mlir(mlirValueGetType(mlirOperationGetResult(op, 0)), &t));
  if (kind == TDM_OP_WEIGHT) return lower_weight(lw, op, &t);
  if (kind == TDM_OP_CONSTANT) return lower_constant(lw, op, &t);
  if (ce_can_fold(kind) && all_operands_const(lw, op)) return fold(lw, op, kind, &t);
  return lower_call(lw, op, kind, &t);
}

/* The tdm.name of argument/result `i`, or a generated one. */
static void io_name(MlirOperation func, const char *which, int i, strbuf *sb) {
  MlirAttribute all = mlirOperationGetAttributeByName(func, tdm_str(which));
  if (!mlirAttributeIsNull(all) && mlirAttributeIsAArray(all) &&
      i < mlirArrayAttrGetNumElements(all)) {
    MlirAttribute d = mlirArrayAttrGetElement(all, i);
    MlirAttribute n = mlirAttributeIsADictionary(d)
                          ? mlirDictionaryAttrGetElementByName(d, tdm_str("tdm.name"))
                          : mlirAttributeGetNull();
    if (!mlirAttributeIsNull(n) && mlirAttributeIsAString(n)) {
      tdm_sb_put_ref(sb, mlirStringAttrGetValue(n));
      return;
    }
  }
  sb_printf(sb, "%s%d", which[0] == 'a' ? "input" : "output", i);
}

static MlirOperation find_entry(MlirOperation module, int *count) {
  MlirOperation found = {NULL};
  *count = 0;
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    MlirStringRef nm = mlirIdentifierStr(mlirOperationGetName(op));
    if (nm.length == 9 && memcmp(nm.data, "func.func", 9) == 0) found = op, (*count)++;
  }
  return found;
}

static tdm_status record_signature(lowering *lw, MlirOperation func, MlirBlock block,
                                   MlirOperation ret) {
  int nin = (int)mlirBlockGetNumArguments(block), nout = (int)mlirOperationGetNumOperands(ret);
  tdm_io_tensor *io = calloc((size_t)(nin + nout) + 1, sizeof *io);
  if (!io) return TDM_INTERNAL("out of memory");
  strbuf names;
  sb_init(&names);
  size_t offsets[1024];
  tdm_status st = nin + nout > 1024 ? TDM_BAD("more than 1024 inputs and outputs") : NULL;
  for (int i = 0; i < nin + nout && !st; i++) {
    MlirValue v = i < nin ? mlirBlockGetArgument(block, i) : mlirOperationGetOperand(ret, i - nin);
    st = tdm_type_from_mlir(mlirValueGetType(v), &io[i].type);
    if (!st && io[i].type.dtype == TANDEM_DTYPE_BOOL)
      st = TDM_BAD("boolean model inputs and outputs are not supported");
    offsets[i] = names.len;
    io_name(func, i < nin ? "arg_attrs" : "res_attrs", i < nin ? i : i - nin, &names);
    sb_append(&names, "", 1); /* the NUL separates the names */
  }
  for (int i = 0; i < nin + nout && !st; i++) io[i].name = names.data + offsets[i];
  if (!st) st = tdm_session_set_io(lw->s, nin, io, nout, io + nin);
  sb_free(&names);
  free(io);
  return st;
}

static tdm_status write_entry(lowering *lw, MlirOperation func, strbuf *text) {
  MlirBlock block = mlirRegionGetFirstBlock(mlirOperationGetRegion(func, 0));
  int nin = (int)mlirBlockGetNumArguments(block);
  MlirOperation ret = {NULL};
  for (int i = 0; i < nin; i++) {
    tdm_type t;
    MlirValue a = mlirBlockGetArgument(block, i);
    TDM_TRY(tdm_type_from_mlir(mlirValueGetType(a), &t));
    int id;
    TDM_TRY(bind(lw, a, &id));
    sb_printf(&lw->body, "    %%v%d = bufferization.to_tensor %%in%d restrict : ", id, i);
    lw_memref_type(&lw->body, &t);
    sb_puts(&lw->body, " to ");
    lw_tensor_type(&lw->body, &t);
    sb_puts(&lw->body, "\n");
  }
  for (MlirOperation op = mlirBlockGetFirstOperation(block); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    MlirStringRef nm = mlirIdentifierStr(mlirOperationGetName(op));
    if (nm.length == 11 && memcmp(nm.data, "func.return", 11) == 0) {
      ret = op;
      continue;
    }
    tdm_status st = lower_op(lw, op);
    if (st) return tdm_op_error(op, st);
  }
  if (mlirOperationIsNull(ret)) return TDM_BAD("the model function has no return");
  TDM_TRY(record_signature(lw, func, block, ret));
  int nout = (int)mlirOperationGetNumOperands(ret);
  for (int i = 0; i < nout; i++) {
    const tdm_type *t = &lw->s->outputs[i].type;
    TDM_TRY(materialize(lw, mlirOperationGetOperand(ret, i)));
    int v = value_name(lw, mlirOperationGetOperand(ret, i));
    sb_printf(&lw->body, "    bufferization.materialize_in_destination %%v%d in restrict writable %%out%d : (", v, i);
    lw_tensor_type(&lw->body, t);
    sb_puts(&lw->body, ", ");
    lw_memref_type(&lw->body, t);
    sb_puts(&lw->body, ") -> ()\n");
  }
  /* The signature, now that the weights blob size is known. */
  char blob[32];
  snprintf(blob, sizeof blob, "%llu", (unsigned long long)lw->s->blob_size);
  sb_printf(text, "  func.func @%s_run(%%weights: memref<%sxi8>", lw->s->model_name, blob);
  for (int i = 0; i < nin; i++) {
    sb_printf(text, ", %%in%d: ", i);
    lw_memref_type(text, &lw->s->inputs[i].type);
  }
  for (int i = 0; i < nout; i++) {
    sb_printf(text, ", %%out%d: ", i);
    lw_memref_type(text, &lw->s->outputs[i].type);
  }
  sb_puts(text, ") attributes {tdm.entry} {\n");
  /* Splice in the body, filling in the blob size. */
  const char *p = sb_str(&lw->body);
  for (const char *q; (q = strstr(p, "@BLOB@")); p = q + 6) {
    sb_append(text, p, (size_t)(q - p));
    sb_puts(text, blob);
  }
  sb_puts(text, p);
  sb_puts(text, "    return\n  }\n");
  return NULL;
}

/* Replaces the module's contents with those of `text`. */
static tdm_status replace_module_body(tdm_session *s, MlirOperation module, const char *text) {
  MlirModule fresh = mlirModuleCreateParse(s->ctx, tdm_str(text));
  if (mlirModuleIsNull(fresh))
    return tdm_session_failure(s, TDM_EXIT_INTERNAL, "lowered IR does not parse");
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);) {
    MlirOperation next = mlirOperationGetNextInBlock(op);
    mlirOperationDestroy(op);
    op = next;
  }
  MlirBlock from = mlirModuleGetBody(fresh);
  for (MlirOperation op = mlirBlockGetFirstOperation(from); !mlirOperationIsNull(op);) {
    MlirOperation next = mlirOperationGetNextInBlock(op);
    mlirOperationRemoveFromParent(op);
    mlirBlockAppendOwnedOperation(body, op);
    op = next;
  }
  mlirModuleDestroy(fresh);
  return NULL;
}

static tdm_status run(MlirOperation module, tdm_session *s) {
  int nfuncs;
  MlirOperation func = find_entry(module, &nfuncs);
  if (nfuncs != 1) return TDM_BAD("expected exactly one function in the graph module, found %d", nfuncs);
  lowering lw = {.s = s};
  lw.helpers.vector_bits = s->vector_bits;
  sb_init(&lw.body);
  ptrmap_init(&lw.names);
  ptrmap_init(&lw.consts);
  tdm_session_reset_layout(s);
  strbuf text;
  sb_init(&text);
  sb_puts(&text, "module {\n");
  tdm_status st = write_entry(&lw, func, &text);
  if (!st) {
    lw_helpers_print(&lw.helpers, &text);
    lw_print_math_library(&text);
    sb_puts(&text, "}\n");
    if (sb_failed(&text) || sb_failed(&lw.body)) st = TDM_INTERNAL("out of memory");
  }
  if (!st) st = replace_module_body(s, module, sb_str(&text));
  sb_free(&text);
  sb_free(&lw.body);
  lw_helpers_free(&lw.helpers);
  ptrmap_free(&lw.names);
  ptrmap_free(&lw.consts);
  free(lw.wrefs);
  return st;
}

const tdm_pass_def tdm_lower_graph_def = {
    "lower-graph", "Lower tdm graph ops to linalg/tensor/arith/math on an entry function over memrefs",
    run};

MlirPass tdm_pass_lower_graph(tdm_session *s) { return tdm_pass_create(&tdm_lower_graph_def, s); }
