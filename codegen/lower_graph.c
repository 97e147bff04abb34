/* lower-graph: the tdm graph -> entry functions on memrefs, tensors inside.
 *
 * Requires: func.funcs of tdm ops (verify-graph has run).
 * Produces, per graph function: `func.func @NAME_run(%weights: memref<Bxi8>,
 * %in...: memref, %st...: memref, %out...: memref)` (NAME_<function> when the graph
 * has several functions) whose body reads inputs with bufferization.to_tensor, weights as
 * memref.view slices of %weights at the offsets the session's weight layout
 * assigns, calls one helper per graph op (codegen/lower_ops.c), and writes each
 * result into its output buffer with materialize_in_destination. Outputs are
 * destination-passing: one-shot bufferization then writes results in place.
 * State arguments (tdm.state: an LLM's KV cache) stay memrefs, which tdm.attention
 * updates in place. Records each entry's signature in the session.
 *
 * Weights are placed in the blob only when code reads them. Ops whose operands are
 * all weights (transpose, convert, reshape, concat of weights) are evaluated here at
 * compile time (const_eval.c): the blob holds their result, not their inputs.
 * A matrix in a block encoding (tdm_weight_is_blocked: GGUF's Q8_0, Q4_0, Q4_1, F16,
 * BF16, or what --weights-type asked for) goes to the blob as it is, converted at
 * compile time first when its storage differs from its source encoding (q8_0, q4_0
 * and q4_1 repacked in x8 records, eight rows' blocks together); a matmul by its
 * transpose and a gather of its rows call the block-weight kernels
 * (lower_kernels.c). Only another use decodes it to f32 (once, into the blob).
 * A matmul by a dense f32 weight calls tdm_gemm_f32 over the weight packed into
 * column panels at compile time (the thread pool's GEMM), or with --gemm=mlir a
 * contraction over panels packed likewise, which lower_ops.c generates; one of two
 * activations (attention in OpenVINO IR graphs) calls tdm_bmm_f32. Unless
 * --gemm=mlir, f32 softmax, MVN, sums and means over the last axis, swish, slices and
 * row-keeping transposes, and element-wise arithmetic call the row-wise kernels
 * (codegen/kernels/rows.h) on the pool too; two patterns skip a copy: SwiGLU
 * (mul(swish(g), u)) reads g and u in place from a fused GEMM's output, and a
 * transpose of a reshaped slice (Q, K, V into heads) copies straight from it.
 *
 * The new IR is written as text and parsed: the templates read as the IR they make. */
#include <stdlib.h>
#include <string.h>

#include "codegen/const_eval.h"
#include "codegen/kernels/qkernels.h"
#include "codegen/lower.h"
#include "codegen/quantize.h"
#include "mlir-c/BuiltinAttributes.h"
#include "passes/pass.h"
#include "support/ptrmap.h"

/* A value known at compile time: bytes in the weight store (a weight, or a
 * weight-only recipe evaluated by const_eval.c). */
typedef struct wref {
  int file;
  uint64_t offset;
  tdm_type type;
  const char *enc; /* NULL: dense, of type.dtype; else a block encoding of the f32 type */
} wref;

