/* GGUF llama importer: a llama-architecture GGUF -> two tdm graph functions.
 *
 * @prefill evaluates a chunk of `prefill` tokens and @decode one token, both from
 * position `pos`, over the same weights and the same KV cache (function arguments
 * marked tdm.state). Per layer, the pre-norm transformer block llama.cpp runs:
 *
 *   h = x + Wo . attention(rope(Wq . n), rope(Wk . n), Wv . n),  n = rms_norm(x) * g_attn
 *   y = h + Wd . (silu(Wg . m) * (Wu . m)),                      m = rms_norm(h) * g_ffn
 *
 * then logits = Wout . (rms_norm(x) * g_out), with Wout the embedding when the file
 * has no output.weight (tied). Matrices are [out, in] in GGUF terms (ne[0] = in is
 * contiguous), so every projection is matmul(x, W, transpose_b). llama.cpp's
 * converter permutes Q and K rows so that its "normal" RoPE (adjacent pairs)
 * matches the original model; tdm.rope uses that mode, so the rows are used as
 * stored. Quantised tensors stay in their file: `tdm.weight` carries the block
 * encoding, and matrices stay in it in the compiled model (block-weight kernels);
 * --weights-type asks for another (`storage`), which codegen converts them to. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "frontend/gguf.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"
#include "tandem/llm.h"

typedef struct hparams {
  uint32_t n_layer, n_embd, n_ff, n_head, n_head_kv, head_dim, n_rot, n_vocab, n_ctx_train;
  float eps, freq_base;
} hparams;

typedef struct builder {
  tdm_session *s;
  const gguf_file *g;
  int file;             /* the GGUF's index in the session's weight files */
  hparams hp;
  uint32_t n_ctx, prefill;
  MlirContext ctx;
  MlirBlock block;      /* the function being built */
  MlirValue tokens, pos, k_cache, v_cache;
} builder;

static MlirLocation loc_named(builder *b, const char *what) {
  return mlirLocationNameGet(b->ctx, tdm_str(what),
                             mlirLocationFileLineColGet(b->ctx, tdm_str(b->g->path), 0, 0));
}

/* Marks matrix `op` (rows of `cols`) to be stored as the session's --weights-type
 * when that differs from its type in the file; block formats need rows of whole
 * blocks, and a matrix without them keeps its type. */
static void set_storage(builder *b, MlirOperation op, uint32_t ggml_type, uint64_t cols) {
  const char *to = b->s->weights_type, *from = gguf_type_name(ggml_type);
  if (!to || strcmp(to, from) == 0 || (to[0] == 'q' && cols % 32)) return;
  mlirOperationSetAttributeByName(op, tdm_str("storage"), mlirStringAttrGet(b->ctx, tdm_str(to)));
}

/* A weight [rows, cols] = GGUF ne [cols, rows] (or [n] for vectors), in its block
 * encoding, which codegen reads. */
static tdm_status weight(builder *b, const char *name, uint64_t cols, uint64_t rows, MlirValue *out) {
  const gguf_tensor *t = gguf_find_tensor(b->g, name);
  if (!t) return TDM_BAD("%s: missing tensor '%s'", b->g->path, name);
  uint64_t be, bb;
  if (!gguf_type_block(t->type, &be, &bb))
    return TDM_BAD("%s: tensor '%s' has ggml type %u, which tandem does not read (F32, F16, BF16, Q8_0, "
                   "Q4_0 and Q4_1 are)", b->g->path, name, t->type);
  int is_vec = rows == 0;
  if (t->ne[0] != cols || (is_vec ? t->n_dims != 1 : (t->n_dims != 2 || t->ne[1] != rows))) {
    return TDM_BAD("%s: tensor '%s' has shape [%llu, %llu], expected [%llu, %llu]", b->g->path, name,
                   (unsigned long long)t->ne[0], (unsigned long long)(t->n_dims > 1 ? t->ne[1] : 1),
                   (unsigned long long)cols, (unsigned long long)(is_vec ? 1 : rows));
  }
  tdm_type ty = {TANDEM_DTYPE_F32, {is_vec ? 1 : 2, {0}}};
  if (is_vec) ty.shape.dim[0] = (int64_t)cols;
  else ty.shape.dim[0] = (int64_t)rows, ty.shape.dim[1] = (int64_t)cols;
  tdm_attrs a = {0};
  a.name = name;
  a.file = b->file;
  a.offset = (int64_t)t->offset;
  MlirLocation loc = loc_named(b, name);
  TDM_TRY(tdm_build(b->block, loc, TDM_OP_WEIGHT, NULL, 0, &a, &ty, out));
  MlirOperation op = mlirOpResultGetOwner(*out);
  if (t->type != GGML_F32)
    mlirOperationSetAttributeByName(op, tdm_str("encoding"),
                                    mlirStringAttrGet(b->ctx, tdm_str(gguf_type_name(t->type))));
  if (!is_vec) set_storage(b, op, t->type, cols);
  return NULL;
}

static tdm_status op(builder *b, const char *where, tdm_op_kind k, const MlirValue *ops, int n,
                     const tdm_attrs *a, tdm_type *t, MlirValue *out) {
  tdm_attrs none = {0};
  tdm_status st = tdm_build(b->block, loc_named(b, where), k, ops, n, a ? a : &none, t, out);
  return st ? tdm_status_wrap(st, "%s: %s", b->g->path, where) : NULL;
}

static tdm_status reshape(builder *b, const char *where, MlirValue x, int rank, const int64_t *dims,
                          MlirValue *out) {
  tdm_type t = {TANDEM_DTYPE_F32, {rank, {0}}};
  memcpy(t.shape.dim, dims, sizeof(int64_t) * (size_t)rank);
  return op(b, where, TDM_OP_RESHAPE, &x, 1, NULL, &t, out);
}

/* x [T, in] . W^T, W stored [out, in]. */
static tdm_status project(builder *b, const char *where, MlirValue x, MlirValue w, MlirValue *out) {
  tdm_attrs a = {0};
  a.transpose_b = 1;
  tdm_type t;
  MlirValue ops[2] = {x, w};
  return op(b, where, TDM_OP_MATMUL, ops, 2, &a, &t, out);
}

static tdm_status norm(builder *b, const char *where, MlirValue x, const char *gname, MlirValue *out) {
  MlirValue g;
  TDM_TRY(weight(b, gname, b->hp.n_embd, 0, &g));
  tdm_attrs a = {0};
  a.eps = b->hp.eps;
  tdm_type t;
  MlirValue ops[2] = {x, g};
  return op(b, where, TDM_OP_RMS_NORM, ops, 2, &a, &t, out);
}

static tdm_status binary(builder *b, const char *where, tdm_op_kind k, MlirValue x, MlirValue y,
                         MlirValue *out) {
  tdm_type t;
  MlirValue ops[2] = {x, y};
  return op(b, where, k, ops, 2, NULL, &t, out);
}