typedef struct lowering {
  tdm_session *s;
  strbuf body;      /* the entry function's body */
  lw_helpers helpers;
  ptrmap names;     /* MlirValue -> %vN, for values the code computes or reads */
  int next;
  ptrmap consts;    /* MlirValue -> index in wrefs */
  ptrmap states;    /* state arguments (MlirValue) -> N of %stN */
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

/* Decodes `numel` elements of `enc` at file/offset and encodes them as `to` (NULL:
 * f32) into a derived buffer, once per distinct recipe. */
static tdm_status recode(lowering *lw, int file, uint64_t offset, const char *enc, int64_t numel, const char *to,
                         int *out_file) {
  strbuf key;
  sb_init(&key);
  sb_printf(&key, "%s->%s(%d:%llu:%lld)", enc ? enc : "f32", to ? to : "f32", file, (unsigned long long)offset,
            (long long)numel);
  *out_file = tdm_session_find_derived(lw->s, sb_str(&key));
  tdm_status st = NULL;
  if (*out_file < 0) {
    uint64_t in_bytes = tdm_encoding_bytes(enc ? enc : "f32", numel), out_bytes = tdm_encoding_bytes(to ? to : "f32", numel);
    st = in_bytes && out_bytes ? tdm_session_check_weight(lw->s, file, (int64_t)offset, (int64_t)in_bytes)
                               : TDM_BAD("weight encoding '%s' is unknown", !in_bytes ? enc : to);
    float *f32 = st ? NULL : malloc(sizeof(float) * (size_t)(numel ? numel : 1));
    uint8_t *data = st || !to ? NULL : malloc((size_t)out_bytes);
    if (!st && (!f32 || (to && !data))) st = TDM_INTERNAL("out of memory converting a weight to %s", to ? to : "f32");
    if (!st) st = qz_dequantize(enc ? enc : "f32", lw->s->files[file].map.data + offset, numel, f32);
    if (!st && to) st = qz_quantize(to, f32, numel, data);
    if (!st && !to) data = (uint8_t *)f32, f32 = NULL;
    if (!st) st = tdm_session_add_derived(lw->s, sb_str(&key), data, (size_t)out_bytes, out_file);
    else free(data);
    free(f32);
  }
  sb_free(&key);
  return st;
}

/* A weight. A blocked one stays in its storage encoding (converted here if that is
 * not its source's); any other encoded one is decoded to f32 here, once. */
static tdm_status lower_weight(lowering *lw, MlirOperation op, const tdm_type *t) {
  tdm_attrs a;
  TDM_TRY(tdm_attrs_from_op(op, TDM_OP_WEIGHT, &a));
  MlirValue v = mlirOperationGetResult(op, 0);
  const char *enc = tdm_weight_encoding(op), *storage = tdm_weight_storage(op);
  if (enc && strcmp(enc, "f32") == 0) enc = NULL;
  int64_t numel;
  TDM_TRY(tdm_shape_numel(&t->shape, &numel));
  int file = (int)a.file;
  uint64_t offset = (uint64_t)a.offset;
  if (tdm_weight_is_blocked(op)) {
    if (!enc || strcmp(enc, storage) != 0) {
      TDM_TRY(recode(lw, file, offset, enc, numel, storage, &file));
      offset = 0;
    }
    return add_wref(lw, v, (wref){file, offset, *t, storage});
  }
  if (!enc) return add_wref(lw, v, (wref){file, offset, *t, NULL});
  TDM_TRY(recode(lw, file, offset, enc, numel, NULL, &file));
  return add_wref(lw, v, (wref){file, 0, *t, NULL});
}

/* wrefs[k] as dense bytes: a blocked weight decoded to f32 (once) for code that is
 * not a kernel. */
static tdm_status dense(lowering *lw, int k, wref *out) {
  *out = lw->wrefs[k];
  if (!out->enc) return NULL;
  int64_t numel;
  TDM_TRY(tdm_shape_numel(&out->type.shape, &numel));
  TDM_TRY(recode(lw, out->file, out->offset, out->enc, numel, NULL, &out->file));
  out->offset = 0;
  out->enc = NULL;
  return NULL;
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
  wref w;
  TDM_TRY(dense(lw, k, &w));
  int id;
  TDM_TRY(bind(lw, v, &id));
  return emit_view(lw, &w, id);
}

/* The key of a weight derived from w by `recipe` ("RECIPE(file:offset:type)", in *key,
 * which the caller frees), and the derived buffer already made from it, or -1. */
static int find_derived_of(lowering *lw, const char *recipe, const wref *w, strbuf *key) {
  sb_init(key);
  sb_printf(key, "%s(%d:%llu:", recipe, w->file, (unsigned long long)w->offset);
  tdm_type_print(&w->type, key);
  sb_puts(key, ")");
  return tdm_session_find_derived(lw->s, sb_str(key));
}

/* B of a matmul packed into [N / w, K, w] column panels, evaluated at compile time
 * and viewed as %v<*out_id>. */
static tdm_status packed_view(lowering *lw, const wref *b, int w, tdm_type *out_type, int *out_id) {
  int64_t K = b->type.shape.dim[0], N = b->type.shape.dim[1];
  tdm_type split = {b->type.dtype, {3, {K, N / w, w}}};
  *out_type = (tdm_type){b->type.dtype, {3, {N / w, K, w}}};
  strbuf key;
  char recipe[16];
  snprintf(recipe, sizeof recipe, "pack%d", w);
  int file = find_derived_of(lw, recipe, b, &key);
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
  wref packed = {file, 0, *out_type, NULL};
  return emit_view(lw, &packed, *out_id);
}

/* A dense f32 Wt [K, N] packed for tdm_gemm_f32 (codegen/kernels/qkernels.h):
 * [ceil(N / P), K, P] column panels, zero past N; evaluated once per weight. */
static tdm_status gemm_panels(lowering *lw, const wref *b, wref *out) {
  const int P = TDM_GEMM_PANEL;
  int64_t K = b->type.shape.dim[0], N = b->type.shape.dim[1], np = (N + P - 1) / P;
  *out = (wref){-1, 0, {TANDEM_DTYPE_F32, {3, {np, K, P}}}, NULL};
  strbuf key;
  char recipe[16];
  snprintf(recipe, sizeof recipe, "gemm%d", P);
  out->file = find_derived_of(lw, recipe, b, &key);
  tdm_status st = NULL;
  if (out->file < 0) {
    size_t size = sizeof(float) * (size_t)(np * K * P);
    st = tdm_session_check_weight(lw->s, b->file, (int64_t)b->offset, (int64_t)sizeof(float) * K * N);
    float *data = st ? NULL : calloc(size ? size : 1, 1);
    if (!st && !data) st = TDM_INTERNAL("out of memory packing a %lldx%lld weight", (long long)K, (long long)N);
    if (!st) {
      const uint8_t *in = lw->s->files[b->file].map.data + b->offset;
      for (int64_t k = 0; k < K; k++)
        for (int64_t p = 0; p < np; p++)
          memcpy(&data[(p * K + k) * P], in + (k * N + p * P) * 4, sizeof(float) * (size_t)(N - p * P < P ? N - p * P : P));
      st = tdm_session_add_derived(lw->s, sb_str(&key), (uint8_t *)data, size, &out->file);
    }
  }
  sb_free(&key);
  return st;
}

/* The recipe of a derived weight, so equal recipes are evaluated once. */
static void recipe_key(const wref *ins, int n, tdm_op_kind kind, const tdm_attrs *a, const tdm_type *t,
                       strbuf *key) {
  sb_printf(key, "%s(", tdm_op_infos[kind].name);
  for (int i = 0; i < n; i++) {
    sb_printf(key, "%s%d:%llu:", i ? "," : "", ins[i].file, (unsigned long long)ins[i].offset);
    tdm_type_print(&ins[i].type, key);
  }
  sb_printf(key, ") axis=%lld perm=", (long long)a->axis);
  for (int i = 0; i < a->nperm; i++) sb_printf(key, "%lld.", (long long)a->perm[i]);
  sb_puts(key, " -> ");
  tdm_type_print(t, key);
}

/* concat(W1, W2) of two blocked matrices in one encoding, on their bytes: whole rows
 * one after the other (axis 0, along N), or each row's blocks after the other's
 * (axis 1, along K). The result is blocked in the same encoding. */
static tdm_status fold_blocked_concat(lowering *lw, MlirValue result, const wref *w, int64_t axis, const tdm_type *t) {
  const char *enc = w[0].enc;
  int64_t n0 = w[0].type.shape.dim[0], n1 = w[1].type.shape.dim[0];
  uint64_t row0 = tdm_encoding_bytes(enc, w[0].type.shape.dim[1]), row1 = tdm_encoding_bytes(enc, w[1].type.shape.dim[1]);
  uint64_t size = row0 * (uint64_t)n0 + row1 * (uint64_t)n1;
  strbuf key;
  sb_init(&key);
  sb_printf(&key, "concat%lld.%s(%d:%llu:%lldx%llu,%d:%llu:%lldx%llu)", (long long)axis, enc, w[0].file,
            (unsigned long long)w[0].offset, (long long)n0, (unsigned long long)row0, w[1].file,
            (unsigned long long)w[1].offset, (long long)n1, (unsigned long long)row1);
  int file = tdm_session_find_derived(lw->s, sb_str(&key));
  tdm_status st = NULL;
  for (int i = 0; i < 2 && !st && file < 0; i++)
    st = tdm_session_check_weight(lw->s, w[i].file, (int64_t)w[i].offset, (int64_t)(i ? row1 * (uint64_t)n1 : row0 * (uint64_t)n0));
  if (!st && file < 0) {
    uint8_t *out = malloc(size ? size : 1);
    const uint8_t *a = lw->s->files[w[0].file].map.data + w[0].offset, *b = lw->s->files[w[1].file].map.data + w[1].offset;
    if (!out) st = TDM_INTERNAL("out of memory concatenating weights");
    else if (axis == 0) {
      memcpy(out, a, row0 * (uint64_t)n0);
      memcpy(out + row0 * (uint64_t)n0, b, row1 * (uint64_t)n1);
    } else {
      for (int64_t r = 0; r < n0; r++) {
        memcpy(out + (uint64_t)r * (row0 + row1), a + (uint64_t)r * row0, row0);
        memcpy(out + (uint64_t)r * (row0 + row1) + row0, b + (uint64_t)r * row1, row1);
      }
    }
    if (!st) st = tdm_session_add_derived(lw->s, sb_str(&key), out, size, &file);
  }
  sb_free(&key);
  TDM_TRY(st);
  return add_wref(lw, result, (wref){file, 0, *t, enc});
}

/* Evaluates an op whose operands are all compile-time values. */
static tdm_status fold(lowering *lw, MlirOperation op, tdm_op_kind kind, const tdm_type *t) {
  tdm_attrs a;
  TDM_TRY(tdm_attrs_from_op(op, kind, &a));
  MlirValue result = mlirOperationGetResult(op, 0);
  int n = (int)mlirOperationGetNumOperands(op);
  if (n > 2) return TDM_INTERNAL("no compile-time evaluation for %d operands", n);
  wref w[2];
  if (kind == TDM_OP_CONCAT && n == 2) {
    for (int i = 0; i < 2; i++) w[i] = lw->wrefs[ptrmap_get(&lw->consts, mlirOperationGetOperand(op, i).ptr)];
    int rows_match = a.axis == 1 ? w[0].type.shape.dim[0] == w[1].type.shape.dim[0] : w[0].type.shape.dim[1] == w[1].type.shape.dim[1];
    if (w[0].enc && w[1].enc && strcmp(w[0].enc, w[1].enc) == 0 && t->shape.rank == 2 && (a.axis == 0 || a.axis == 1) &&
        rows_match)
      return fold_blocked_concat(lw, result, w, a.axis, t);
  }
  for (int i = 0; i < n; i++) TDM_TRY(dense(lw, ptrmap_get(&lw->consts, mlirOperationGetOperand(op, i).ptr), &w[i]));
  if (kind == TDM_OP_RESHAPE) return add_wref(lw, result, (wref){w[0].file, w[0].offset, *t, NULL});
  strbuf key;
  sb_init(&key);
  recipe_key(w, n, kind, &a, t, &key);
  int file = tdm_session_find_derived(lw->s, sb_str(&key));
  tdm_status st = NULL;
  if (file < 0) {
    const uint8_t *ins[2];
    tdm_type types[2];
    for (int i = 0; i < n; i++) {
      ins[i] = lw->s->files[w[i].file].map.data + w[i].offset;
      types[i] = w[i].type;
    }
    uint8_t *data;
    size_t size;
    st = ce_eval(kind, &a, ins, types, n, t, &data, &size);
    if (!st) st = tdm_session_add_derived(lw->s, sb_str(&key), data, size, &file);
  }
  sb_free(&key);
  TDM_TRY(st);
  return add_wref(lw, result, (wref){file, 0, *t, NULL});
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

/* The weight (an index in wrefs) of a matmul or gather that a block-weight kernel
 * runs: y = x . W^T, or rows of W by i32 ids along axis 0; else -1. */
static int kernel_weight(lowering *lw, MlirOperation op, tdm_op_kind kind, const tdm_attrs *a, const tdm_type *types,
                         const tdm_type *t) {
  int wi = kind == TDM_OP_MATMUL ? 1 : kind == TDM_OP_GATHER ? 0 : -1;
  int k = wi < 0 ? -1 : ptrmap_get(&lw->consts, mlirOperationGetOperand(op, wi).ptr);
  if (k < 0 || !lw->wrefs[k].enc || t->dtype != TANDEM_DTYPE_F32) return -1;
  const tdm_shape *w = &lw->wrefs[k].type.shape;
  if (kind == TDM_OP_GATHER)
    return a->axis == 0 && a->batch_dims == 0 && types[1].dtype == TANDEM_DTYPE_I32 ? k : -1;
  const tdm_shape *x = &types[0].shape;
  return a->transpose_b && !a->transpose_a && types[0].dtype == TANDEM_DTYPE_F32 && x->rank >= 1 &&
                 x->dim[x->rank - 1] == w->dim[1]
             ? k
             : -1;
}

/* Whether a matmul by a weight (operand 1) runs as tdm_gemm_f32: x [..., K] by a
 * dense f32 Wt [K, N] (matmul-layout's form of a linear layer), f32 out. The
 * kernel splits it over the thread pool; the generated contraction does not. */
static int dense_gemm(const tdm_attrs *a, const tdm_type *types, const tdm_type *t) {
  const tdm_shape *x = &types[0].shape, *w = &types[1].shape;
  return !a->transpose_a && !a->transpose_b && types[0].dtype == TANDEM_DTYPE_F32 &&
         types[1].dtype == TANDEM_DTYPE_F32 && t->dtype == TANDEM_DTYPE_F32 && w->rank == 2 && x->rank >= 1 &&
         x->dim[x->rank - 1] == w->dim[0] && t->shape.rank == x->rank &&
         t->shape.dim[t->shape.rank - 1] == w->dim[1];
}

/* Calls on memrefs amid the tensor code: a tensor value as a read-only buffer
 * (%<what><id>), the call's new output buffer (%o<id>), and that buffer back as the
 * result's tensor (%v<id>). */
static void emit_to_buffer(strbuf *b, const char *what, int id, int value, const tdm_type *t) {
  sb_printf(b, "    %%%s%d = bufferization.to_buffer %%v%d read_only : ", what, id, value);
  lw_tensor_type(b, t);
  sb_puts(b, " to ");
  lw_memref_type(b, t);
  sb_puts(b, "\n");
}

static void emit_alloc(strbuf *b, int id, const tdm_type *t) {
  sb_printf(b, "    %%o%d = memref.alloc() {alignment = 64 : i64} : ", id);
  lw_memref_type(b, t);
  sb_puts(b, "\n");
}

static void emit_to_tensor(strbuf *b, int id, const tdm_type *t) {
  sb_printf(b, "    %%v%d = bufferization.to_tensor %%o%d restrict : ", id, id);
  lw_memref_type(b, t);
  sb_puts(b, " to ");
  lw_tensor_type(b, t);
  sb_puts(b, "\n");
}

/* Whether a matmul of two activations runs as tdm_bmm_f32: a [..., M, K] by b [..., K,
 * N], the same leading dims (no broadcast), f32. */
static int activation_gemm(const tdm_attrs *a, const tdm_type *types, const tdm_type *t) {
  const tdm_shape *x = &types[0].shape, *w = &types[1].shape, *y = &t->shape;
  int r = y->rank;
  if (a->transpose_a || a->transpose_b || r < 2 || x->rank != r || w->rank != r) return 0;
  if (types[0].dtype != TANDEM_DTYPE_F32 || types[1].dtype != TANDEM_DTYPE_F32 || t->dtype != TANDEM_DTYPE_F32)
    return 0;
  for (int d = 0; d + 2 < r; d++)
    if (x->dim[d] != y->dim[d] || w->dim[d] != y->dim[d]) return 0;
  return x->dim[r - 2] == y->dim[r - 2] && w->dim[r - 1] == y->dim[r - 1] && x->dim[r - 1] == w->dim[r - 2];
}

/* An op by a kernel helper on memrefs: n inputs (the op's first operands, or `ins`) as
 * buffers (%b<i>_<id>), a new output buffer, which becomes the op's result. */
static tdm_status lower_buffer_call(lowering *lw, MlirOperation op, int n, const MlirValue *ins, const tdm_type *types,
                                    const tdm_type *t, const char *helper) {
  int ids[2], id;
  for (int i = 0; i < n; i++) {
    MlirValue v = ins ? ins[i] : mlirOperationGetOperand(op, i);
    TDM_TRY(materialize(lw, v));
    ids[i] = value_name(lw, v);
    if (ids[i] < 0) return TDM_INTERNAL("operand %d has no lowered value", i);
  }
  TDM_TRY(bind(lw, mlirOperationGetResult(op, 0), &id));
  strbuf *b = &lw->body;
  char what[8];
  for (int i = 0; i < n; i++) {
    snprintf(what, sizeof what, "b%d_", i);
    emit_to_buffer(b, what, id, ids[i], &types[i]);
  }
  emit_alloc(b, id, t);
  sb_printf(b, "    func.call @%s(", helper);
  for (int i = 0; i < n; i++) sb_printf(b, "%%b%d_%d, ", i, id);
  sb_printf(b, "%%o%d) {no_inline} : (", id);
  for (int i = 0; i < n; i++) {
    lw_memref_type(b, &types[i]);
    sb_puts(b, ", ");
  }
  lw_memref_type(b, t);
  sb_puts(b, ") -> ()\n");
  emit_to_tensor(b, id, t);
  return NULL;
}

/* A matmul of two activations by the kernel. */
static tdm_status lower_bmm_call(lowering *lw, MlirOperation op, const tdm_type *types, const tdm_type *t) {
  const char *helper;
  TDM_TRY(lw_bmm_f32_helper(&lw->helpers, &types[0], &types[1], t, &helper));
  return lower_buffer_call(lw, op, 2, NULL, types, t, helper);
}

/* A weight as its kernel reads it, and its size: a q8_0, q4_0 or q4_1 matrix [N, K]
 * repacked in x8 records (codegen/kernels/qkernels.h), once per weight; any other as
 * it is. */
static tdm_status kernel_form(lowering *lw, const wref *w, wref *out, uint64_t *bytes) {
  *out = *w;
  int64_t numel;
  TDM_TRY(tdm_shape_numel(&w->type.shape, &numel));
  *bytes = tdm_encoding_bytes(w->enc ? w->enc : "f32", numel);
  const char *x8 = w->enc ? qz_x8_encoding(w->enc) : NULL;
  if (!x8 || w->type.shape.rank != 2) return NULL;
  int64_t N = w->type.shape.dim[0], K = w->type.shape.dim[1];
  uint64_t size = qz_x8_bytes(w->enc, N, K);
  strbuf key;
  int file = find_derived_of(lw, x8, w, &key);
  tdm_status st = NULL;
  if (file < 0) {
    st = tdm_session_check_weight(lw->s, w->file, (int64_t)w->offset, (int64_t)*bytes);
    uint8_t *data = st ? NULL : malloc(size ? (size_t)size : 1);
    if (!st && !data) st = TDM_INTERNAL("out of memory repacking a %lldx%lld weight", (long long)N, (long long)K);
    if (!st) st = qz_repack_x8(w->enc, lw->s->files[w->file].map.data + w->offset, N, K, data);
    if (!st) st = tdm_session_add_derived(lw->s, sb_str(&key), data, (size_t)size, &file);
    else free(data);
  }
  sb_free(&key);
  TDM_TRY(st);
  *out = (wref){file, 0, w->type, x8};
  *bytes = size;
  return NULL;
}

/* Whether an op runs as a row-wise kernel (codegen/kernels/rows.h): softmax, MVN, a sum
 * or a mean over the last axis, or swish, f32 in and out. */
static int row_kernel(tdm_op_kind kind, const tdm_attrs *a, const tdm_type *types, int n, const tdm_type *t) {
  int r = t->shape.rank;
  if (n != 1 || types[0].dtype != TANDEM_DTYPE_F32 || t->dtype != TANDEM_DTYPE_F32) return 0;
  if (kind == TDM_OP_SWISH) return 1;
  if (kind == TDM_OP_SOFTMAX) return r >= 1 && a->axis == r - 1;
  if (kind == TDM_OP_REDUCE_SUM || kind == TDM_OP_REDUCE_MEAN)
    return types[0].shape.rank >= 1 && a->naxes == 1 && a->axes[0] == types[0].shape.rank - 1;
  return kind == TDM_OP_MVN && r >= 1 && a->naxes == 1 && a->axes[0] == r - 1;
}

/* Whether a slice, or a transpose that keeps the last axis, moves whole rows of an f32
 * tensor of rank 4 or less: then tdm_rows_copy_f32 does it, with these outer dims
 * (padded in front with 1), their source strides, the first element and the row
 * length. */
static int row_copy(tdm_op_kind kind, const tdm_attrs *a, const tdm_type *x, const int64_t *x_strides, int64_t x_base,
                    const tdm_type *t, int64_t d[3], int64_t st[3], int64_t *base, int64_t *inner) {
  int r = t->shape.rank;
  if ((kind != TDM_OP_SLICE && kind != TDM_OP_TRANSPOSE) || x->dtype != TANDEM_DTYPE_F32 ||
      t->dtype != TANDEM_DTYPE_F32 || r < 1 || r > 4 || x->shape.rank != r)
    return 0;
  if (kind == TDM_OP_TRANSPOSE && (a->nperm != r || a->perm[r - 1] != r - 1)) return 0;
  int64_t in_stride[4], src[4];
  in_stride[r - 1] = 1;
  for (int k = r - 2; k >= 0; k--) in_stride[k] = in_stride[k + 1] * x->shape.dim[k + 1];
  if (x_strides) memcpy(in_stride, x_strides, sizeof in_stride);
  for (int k = 0; k < r; k++) src[k] = kind == TDM_OP_TRANSPOSE ? in_stride[a->perm[k]] : in_stride[k];
  *base = x_base + (kind == TDM_OP_SLICE ? a->start * in_stride[a->axis] : 0);
  for (int i = 0; i < 3; i++) d[i] = 1, st[i] = 0;
  for (int k = 0; k + 1 < r; k++) d[4 - r + k] = t->shape.dim[k], st[4 - r + k] = src[k];
  *inner = t->shape.dim[r - 1];
  return 1;
}

static int same_shape(const tdm_shape *a, const tdm_shape *b) {
  if (a->rank != b->rank) return 0;
  for (int d = 0; d < a->rank; d++)
    if (a->dim[d] != b->dim[d]) return 0;
  return 1;
}

/* Whether an add, sub, mul or div runs as tdm_rows_binary_f32: f32, the first operand
 * of the result's shape, the second's dims (leading 1s aside) the result's trailing
 * dims, or a single element. */
static int row_binary(tdm_op_kind kind, const tdm_type *types, int n, const tdm_type *t) {
  if ((kind != TDM_OP_ADD && kind != TDM_OP_SUB && kind != TDM_OP_MUL && kind != TDM_OP_DIV) || n != 2) return 0;
  if (types[0].dtype != TANDEM_DTYPE_F32 || types[1].dtype != TANDEM_DTYPE_F32 || t->dtype != TANDEM_DTYPE_F32)
    return 0;
  if (!same_shape(&types[0].shape, &t->shape)) return 0;
  const tdm_shape *b = &types[1].shape, *y = &t->shape;
  int lead = 0; /* b's leading 1s */
  while (lead < b->rank && b->dim[lead] == 1) lead++;
  if (b->rank - lead > y->rank) return 0;
  for (int d = lead; d < b->rank; d++)
    if (b->dim[d] != y->dim[y->rank - (b->rank - d)]) return 0;
  return 1;
}

/* The mul that is the only use of swish `op`'s result, by an f32 operand of the same
 * shape (SwiGLU's gate times up): then the two run as one kernel, at the mul. */
static MlirOperation swiglu_mul(MlirOperation op) {
  tdm_type g;
  if (mlirOperationGetNumOperands(op) != 1 ||
      tdm_type_from_mlir(mlirValueGetType(mlirOperationGetOperand(op, 0)), &g) || g.dtype != TANDEM_DTYPE_F32)
    return (MlirOperation){NULL};
  MlirValue r = mlirOperationGetResult(op, 0);
  MlirOpOperand u = mlirValueGetFirstUse(r);
  if (mlirOpOperandIsNull(u) || !mlirOpOperandIsNull(mlirOpOperandGetNextUse(u))) return (MlirOperation){NULL};
  MlirOperation mul = mlirOpOperandGetOwner(u);
  if (tdm_op_kind_of(mul) != TDM_OP_MUL) return (MlirOperation){NULL};
  tdm_type a, b, y;
  if (tdm_type_from_mlir(mlirValueGetType(mlirOperationGetOperand(mul, 0)), &a) ||
      tdm_type_from_mlir(mlirValueGetType(mlirOperationGetOperand(mul, 1)), &b) ||
      tdm_type_from_mlir(mlirValueGetType(mlirOperationGetResult(mul, 0)), &y))
    return (MlirOperation){NULL};
  int ok = a.dtype == TANDEM_DTYPE_F32 && b.dtype == TANDEM_DTYPE_F32 && y.dtype == TANDEM_DTYPE_F32 &&
           same_shape(&a.shape, &y.shape) && same_shape(&b.shape, &y.shape) &&
           !mlirValueEqual(mlirOperationGetOperand(mul, 0), mlirOperationGetOperand(mul, 1));
  return ok ? mul : (MlirOperation){NULL};
}

/* The swish of a SwiGLU whose mul is `mul`, or NULL. */
static MlirOperation swiglu_swish(MlirOperation mul, int *k) {
  for (*k = 0; *k < 2; ++*k) {
    MlirValue v = mlirOperationGetOperand(mul, *k);
    if (!mlirValueIsAOpResult(v)) continue;
    MlirOperation sw = mlirOpResultGetOwner(v);
    if (tdm_op_kind_of(sw) == TDM_OP_SWISH && mlirOperationEqual(swiglu_mul(sw), mul)) return sw;
  }
  return (MlirOperation){NULL};
}

/* Whether v is a slice along the last axis of an f32 tensor with no other use than
 * `user`: then SwiGLU reads it in place, rows `*stride` floats apart from `*off`. */
static int strided_slice(MlirValue v, MlirOperation user, MlirValue *src, int64_t *off, int64_t *stride) {
  if (!mlirValueIsAOpResult(v)) return 0;
  MlirOperation sl = mlirOpResultGetOwner(v);
  MlirOpOperand u = mlirValueGetFirstUse(v);
  if (tdm_op_kind_of(sl) != TDM_OP_SLICE || mlirOpOperandIsNull(u) || !mlirOpOperandIsNull(mlirOpOperandGetNextUse(u)) ||
      !mlirOperationEqual(mlirOpOperandGetOwner(u), user))
    return 0;
  tdm_attrs a;
  tdm_type x;
  if (tdm_attrs_from_op(sl, TDM_OP_SLICE, &a) ||
      tdm_type_from_mlir(mlirValueGetType(mlirOperationGetOperand(sl, 0)), &x) || x.dtype != TANDEM_DTYPE_F32 ||
      x.shape.rank < 1 || a.axis != x.shape.rank - 1)
    return 0;
  *src = mlirOperationGetOperand(sl, 0);
  *off = a.start;
  *stride = x.shape.dim[x.shape.rank - 1];
  return 1;
}

/* Whether slice `op` is read in place by a SwiGLU kernel (lower_swiglu). */
static int swiglu_slice(MlirOperation op) {
  MlirValue r = mlirOperationGetResult(op, 0), src;
  MlirOpOperand u = mlirValueGetFirstUse(r);
  if (mlirOpOperandIsNull(u)) return 0;
  MlirOperation user = mlirOpOperandGetOwner(u), mul = user;
  int64_t off, stride;
  if (!strided_slice(r, user, &src, &off, &stride)) return 0;
  if (tdm_op_kind_of(user) == TDM_OP_SWISH) return !mlirOperationIsNull(swiglu_mul(user));
  int k;
  return tdm_op_kind_of(mul) == TDM_OP_MUL && !mlirOperationIsNull(swiglu_swish(mul, &k)) &&
         mlirValueEqual(mlirOperationGetOperand(mul, 1 - k), r);
}

/* mul(swish(g), u) or mul(u, swish(g)) whose swish was left for it: by one kernel,
 * which reads g and u in place where they are slices of the last axis (a fused
 * gate-and-up GEMM's two halves). */
static tdm_status lower_swiglu(lowering *lw, MlirOperation mul, const tdm_type *t, int *done) {
  int k;
  MlirOperation sw = swiglu_swish(mul, &k);
  *done = 0;
  if (mlirOperationIsNull(sw)) return NULL;
  int64_t n = t->shape.rank ? t->shape.dim[t->shape.rank - 1] : 1, off[2] = {0, 0}, stride[2] = {n, n};
  MlirValue ins[2] = {mlirOperationGetOperand(sw, 0), mlirOperationGetOperand(mul, 1 - k)};
  MlirOperation users[2] = {sw, mul};
  tdm_type types[2];
  for (int i = 0; i < 2; i++) {
    MlirValue src;
    if (strided_slice(ins[i], users[i], &src, &off[i], &stride[i])) ins[i] = src;
    TDM_TRY(tdm_type_from_mlir(mlirValueGetType(ins[i]), &types[i]));
  }
  tdm_attrs a;
  TDM_TRY(tdm_attrs_from_op(sw, TDM_OP_SWISH, &a));
  const char *helper;
  TDM_TRY(lw_rows_swiglu_helper(&lw->helpers, a.beta, &types[0], &types[1], t, off, stride, &helper));
  *done = 1;
  return lower_buffer_call(lw, mul, 2, ins, types, t, helper);
}

/* Whether transpose `op` reads a reshape of a slice of the last axis (Q, K or V out of a
 * fused GEMM's output, split into heads), each used only on that way, such that one
 * row copy from the slice's source does all three: its source, and the strides and
 * first element of the transpose's input within it. The reshape must only split the
 * slice's last axis. */
static int transpose_of_slice(MlirOperation op, MlirValue *src, tdm_type *src_t, int64_t xs[4], int64_t *xbase) {
  if (tdm_op_kind_of(op) != TDM_OP_TRANSPOSE) return 0;
  MlirValue v = mlirOperationGetOperand(op, 0);
  if (!mlirValueIsAOpResult(v)) return 0;
  MlirOperation rs = mlirOpResultGetOwner(v);
  MlirOpOperand u = mlirValueGetFirstUse(v);
  if (tdm_op_kind_of(rs) != TDM_OP_RESHAPE || mlirOpOperandIsNull(u) || !mlirOpOperandIsNull(mlirOpOperandGetNextUse(u)))
    return 0;
  MlirValue sv = mlirOperationGetOperand(rs, 0);
  int64_t off, stride;
  if (!strided_slice(sv, rs, src, &off, &stride)) return 0;
  tdm_type x, sl, t;
  tdm_attrs a;
  if (tdm_type_from_mlir(mlirValueGetType(v), &x) || tdm_type_from_mlir(mlirValueGetType(sv), &sl) ||
      tdm_type_from_mlir(mlirValueGetType(*src), src_t) ||
      tdm_type_from_mlir(mlirValueGetType(mlirOperationGetResult(op, 0)), &t) ||
      tdm_attrs_from_op(op, TDM_OP_TRANSPOSE, &a))
    return 0;
  int rs_rank = sl.shape.rank, xr = x.shape.rank;
  if (xr < rs_rank || xr > 4) return 0;
  for (int k = 0; k + 1 < rs_rank; k++)
    if (x.shape.dim[k] != sl.shape.dim[k]) return 0;
  /* the source's strides for the slice's leading dims; the split last axis is contiguous */
  int64_t fs = 1, inner = 1;
  for (int k = rs_rank - 1; k >= 0; k--) {
    if (k + 1 < rs_rank) xs[k] = fs;
    fs *= src_t->shape.dim[k];
  }
  for (int k = xr - 1; k >= rs_rank - 1; k--) xs[k] = inner, inner *= x.shape.dim[k];
  if (inner != sl.shape.dim[rs_rank - 1]) return 0;
  *xbase = off;
  int64_t d[3], st[3], base, in;
  return row_copy(TDM_OP_TRANSPOSE, &a, &x, xs, off, &t, d, st, &base, &in);
}

/* Whether a slice or reshape is done by the row copy of the transpose after it. */
static int copied_by_transpose(MlirOperation op) {
  tdm_op_kind kind = tdm_op_kind_of(op);
  MlirValue r = mlirOperationGetResult(op, 0), src;
  for (int hop = 0; hop < 2; hop++) {
    MlirOpOperand u = mlirValueGetFirstUse(r);
    if (mlirOpOperandIsNull(u) || !mlirOpOperandIsNull(mlirOpOperandGetNextUse(u))) return 0;
    MlirOperation user = mlirOpOperandGetOwner(u);
    tdm_type st;
    int64_t xs[4], xb;
    if (transpose_of_slice(user, &src, &st, xs, &xb)) return kind == TDM_OP_RESHAPE || hop == 1;
    if (kind != TDM_OP_SLICE || hop || tdm_op_kind_of(user) != TDM_OP_RESHAPE) return 0;
    r = mlirOperationGetResult(user, 0);
  }
  return 0;
}

/* A row-wise, data-movement or element-wise op by its kernel (codegen/kernels/rows.h),
 * or NULL in *helper when none takes it. */
static tdm_status rows_kernel(lowering *lw, tdm_op_kind kind, const tdm_attrs *a, const tdm_type *types, int n,
                              const tdm_type *t, const char **helper) {
  int64_t d[3], st[3], base, inner;
  *helper = NULL;
  if (row_kernel(kind, a, types, n, t)) return lw_rows_helper(&lw->helpers, kind, a, &types[0], t, helper);
  if (n == 1 && row_copy(kind, a, &types[0], NULL, 0, t, d, st, &base, &inner))
    return lw_rows_copy_helper(&lw->helpers, &types[0], t, d, st, base, inner, helper);
  if (row_binary(kind, types, n, t)) return lw_rows_binary_helper(&lw->helpers, kind, &types[0], &types[1], t, helper);
  return NULL;
}

/* A matmul or gather by a blocked weight: the weight's bytes in the blob (in the form
 * its kernel reads), the other operand as a buffer, and a helper calling the kernel
 * (lower_kernels.c) that writes a new buffer, which becomes the result. */
static tdm_status lower_kernel_call(lowering *lw, MlirOperation op, tdm_op_kind kind, const wref *weight,
                                    const tdm_type *types, const tdm_type *t) {
  int xi = kind == TDM_OP_MATMUL ? 0 : 1;
  MlirValue xv = mlirOperationGetOperand(op, xi);
  TDM_TRY(materialize(lw, xv));
  int xid = value_name(lw, xv), id;
  TDM_TRY(bind(lw, mlirOperationGetResult(op, 0), &id));
  wref form;
  const wref *w = &form;
  uint64_t bytes, at;
  TDM_TRY(kernel_form(lw, weight, &form, &bytes));
  TDM_TRY(tdm_session_place_weight(lw->s, w->file, w->offset, bytes, &at));
  const char *helper;
  if (kind == TDM_OP_MATMUL && !w->enc) TDM_TRY(lw_gemm_f32_helper(&lw->helpers, &types[0], bytes, t, &helper));
  else if (kind == TDM_OP_MATMUL) TDM_TRY(lw_qmatmul_helper(&lw->helpers, w->enc, &types[0], bytes, t, &helper));
  else TDM_TRY(lw_qgather_helper(&lw->helpers, w->enc, &types[1], bytes, w->type.shape.dim[0], t, &helper));
  strbuf *b = &lw->body;
  sb_printf(b, "    %%c%d = arith.constant %llu : index\n", id, (unsigned long long)at);
  sb_printf(b, "    %%m%d = memref.view %%weights[%%c%d][] : memref<@BLOB@xi8> to memref<%lluxi8>\n", id, id,
            (unsigned long long)bytes);
  emit_to_buffer(b, "xb", id, xid, &types[xi]);
  emit_alloc(b, id, t);
  if (kind == TDM_OP_MATMUL) sb_printf(b, "    func.call @%s(%%xb%d, %%m%d, %%o%d) {no_inline} : (", helper, id, id, id);
  else sb_printf(b, "    func.call @%s(%%m%d, %%xb%d, %%o%d) {no_inline} : (", helper, id, id, id);
  if (kind == TDM_OP_MATMUL) lw_memref_type(b, &types[xi]);
  sb_printf(b, "%smemref<%lluxi8>%s", kind == TDM_OP_MATMUL ? ", " : "", (unsigned long long)bytes,
            kind == TDM_OP_MATMUL ? "" : ", ");
  if (kind == TDM_OP_GATHER) lw_memref_type(b, &types[xi]);
  sb_puts(b, ", ");
  lw_memref_type(b, t);
  sb_puts(b, ") -> ()\n");
  emit_to_tensor(b, id, t);
  return NULL;
}

static tdm_status lower_call(lowering *lw, MlirOperation op, tdm_op_kind kind, const tdm_type *t) {
  tdm_type types[256];
  int n, ids[256];
  TDM_TRY(operand_types(op, types, 256, &n));
  tdm_attrs a;
  TDM_TRY(tdm_attrs_from_op(op, kind, &a));
  int kw = kernel_weight(lw, op, kind, &a, types, t);
  if (kw >= 0) return lower_kernel_call(lw, op, kind, &lw->wrefs[kw], types, t);
  int pack = 0, kb = kind == TDM_OP_MATMUL ? ptrmap_get(&lw->consts, mlirOperationGetOperand(op, 1).ptr) : -1;
  if (kind == TDM_OP_MATMUL && kb < 0 && !lw->s->gemm_mlir && activation_gemm(&a, types, t))
    return lower_bmm_call(lw, op, types, t);
  const char *rows_helper = NULL;
  if (!lw->s->gemm_mlir && ((kind == TDM_OP_SWISH && !mlirOperationIsNull(swiglu_mul(op))) ||
                            (kind == TDM_OP_SLICE && swiglu_slice(op))))
    return NULL; /* lowered with its SwiGLU's mul (lower_swiglu) */
  if (!lw->s->gemm_mlir && (kind == TDM_OP_SLICE || kind == TDM_OP_RESHAPE) && copied_by_transpose(op))
    return NULL; /* copied by the transpose after it, from the slice's source */
  if (!lw->s->gemm_mlir && kind == TDM_OP_TRANSPOSE) {
    MlirValue src;
    tdm_type src_t;
    int64_t xs[4], xbase, d[3], st[3], base, inner;
    if (transpose_of_slice(op, &src, &src_t, xs, &xbase)) {
      tdm_type x;
      TDM_TRY(tdm_type_from_mlir(mlirValueGetType(mlirOperationGetOperand(op, 0)), &x));
      row_copy(kind, &a, &x, xs, xbase, t, d, st, &base, &inner);
      const char *helper;
      TDM_TRY(lw_rows_copy_helper(&lw->helpers, &src_t, t, d, st, base, inner, &helper));
      return lower_buffer_call(lw, op, 1, &src, &src_t, t, helper);
    }
  }
  if (!lw->s->gemm_mlir && kind == TDM_OP_MUL) {
    int done;
    TDM_TRY(lower_swiglu(lw, op, t, &done));
    if (done) return NULL;
  }
  if (!lw->s->gemm_mlir) TDM_TRY(rows_kernel(lw, kind, &a, types, n, t, &rows_helper));
  if (rows_helper) return lower_buffer_call(lw, op, n, NULL, types, t, rows_helper);
  if (kb >= 0 && !lw->s->gemm_mlir && dense_gemm(&a, types, t)) {
    wref b, packed;
    TDM_TRY(dense(lw, kb, &b));
    TDM_TRY(gemm_panels(lw, &b, &packed));
    return lower_kernel_call(lw, op, kind, &packed, types, t);
  }
  /* A matmul by a weight reads it packed in column panels (see lower_ops.c). */
  if (kb >= 0) pack = lw_pack_width(&lw->helpers, &types[0], &types[1], &a);
  for (int i = 0; i < n; i++) {
    if (pack && i == 1) {
      wref b;
      TDM_TRY(dense(lw, kb, &b));
      TDM_TRY(packed_view(lw, &b, pack, &types[1], &ids[1]));
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
  sb_puts(b, ") {no_inline} : (");
  for (int i = 0; i < n; i++) {
    if (i) sb_puts(b, ", ");
    lw_tensor_type(b, &types[i]);
  }
  sb_puts(b, ") -> ");
  lw_tensor_type(b, t);
  sb_puts(b, "\n");
  return NULL;
}

/* tdm.attention reads and updates the KV cache, which the entry function holds as
 * memref arguments (%stN): q, k, v go to memrefs, the helper runs on memrefs, and
 * its output comes back as a tensor. */
static tdm_status lower_attention(lowering *lw, MlirOperation op, const tdm_type *t) {
  tdm_attrs a;
  TDM_TRY(tdm_attrs_from_op(op, TDM_OP_ATTENTION, &a));
  tdm_type ty[6];
  int n, ids[6];
  TDM_TRY(operand_types(op, ty, 6, &n));
  for (int i = 0; i < 6; i++) {
    MlirValue v = mlirOperationGetOperand(op, i);
    if (i == 3 || i == 4) {
      ids[i] = ptrmap_get(&lw->states, v.ptr);
      if (ids[i] < 0) return TDM_BAD("attention's KV cache must be a state argument");
      continue;
    }
    TDM_TRY(materialize(lw, v));
    ids[i] = value_name(lw, v);
  }
  int64_t T = ty[0].shape.dim[0], H = ty[0].shape.dim[1], D = ty[0].shape.dim[2], Hkv = ty[1].shape.dim[1];
  int64_t L = ty[3].shape.dim[0], C = ty[3].shape.dim[1];
  const char *helper;
  int kv_f16 = ty[3].dtype == TANDEM_DTYPE_F16;
  TDM_TRY(lw_attention_helper(&lw->helpers, T, H, Hkv, D, L, C, kv_f16, a.layer, a.scale, &helper));
  int id;
  TDM_TRY(bind(lw, mlirOperationGetResult(op, 0), &id));
  strbuf *b = &lw->body;
  const char *qkv[3] = {"qb", "kb", "vb"};
  for (int i = 0; i < 3; i++) emit_to_buffer(b, qkv[i], id, ids[i], &ty[i]);
  sb_printf(b, "    %%p%d = tensor.extract %%v%d[] : tensor<i32>\n", id, ids[5]);
  sb_printf(b, "    %%pi%d = arith.index_cast %%p%d : i32 to index\n", id, id);
  emit_alloc(b, id, t);
  sb_printf(b, "    func.call @%s(%%qb%d, %%kb%d, %%vb%d, %%st%d, %%st%d, %%pi%d, %%o%d) : ", helper, id, id, id,
            ids[3], ids[4], id, id);
  lw_attention_signature(b, T, H, Hkv, D, L, C, kv_f16);
  sb_puts(b, " -> ()\n");
  emit_to_tensor(b, id, t);
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
  if (kind == TDM_OP_ATTENTION) return lower_attention(lw, op, &t);
  return lower_call(lw, op, kind, &t);
}

/* The attribute dictionary of argument/result `i` ("arg_attrs" / "res_attrs"). */
static MlirAttribute io_attrs(MlirOperation func, const char *which, int i) {
  MlirAttribute all = mlirOperationGetAttributeByName(func, tdm_str(which));
  if (mlirAttributeIsNull(all) || !mlirAttributeIsAArray(all) || i >= mlirArrayAttrGetNumElements(all))
    return mlirAttributeGetNull();
  MlirAttribute d = mlirArrayAttrGetElement(all, i);
  return mlirAttributeIsADictionary(d) ? d : mlirAttributeGetNull();
}

static int is_state(MlirOperation func, int i) {
  MlirAttribute d = io_attrs(func, "arg_attrs", i);
  return !mlirAttributeIsNull(d) && !mlirAttributeIsNull(mlirDictionaryAttrGetElementByName(d, tdm_str("tdm.state")));
}

/* The tdm.name of argument/result `i`, or a generated one. */
static void io_name(MlirOperation func, const char *which, int i, strbuf *sb) {
  MlirAttribute d = io_attrs(func, which, i);
  MlirAttribute n = mlirAttributeIsNull(d) ? d : mlirDictionaryAttrGetElementByName(d, tdm_str("tdm.name"));
  if (!mlirAttributeIsNull(n) && mlirAttributeIsAString(n)) {
    tdm_sb_put_ref(sb, mlirStringAttrGetValue(n));
    return;
  }
  sb_printf(sb, "%s%d", which[0] == 'a' ? "input" : "output", i);
}

/* One tensor of the signature: its name and type. */
static tdm_status io_tensor(MlirOperation func, const char *which, int i, MlirValue v, strbuf *names,
                            tdm_io_tensor *out, size_t *name_at) {
  TDM_TRY(tdm_type_from_mlir(mlirValueGetType(v), &out->type));
  if (out->type.dtype == TANDEM_DTYPE_BOOL) return TDM_BAD("boolean model inputs and outputs are not supported");
  *name_at = names->len;
  io_name(func, which, i, names);
  sb_append(names, "", 1); /* the NUL separates the names */
  return NULL;
}

/* Records the entry's signature: inputs and states in argument order, outputs. */
static tdm_status record_signature(lowering *lw, MlirOperation func, MlirBlock block, MlirOperation ret,
                                   const char *fname, const char *symbol) {
  int nargs = (int)mlirBlockGetNumArguments(block), nout = (int)mlirOperationGetNumOperands(ret);
  if (nargs + nout > 1024) return TDM_BAD("more than 1024 inputs and outputs");
  tdm_io_tensor io[1024];
  size_t at[1024];
  int kind[1024]; /* 0 input, 1 state, 2 output */
  strbuf names;
  sb_init(&names);
  tdm_status st = NULL;
  for (int i = 0; i < nargs + nout && !st; i++) {
    int arg = i < nargs;
    kind[i] = arg ? is_state(func, i) : 2;
    MlirValue v = arg ? mlirBlockGetArgument(block, i) : mlirOperationGetOperand(ret, i - nargs);
    st = io_tensor(func, arg ? "arg_attrs" : "res_attrs", arg ? i : i - nargs, v, &names, &io[i], &at[i]);
  }
  tdm_io_tensor sorted[1024];
  int counts[3] = {0};
  tdm_entry e = {(char *)fname, (char *)symbol, NULL, NULL, NULL, 0, 0, 0};
  for (int k = 0, n = 0; k < 3 && !st; k++)
    for (int i = 0; i < nargs + nout; i++)
      if (kind[i] == k) {
        sorted[n] = io[i];
        sorted[n++].name = names.data + at[i];
        counts[k]++;
      }
  if (!st) {
    e.inputs = sorted, e.ninputs = counts[0];
    e.states = sorted + counts[0], e.nstates = counts[1];
    e.outputs = sorted + counts[0] + counts[1], e.noutputs = counts[2];
    st = tdm_session_add_entry(lw->s, &e);
  }
  sb_free(&names);
  return st;
}

static void reset_function_state(lowering *lw) {
  sb_clear(&lw->body);
  ptrmap_free(&lw->names);
  ptrmap_free(&lw->consts);
  ptrmap_free(&lw->states);
  lw->nwrefs = 0;
  lw->next = 0;
}

/* One graph function -> one entry function, appended to `text`; the weights
 * buffer's size is left as @BLOB@ until every function has placed its weights. */
static tdm_status write_entry(lowering *lw, MlirOperation func, const char *fname, const char *symbol,
                              strbuf *text) {
  MlirBlock block = mlirRegionGetFirstBlock(mlirOperationGetRegion(func, 0));
  int nargs = (int)mlirBlockGetNumArguments(block);
  MlirOperation ret = {NULL};
  reset_function_state(lw);
  for (int i = 0; i < nargs; i++) {
    tdm_type t;
    MlirValue a = mlirBlockGetArgument(block, i);
    TDM_TRY(tdm_type_from_mlir(mlirValueGetType(a), &t));
    if (is_state(func, i)) {
      if (!ptrmap_put(&lw->states, a.ptr, i)) return TDM_INTERNAL("out of memory");
      continue;
    }
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
  TDM_TRY(record_signature(lw, func, block, ret, fname, symbol));
  int nout = (int)mlirOperationGetNumOperands(ret);
  for (int i = 0; i < nout; i++) {
    tdm_type t;
    TDM_TRY(tdm_type_from_mlir(mlirValueGetType(mlirOperationGetOperand(ret, i)), &t));
    TDM_TRY(materialize(lw, mlirOperationGetOperand(ret, i)));
    int v = value_name(lw, mlirOperationGetOperand(ret, i));
    sb_printf(&lw->body, "    bufferization.materialize_in_destination %%v%d in restrict writable %%out%d : (", v, i);
    lw_tensor_type(&lw->body, &t);
    sb_puts(&lw->body, ", ");
    lw_memref_type(&lw->body, &t);
    sb_puts(&lw->body, ") -> ()\n");
  }
  /* The ABI: weights, inputs..., states..., outputs... */
  /* The function is NAME_impl; codegen adds NAME, the bare-pointer C entry point
   * (emit_llvm.c), around MLIR's memref calling convention. */
  sb_printf(text, "  func.func @%s_impl(%%weights: memref<@BLOB@xi8>", symbol);
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < nargs; i++) {
      if (is_state(func, i) != pass) continue;
      tdm_type t;
      TDM_TRY(tdm_type_from_mlir(mlirValueGetType(mlirBlockGetArgument(block, i)), &t));
      sb_printf(text, pass ? ", %%st%d: " : ", %%in%d: ", i);
      lw_memref_type(text, &t);
    }
  for (int i = 0; i < nout; i++) {
    tdm_type t;
    TDM_TRY(tdm_type_from_mlir(mlirValueGetType(mlirOperationGetOperand(ret, i)), &t));
    sb_printf(text, ", %%out%d: ", i);
    lw_memref_type(text, &t);
  }
  sb_puts(text, ") attributes {tdm.entry} {\n");
  sb_puts(text, sb_str(&lw->body));
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

/* "main" alone -> NAME_run; otherwise NAME_<function>. */
static void entry_symbol(const tdm_session *s, const char *fname, int nfuncs, strbuf *out) {
  if (nfuncs == 1 && strcmp(fname, "main") == 0) sb_printf(out, "%s_run", s->model_name);
  else sb_printf(out, "%s_%s", s->model_name, fname);
}

/* Every function of the graph, in module order. */
static int graph_functions(MlirOperation module, MlirOperation *out, int max) {
  int n = 0;
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    MlirStringRef nm = mlirIdentifierStr(mlirOperationGetName(op));
    if (nm.length == 9 && memcmp(nm.data, "func.func", 9) == 0 && n < max) out[n++] = op;
  }
  return n;
}

static tdm_status write_module(lowering *lw, MlirOperation module, strbuf *text) {
  MlirOperation funcs[TDM_MAX_ENTRIES];
  int n = graph_functions(module, funcs, TDM_MAX_ENTRIES);
  if (n < 1) return TDM_BAD("the graph module has no function");
  strbuf entries;
  sb_init(&entries);
  tdm_status st = NULL;
  for (int i = 0; i < n && !st; i++) {
    strbuf fname, symbol;
    sb_init(&fname);
    sb_init(&symbol);
    tdm_sb_put_ref(&fname, mlirStringAttrGetValue(mlirOperationGetAttributeByName(funcs[i], tdm_str("sym_name"))));
    entry_symbol(lw->s, sb_str(&fname), n, &symbol);
    st = write_entry(lw, funcs[i], sb_str(&fname), sb_str(&symbol), &entries);
    sb_free(&fname);
    sb_free(&symbol);
  }
  /* Every function has placed its weights: the blob's size is known. */
  char blob[32];
  snprintf(blob, sizeof blob, "%llu", (unsigned long long)lw->s->blob_size);
  const char *p = sb_str(&entries);
  for (const char *q; !st && (q = strstr(p, "@BLOB@")); p = q + 6) {
    sb_append(text, p, (size_t)(q - p));
    sb_puts(text, blob);
  }
  if (!st) sb_puts(text, p);
  sb_free(&entries);
  return st;
}

static tdm_status run(MlirOperation module, tdm_session *s) {
  lowering lw = {.s = s};
  lw.helpers.vector_bits = s->vector_bits;
  sb_init(&lw.body);
  ptrmap_init(&lw.names);
  ptrmap_init(&lw.consts);
  ptrmap_init(&lw.states);
  tdm_session_reset_layout(s);
  tdm_session_clear_entries(s);
  strbuf text;
  sb_init(&text);
  sb_puts(&text, "module {\n");
  tdm_status st = write_module(&lw, module, &text);
  if (!st) {
    lw_helpers_print(&lw.helpers, &text);
    lw_print_kernel_decls(&lw.helpers, &text);
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
  ptrmap_free(&lw.states);
  free(lw.wrefs);
  return st;
}

const tdm_pass_def tdm_lower_graph_def = {
    "lower-graph", "Lower tdm graph ops to linalg/tensor/arith/math on an entry function over memrefs",
    run};

MlirPass tdm_pass_lower_graph(tdm_session *s) { return tdm_pass_create(&tdm_lower_graph_def, s); }