static tdm_status attention_block(builder *b, int l, int64_t T, MlirValue x, MlirValue *out) {
  const hparams *hp = &b->hp;
  char w[96], at[64];
  snprintf(at, sizeof at, "blk.%d.attention", l);
  MlirValue n, q, k, v, wq, wk, wv, wo;
  snprintf(w, sizeof w, "blk.%d.attn_norm.weight", l);
  TDM_TRY(norm(b, at, x, w, &n));
  snprintf(w, sizeof w, "blk.%d.attn_q.weight", l);
  TDM_TRY(weight(b, w, hp->n_embd, (uint64_t)hp->n_head * hp->head_dim, &wq));
  snprintf(w, sizeof w, "blk.%d.attn_k.weight", l);
  TDM_TRY(weight(b, w, hp->n_embd, (uint64_t)hp->n_head_kv * hp->head_dim, &wk));
  snprintf(w, sizeof w, "blk.%d.attn_v.weight", l);
  TDM_TRY(weight(b, w, hp->n_embd, (uint64_t)hp->n_head_kv * hp->head_dim, &wv));
  snprintf(w, sizeof w, "blk.%d.attn_output.weight", l);
  TDM_TRY(weight(b, w, (uint64_t)hp->n_head * hp->head_dim, hp->n_embd, &wo));
  TDM_TRY(project(b, at, n, wq, &q));
  TDM_TRY(project(b, at, n, wk, &k));
  TDM_TRY(project(b, at, n, wv, &v));
  TDM_TRY(reshape(b, at, q, 3, (int64_t[]){T, hp->n_head, hp->head_dim}, &q));
  TDM_TRY(reshape(b, at, k, 3, (int64_t[]){T, hp->n_head_kv, hp->head_dim}, &k));
  TDM_TRY(reshape(b, at, v, 3, (int64_t[]){T, hp->n_head_kv, hp->head_dim}, &v));
  tdm_attrs ra = {0};
  ra.freq_base = hp->freq_base;
  ra.dims = hp->n_rot;
  tdm_type t;
  TDM_TRY(op(b, at, TDM_OP_ROPE, (MlirValue[]){q, b->pos}, 2, &ra, &t, &q));
  TDM_TRY(op(b, at, TDM_OP_ROPE, (MlirValue[]){k, b->pos}, 2, &ra, &t, &k));
  tdm_attrs aa = {0};
  aa.layer = l;
  aa.scale = 1.0 / sqrt((double)hp->head_dim);
  MlirValue ops[6] = {q, k, v, b->k_cache, b->v_cache, b->pos};
  MlirValue o;
  TDM_TRY(op(b, at, TDM_OP_ATTENTION, ops, 6, &aa, &t, &o));
  TDM_TRY(reshape(b, at, o, 2, (int64_t[]){T, (int64_t)hp->n_head * hp->head_dim}, &o));
  TDM_TRY(project(b, at, o, wo, &o));
  return binary(b, at, TDM_OP_ADD, x, o, out);
}

static tdm_status mlp_block(builder *b, int l, MlirValue x, MlirValue *out) {
  const hparams *hp = &b->hp;
  char w[96], at[64];
  snprintf(at, sizeof at, "blk.%d.mlp", l);
  MlirValue m, wg, wu, wd, g, u;
  snprintf(w, sizeof w, "blk.%d.ffn_norm.weight", l);
  TDM_TRY(norm(b, at, x, w, &m));
  snprintf(w, sizeof w, "blk.%d.ffn_gate.weight", l);
  TDM_TRY(weight(b, w, hp->n_embd, hp->n_ff, &wg));
  snprintf(w, sizeof w, "blk.%d.ffn_up.weight", l);
  TDM_TRY(weight(b, w, hp->n_embd, hp->n_ff, &wu));
  snprintf(w, sizeof w, "blk.%d.ffn_down.weight", l);
  TDM_TRY(weight(b, w, hp->n_ff, hp->n_embd, &wd));
  TDM_TRY(project(b, at, m, wg, &g));
  TDM_TRY(project(b, at, m, wu, &u));
  tdm_attrs sa = {0};
  sa.beta = 1.0; /* silu */
  tdm_type t;
  TDM_TRY(op(b, at, TDM_OP_SWISH, &g, 1, &sa, &t, &g));
  TDM_TRY(binary(b, at, TDM_OP_MUL, g, u, &g));
  TDM_TRY(project(b, at, g, wd, &g));
  return binary(b, at, TDM_OP_ADD, x, g, out);
}

static MlirAttribute name_dict(builder *b, const char *name, int state) {
  MlirNamedAttribute na[2] = {
      mlirNamedAttributeGet(mlirIdentifierGet(b->ctx, tdm_str("tdm.name")), mlirStringAttrGet(b->ctx, tdm_str(name))),
      mlirNamedAttributeGet(mlirIdentifierGet(b->ctx, tdm_str("tdm.state")), mlirUnitAttrGet(b->ctx)),
  };
  return mlirDictionaryAttrGet(b->ctx, state ? 2 : 1, na);
}

/* One entry function over a chunk of T tokens. */
static tdm_status build_function(builder *b, MlirModule module, const char *fname, int64_t T) {
  const hparams *hp = &b->hp;
  tdm_type tok = {TANDEM_DTYPE_I32, {1, {T}}}, pos = {TANDEM_DTYPE_I32, {0, {0}}};
  tdm_type cache = {b->s->kv_f16 ? TANDEM_DTYPE_F16 : TANDEM_DTYPE_F32,
                    {4, {hp->n_layer, b->n_ctx, hp->n_head_kv, hp->head_dim}}};
  MlirType args[4] = {tdm_type_to_mlir(b->ctx, &tok), tdm_type_to_mlir(b->ctx, &pos),
                      tdm_type_to_mlir(b->ctx, &cache), tdm_type_to_mlir(b->ctx, &cache)};
  MlirLocation loc = loc_named(b, fname);
  MlirLocation locs[4] = {loc, loc, loc, loc};
  MlirRegion region = mlirRegionCreate();
  b->block = mlirBlockCreate(4, args, locs);
  mlirRegionAppendOwnedBlock(region, b->block);
  b->tokens = mlirBlockGetArgument(b->block, 0);
  b->pos = mlirBlockGetArgument(b->block, 1);
  b->k_cache = mlirBlockGetArgument(b->block, 2);
  b->v_cache = mlirBlockGetArgument(b->block, 3);

  MlirValue embd, x, logits;
  tdm_status st = weight(b, "token_embd.weight", hp->n_embd, hp->n_vocab, &embd);
  tdm_attrs ga = {0};
  tdm_type t;
  if (!st) st = op(b, "token_embd", TDM_OP_GATHER, (MlirValue[]){embd, b->tokens}, 2, &ga, &t, &x);
  for (uint32_t l = 0; l < hp->n_layer && !st; l++) {
    st = attention_block(b, (int)l, T, x, &x);
    if (!st) st = mlp_block(b, (int)l, x, &x);
  }
  if (!st) st = norm(b, "output_norm", x, "output_norm.weight", &x);
  MlirValue wout = embd;
  if (!st && gguf_find_tensor(b->g, "output.weight")) st = weight(b, "output.weight", hp->n_embd, hp->n_vocab, &wout);
  if (!st) st = project(b, "output", x, wout, &logits);
  if (st) {
    mlirRegionDestroy(region);
    return st;
  }
  MlirOperationState ret = mlirOperationStateGet(tdm_str("func.return"), loc);
  mlirOperationStateAddOperands(&ret, 1, &logits);
  mlirBlockAppendOwnedOperation(b->block, mlirOperationCreate(&ret));
  MlirType res = mlirValueGetType(logits);
  MlirAttribute arg_attrs[4] = {name_dict(b, "tokens", 0), name_dict(b, "pos", 0), name_dict(b, "k_cache", 1),
                                name_dict(b, "v_cache", 1)};
  MlirAttribute res_attrs[1] = {name_dict(b, "logits", 0)};
  MlirNamedAttribute fattrs[4] = {
      mlirNamedAttributeGet(mlirIdentifierGet(b->ctx, tdm_str("sym_name")), mlirStringAttrGet(b->ctx, tdm_str(fname))),
      mlirNamedAttributeGet(mlirIdentifierGet(b->ctx, tdm_str("function_type")),
                            mlirTypeAttrGet(mlirFunctionTypeGet(b->ctx, 4, args, 1, &res))),
      mlirNamedAttributeGet(mlirIdentifierGet(b->ctx, tdm_str("arg_attrs")), mlirArrayAttrGet(b->ctx, 4, arg_attrs)),
      mlirNamedAttributeGet(mlirIdentifierGet(b->ctx, tdm_str("res_attrs")), mlirArrayAttrGet(b->ctx, 1, res_attrs)),
  };
  MlirOperationState fs = mlirOperationStateGet(tdm_str("func.func"), loc);
  mlirOperationStateAddAttributes(&fs, 4, fattrs);
  mlirOperationStateAddOwnedRegions(&fs, 1, &region);
  mlirBlockAppendOwnedOperation(mlirModuleGetBody(module), mlirOperationCreate(&fs));
  return NULL;
}

static tdm_status read_hparams(const gguf_file *g, hparams *hp) {
  const gguf_kv *arch = gguf_find(g, "general.architecture");
  if (!arch || arch->type != GGUF_STRING) return TDM_BAD("%s: missing metadata 'general.architecture'", g->path);
  if (!gguf_str_eq(arch->v.s, "llama"))
    return TDM_BAD("%s: architecture '%.*s' is not supported (llama is)", g->path, (int)arch->v.s.len, arch->v.s.data);
  TDM_TRY(gguf_get_u32(g, "llama.block_count", &hp->n_layer));
  TDM_TRY(gguf_get_u32(g, "llama.embedding_length", &hp->n_embd));
  TDM_TRY(gguf_get_u32(g, "llama.feed_forward_length", &hp->n_ff));
  TDM_TRY(gguf_get_u32(g, "llama.attention.head_count", &hp->n_head));
  hp->n_head_kv = hp->n_head;
  if (gguf_find(g, "llama.attention.head_count_kv")) TDM_TRY(gguf_get_u32(g, "llama.attention.head_count_kv", &hp->n_head_kv));
  TDM_TRY(gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &hp->eps));
  hp->freq_base = 10000.0f;
  if (gguf_find(g, "llama.rope.freq_base")) TDM_TRY(gguf_get_f32(g, "llama.rope.freq_base", &hp->freq_base));
  hp->n_ctx_train = 2048;
  if (gguf_find(g, "llama.context_length")) TDM_TRY(gguf_get_u32(g, "llama.context_length", &hp->n_ctx_train));
  if (hp->n_layer == 0 || hp->n_layer > 1024 || hp->n_embd == 0 || hp->n_head == 0 || hp->n_head_kv == 0 ||
      hp->n_embd % hp->n_head || hp->n_head % hp->n_head_kv || hp->n_ff == 0)
    return TDM_BAD("%s: inconsistent llama hyperparameters (layers %u, width %u, heads %u/%u, FFN %u)", g->path,
                   hp->n_layer, hp->n_embd, hp->n_head, hp->n_head_kv, hp->n_ff);
  hp->head_dim = hp->n_embd / hp->n_head;
  hp->n_rot = hp->head_dim;
  if (gguf_find(g, "llama.rope.dimension_count")) TDM_TRY(gguf_get_u32(g, "llama.rope.dimension_count", &hp->n_rot));
  const gguf_tensor *embd = gguf_find_tensor(g, "token_embd.weight");
  if (!embd || embd->n_dims != 2) return TDM_BAD("%s: missing 2-D tensor 'token_embd.weight'", g->path);
  if (embd->ne[1] > INT32_MAX) return TDM_BAD("%s: the vocabulary is too large", g->path);
  hp->n_vocab = (uint32_t)embd->ne[1];
  return NULL;
}

/* Module attribute tdm.llm: what the runtime's descriptor needs besides shapes. */
static void llm_attribute(builder *b, MlirModule m) {
  MlirContext c = b->ctx;
  MlirType i64 = mlirIntegerTypeGet(c, 64);
  MlirNamedAttribute na[3] = {
      mlirNamedAttributeGet(mlirIdentifierGet(c, tdm_str("tokenizer_file")), mlirIntegerAttrGet(i64, b->file)),
      mlirNamedAttributeGet(mlirIdentifierGet(c, tdm_str("n_head")), mlirIntegerAttrGet(i64, b->hp.n_head)),
      mlirNamedAttributeGet(mlirIdentifierGet(c, tdm_str("n_ctx_train")), mlirIntegerAttrGet(i64, b->hp.n_ctx_train)),
  };
  mlirOperationSetAttributeByName(mlirModuleGetOperation(m), tdm_str("tdm.llm"), mlirDictionaryAttrGet(c, 3, na));
}

tdm_status fe_gguf_import(tdm_session *s, const char *path, MlirModule *out_module) {
  *out_module = (MlirModule){NULL};
  builder b = {.s = s, .ctx = s->ctx};
  TDM_TRY(tdm_session_add_weight_file(s, path, &b.file));
  gguf_file g;
  const tdm_mapped_file *map = &s->files[b.file].map;
  TDM_TRY(gguf_parse(path, map->data, map->size, &g));
  b.g = &g;
  tdm_status st = read_hparams(&g, &b.hp);
  b.n_ctx = s->llm_ctx ? (uint32_t)s->llm_ctx : (b.hp.n_ctx_train < 4096 ? b.hp.n_ctx_train : 4096);
  b.prefill = s->llm_prefill ? (uint32_t)s->llm_prefill : 64;
  if (!st && b.prefill > b.n_ctx) b.prefill = b.n_ctx;
  MlirModule m = mlirModuleCreateEmpty(mlirLocationFileLineColGet(s->ctx, tdm_str(path), 0, 0));
  if (!st) st = build_function(&b, m, "prefill", b.prefill);
  if (!st) st = build_function(&b, m, "decode", 1);
  if (!st) {
    tdm_session_store_weight_files(s, m);
    llm_attribute(&b, m);
    if (!mlirOperationVerify(mlirModuleGetOperation(m)))
      st = tdm_session_failure(s, TDM_EXIT_INTERNAL, "the imported module does not verify");
  }
  gguf_free(&g);
  if (st) {
    mlirModuleDestroy(m);
    return st;
  }
  *out_module = m;
  return NULL;
}

/* ---- The tokenizer -----------------------------------------------------------------
 * tokenizer.ggml.* as tandem_tokenizer_spec, serialized by the runtime for the
 * object (the runtime tokenizes; the compiler only carries the data). */

static char *dup_str(gguf_str s) {
  char *c = malloc(s.len + 1);
  if (c) {
    memcpy(c, s.data, s.len);
    c[s.len] = 0;
  }
  return c;
}

static int32_t kv_id(const gguf_file *g, const char *key) {
  const gguf_kv *kv = gguf_find(g, key);
  if (!kv) return -1;
  if (kv->type == GGUF_UINT32 || kv->type == GGUF_UINT64) return kv->v.u > INT32_MAX ? -1 : (int32_t)kv->v.u;
  if (kv->type == GGUF_INT32 || kv->type == GGUF_INT64) return (int32_t)kv->v.i;
  return -1;
}

static int32_t kv_flag(const gguf_file *g, const char *key) {
  const gguf_kv *kv = gguf_find(g, key);
  return kv && kv->type == GGUF_BOOL ? (kv->v.u != 0) : -1;
}

static tdm_status string_array(const gguf_file *g, const char *key, int required, char ***out, uint32_t *n) {
  *out = NULL;
  *n = 0;
  const gguf_kv *kv = gguf_find(g, key);
  if (!kv) return required ? TDM_BAD("%s: missing metadata '%s'", g->path, key) : NULL;
  if (kv->type != GGUF_ARRAY || kv->elem_type != GGUF_STRING || kv->count > INT32_MAX)
    return TDM_BAD("%s: metadata '%s' is not an array of strings", g->path, key);
  *out = calloc((size_t)kv->count + 1, sizeof **out);
  if (!*out) return TDM_INTERNAL("out of memory");
  *n = (uint32_t)kv->count; /* set first: free_strings frees a partial copy */
  for (uint64_t i = 0; i < kv->count; i++)
    if (!((*out)[i] = dup_str(gguf_array_str(kv, i)))) return TDM_INTERNAL("out of memory");
  return NULL;
}

/* A copy of a numeric array of exactly `n` 4-byte elements of `type` (malloc'd), or
 * NULL when absent. A copy, because in the file it need not be 4-byte aligned. */
static tdm_status numeric_array(const gguf_file *g, const char *key, uint32_t type, uint32_t n, void **out) {
  *out = NULL;
  const gguf_kv *kv = gguf_find(g, key);
  if (!kv) return NULL;
  if (kv->type != GGUF_ARRAY || kv->elem_type != type || kv->count != n)
    return TDM_BAD("%s: metadata '%s' must be an array of %u numbers", g->path, key, n);
  if (!(*out = malloc(n ? (size_t)n * 4 : 1))) return TDM_INTERNAL("out of memory");
  memcpy(*out, kv->data, (size_t)n * 4); /* little-endian in the file, as on every host tandem targets */
  return NULL;
}

static void free_strings(char **v, uint32_t n) {
  for (uint32_t i = 0; v && i < n; i++) free(v[i]);
  free(v);
}

tdm_status fe_gguf_tokenizer(const char *path, const uint8_t *data, size_t size, uint8_t **out, size_t *out_size) {
  *out = NULL;
  gguf_file g;
  TDM_TRY(gguf_parse(path, data, size, &g));
  tandem_tokenizer_spec spec;
  memset(&spec, 0, sizeof spec);
  char **tokens = NULL, **merges = NULL, *pre = NULL, *tmpl = NULL;
  uint32_t ntok = 0, nmerge = 0;
  const gguf_kv *model = gguf_find(&g, "tokenizer.ggml.model");
  tdm_status st = NULL;
  if (!model || model->type != GGUF_STRING) st = TDM_BAD("%s: missing metadata 'tokenizer.ggml.model'", path);
  else if (gguf_str_eq(model->v.s, "gpt2")) spec.kind = TANDEM_TOKENIZER_BPE;
  else if (gguf_str_eq(model->v.s, "llama")) spec.kind = TANDEM_TOKENIZER_SPM;
  else st = TDM_BAD("%s: tokenizer '%.*s' is not supported (gpt2 and llama are)", path, (int)model->v.s.len, model->v.s.data);
  if (!st) st = string_array(&g, "tokenizer.ggml.tokens", 1, &tokens, &ntok);
  if (!st) st = string_array(&g, "tokenizer.ggml.merges", spec.kind == TANDEM_TOKENIZER_BPE, &merges, &nmerge);
  void *scores = NULL, *types = NULL;
  if (!st) st = numeric_array(&g, "tokenizer.ggml.scores", GGUF_FLOAT32, ntok, &scores);
  if (!st) st = numeric_array(&g, "tokenizer.ggml.token_type", GGUF_INT32, ntok, &types);
  const gguf_kv *p = gguf_find(&g, "tokenizer.ggml.pre"), *t = gguf_find(&g, "tokenizer.chat_template");
  if (!st && p && p->type == GGUF_STRING && !(pre = dup_str(p->v.s))) st = TDM_INTERNAL("out of memory");
  if (!st && t && t->type == GGUF_STRING && !(tmpl = dup_str(t->v.s))) st = TDM_INTERNAL("out of memory");
  if (!st) {
    spec.n_tokens = ntok;
    spec.tokens = (const char *const *)tokens;
    spec.scores = scores;
    spec.token_types = types;
    spec.n_merges = nmerge;
    spec.merges = (const char *const *)merges;
    spec.bos_id = kv_id(&g, "tokenizer.ggml.bos_token_id");
    spec.eos_id = kv_id(&g, "tokenizer.ggml.eos_token_id");
    spec.unk_id = kv_id(&g, "tokenizer.ggml.unknown_token_id");
    spec.pad_id = kv_id(&g, "tokenizer.ggml.padding_token_id");
    spec.add_bos = kv_flag(&g, "tokenizer.ggml.add_bos_token");
    spec.add_eos = kv_flag(&g, "tokenizer.ggml.add_eos_token");
    spec.add_space_prefix = kv_flag(&g, "tokenizer.ggml.add_space_prefix");
    spec.pre = pre;
    spec.chat_template = tmpl;
    tandem_status rs = tandem_tokenizer_serialize(&spec, out, out_size);
    if (rs) {
      st = TDM_BAD("%s: tokenizer: %s", path, tandem_status_message(rs));
      tandem_status_free(rs);
    }
  }
  free_strings(tokens, ntok);
  free_strings(merges, nmerge);
  free(scores);
  free(types);
  free(pre);
  free(tmpl);
  gguf_free(&g);
  return st;
}
