/* LLVM IR: translation from the LLVM dialect, the runtime descriptor, optimisation
 * with LLVM's default<O3> pipeline for the target CPU, and the object file. */
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "llvm-c/Analysis.h"
#include "llvm-c/Target.h"
#include "llvm-c/Transforms/PassBuilder.h"
#include "mlir-c/Target/LLVMIR.h"
#include "tandem/llm.h"

static void init_llvm_once(void) {
  static int done;
  if (done) return;
  done = 1;
  LLVMInitializeNativeTarget();
  LLVMInitializeNativeAsmPrinter();
}

static tdm_status make_target_machine(const cg_target *t, LLVMTargetMachineRef *out) {
  init_llvm_once();
  char *triple = LLVMGetDefaultTargetTriple();
  LLVMTargetRef target;
  char *err = NULL;
  if (LLVMGetTargetFromTriple(triple, &target, &err)) {
    tdm_status st = TDM_INTERNAL("no LLVM target for %s: %s", triple, err ? err : "");
    LLVMDisposeMessage(err);
    LLVMDisposeMessage(triple);
    return st;
  }
  int host = !t->cpu || strcmp(t->cpu, "host") == 0;
  char *cpu = host ? LLVMGetHostCPUName() : NULL;
  char *features = host ? LLVMGetHostCPUFeatures() : NULL;
  LLVMCodeGenOptLevel level = t->opt_level <= 0 ? LLVMCodeGenLevelNone
                              : t->opt_level == 1 ? LLVMCodeGenLevelLess
                              : t->opt_level == 2 ? LLVMCodeGenLevelDefault
                                                  : LLVMCodeGenLevelAggressive;
  *out = LLVMCreateTargetMachine(target, triple, host ? cpu : t->cpu, host ? features : "", level,
                                 LLVMRelocPIC, LLVMCodeModelDefault);
  LLVMDisposeMessage(triple);
  if (cpu) LLVMDisposeMessage(cpu);
  if (features) LLVMDisposeMessage(features);
  if (!*out) return TDM_INTERNAL("cannot create an LLVM target machine");
  return NULL;
}

int cg_vector_bits(const cg_target *t) {
  if (!t->cpu || strcmp(t->cpu, "host") == 0) {
    char *features = LLVMGetHostCPUFeatures();
    int bits = strstr(features, "+avx512f") ? 512 : strstr(features, "+avx2") ? 256 : 128;
    LLVMDisposeMessage(features);
    return bits;
  }
  /* A named CPU: LLVM's C API cannot list its features, so go by family. */
  static const char *const avx512[] = {"skylake-avx512", "cascadelake", "cooperlake", "cannonlake",
                                       "icelake", "tigerlake", "rocketlake", "sapphirerapids",
                                       "emeraldrapids", "graniterapids", "znver4", "znver5",
                                       "x86-64-v4", "knl", "knm", NULL};
  static const char *const avx2[] = {"haswell", "broadwell", "skylake", "alderlake", "raptorlake",
                                     "meteorlake", "arrowlake", "lunarlake", "znver1", "znver2",
                                     "znver3", "x86-64-v3", "kabylake", "coffeelake", NULL};
  for (int i = 0; avx512[i]; i++)
    if (strncmp(t->cpu, avx512[i], strlen(avx512[i])) == 0) return 512;
  for (int i = 0; avx2[i]; i++)
    if (strncmp(t->cpu, avx2[i], strlen(avx2[i])) == 0) return 256;
  return 128;
}

/* Every function gets the machine's CPU and features, so that LLVM's inliner and
 * vectorisers see the same target as its code generator. */
static void tag_functions(LLVMModuleRef mod, LLVMTargetMachineRef tm) {
  char *cpu = LLVMGetTargetMachineCPU(tm), *features = LLVMGetTargetMachineFeatureString(tm);
  int wide = strstr(features, "+avx512f") != NULL;
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) {
    if (LLVMIsDeclaration(f)) continue;
    LLVMAddTargetDependentFunctionAttr(f, "target-cpu", cpu);
    if (*features) LLVMAddTargetDependentFunctionAttr(f, "target-features", features);
    /* LLVM defaults to 256-bit vectors on AVX-512 machines; the contraction tiles
     * (8 rows x 32 floats) are sized for 32 512-bit registers. */
    if (wide) LLVMAddTargetDependentFunctionAttr(f, "prefer-vector-width", "512");
  }
  LLVMDisposeMessage(cpu);
  LLVMDisposeMessage(features);
}

tdm_status cg_translate(tdm_session *s, MlirModule module, const cg_target *target,
                        cg_module *out) {
  memset(out, 0, sizeof *out);
  TDM_TRY(make_target_machine(target, &out->tm));
  out->ctx = LLVMContextCreate();
  out->mod = mlirTranslateModuleToLLVMIR(mlirModuleGetOperation(module), out->ctx);
  if (!out->mod) {
    cg_module_dispose(out);
    return tdm_session_failure(s, TDM_EXIT_INTERNAL, "translation to LLVM IR failed");
  }
  char *triple = LLVMGetTargetMachineTriple(out->tm);
  LLVMSetTarget(out->mod, triple);
  LLVMDisposeMessage(triple);
  LLVMTargetDataRef layout = LLVMCreateTargetDataLayout(out->tm);
  LLVMSetModuleDataLayout(out->mod, layout);
  LLVMDisposeTargetData(layout);
  tdm_status st = cg_link_kernels(out, target);
  if (st) {
    cg_module_dispose(out);
    return st;
  }
  tag_functions(out->mod, out->tm);
  return NULL;
}

void cg_module_dispose(cg_module *m) {
  if (m->mod) LLVMDisposeModule(m->mod);
  if (m->ctx) LLVMContextDispose(m->ctx);
  if (m->tm) LLVMDisposeTargetMachine(m->tm);
  memset(m, 0, sizeof *m);
}

/* ---- The descriptor ------------------------------------------------------------------ */

typedef struct desc_builder {
  LLVMModuleRef mod;
  LLVMContextRef ctx;
  LLVMTypeRef i32, i64, ptr;
  const char *name;
  int counter;
} desc_builder;

static LLVMValueRef private_global(desc_builder *b, LLVMValueRef init, const char *what) {
  char sym[256];
  snprintf(sym, sizeof sym, "%s_%s.%d", b->name, what, b->counter++);
  LLVMValueRef g = LLVMAddGlobal(b->mod, LLVMTypeOf(init), sym);
  LLVMSetInitializer(g, init);
  LLVMSetGlobalConstant(g, 1);
  LLVMSetLinkage(g, LLVMPrivateLinkage);
  LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
  return g;
}

static LLVMValueRef cstring(desc_builder *b, const char *s) {
  return private_global(b, LLVMConstStringInContext2(b->ctx, s, strlen(s), 0), "str");
}

/* struct tandem_tensor_desc { ptr name; i32 dtype; i32 rank; ptr shape; i64 byte_size; } */
static LLVMValueRef tensor_descs(desc_builder *b, const tdm_io_tensor *io, int n, LLVMTypeRef *ty) {
  LLVMTypeRef fields[5] = {b->ptr, b->i32, b->i32, b->ptr, b->i64};
  *ty = LLVMStructTypeInContext(b->ctx, fields, 5, 0);
  if (n == 0) return LLVMConstNull(b->ptr);
  LLVMValueRef *elems = calloc((size_t)n, sizeof *elems);
  for (int i = 0; i < n; i++) {
    const tdm_type *t = &io[i].type;
    LLVMValueRef dims[TDM_MAX_RANK];
    int64_t numel = 1;
    for (int d = 0; d < t->shape.rank; d++) {
      dims[d] = LLVMConstInt(b->i64, (unsigned long long)t->shape.dim[d], 0);
      numel *= t->shape.dim[d];
    }
    LLVMValueRef shape = t->shape.rank
                             ? private_global(b, LLVMConstArray2(b->i64, dims, (uint64_t)t->shape.rank), "shape")
                             : LLVMConstNull(b->ptr);
    LLVMValueRef v[5] = {cstring(b, io[i].name), LLVMConstInt(b->i32, (unsigned)t->dtype, 0),
                         LLVMConstInt(b->i32, (unsigned)t->shape.rank, 0), shape,
                         LLVMConstInt(b->i64, (unsigned long long)numel * tandem_dtype_size(t->dtype), 0)};
    elems[i] = LLVMConstNamedStruct(*ty, v, 5);
  }
  LLVMValueRef arr = private_global(b, LLVMConstArray2(*ty, elems, (uint64_t)n), "tensors");
  free(elems);
  return arr;
}

/* void NAME_entry(const void *weights, const void *const *in, void *const *out):
 * unpacks the pointer arrays and calls NAME_run(weights, in[0].., out[0]..). */
static LLVMValueRef entry_wrapper(desc_builder *b, const tdm_entry *e, LLVMValueRef run) {
  LLVMTypeRef params[3] = {b->ptr, b->ptr, b->ptr};
  LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(b->ctx), params, 3, 0);
  char sym[256];
  snprintf(sym, sizeof sym, "%s_entry", b->name);
  LLVMValueRef f = LLVMAddFunction(b->mod, sym, fty);
  LLVMBuilderRef ir = LLVMCreateBuilderInContext(b->ctx);
  LLVMPositionBuilderAtEnd(ir, LLVMAppendBasicBlockInContext(b->ctx, f, "entry"));
  int nargs = 1 + e->ninputs + e->noutputs;
  LLVMValueRef *args = calloc((size_t)nargs, sizeof *args);
  args[0] = LLVMGetParam(f, 0);
  for (int i = 0; i < e->ninputs + e->noutputs; i++) {
    int is_in = i < e->ninputs;
    LLVMValueRef base = LLVMGetParam(f, is_in ? 1 : 2);
    LLVMValueRef idx = LLVMConstInt(b->i64, (unsigned long long)(is_in ? i : i - e->ninputs), 0);
    LLVMValueRef slot = LLVMBuildGEP2(ir, b->ptr, base, &idx, 1, "");
    args[1 + i] = LLVMBuildLoad2(ir, b->ptr, slot, "");
  }
  LLVMBuildCall2(ir, LLVMGlobalGetValueType(run), run, args, (unsigned)nargs, "");
  LLVMBuildRetVoid(ir);
  LLVMDisposeBuilder(ir);
  free(args);
  return f;
}

/* The C entry point NAME(weights, inputs..., states..., outputs...) over plain
 * pointers, calling NAME_impl, which takes each buffer as an MLIR memref
 * descriptor spelled out: (allocated, aligned, offset, sizes..., strides...).
 * Buffers never overlap (the header says so): the aligned pointers, the only ones
 * dereferenced, are noalias. */
static tdm_status bare_entry(desc_builder *b, const tdm_entry *e, uint64_t blob_size, LLVMValueRef *out) {
  char sym[300];
  snprintf(sym, sizeof sym, "%s_impl", e->symbol);
  LLVMValueRef impl = LLVMGetNamedFunction(b->mod, sym);
  if (!impl) return TDM_INTERNAL("the lowered module has no %s", sym);
  int nbuf = 1 + e->ninputs + e->nstates + e->noutputs;
  LLVMTypeRef *params = calloc((size_t)nbuf, sizeof *params);
  LLVMValueRef *args = calloc((size_t)(nbuf * (3 + 2 * TDM_MAX_RANK)), sizeof *args);
  unsigned *aligned = calloc((size_t)nbuf, sizeof *aligned);
  if (!params || !args || !aligned) {
    free(params), free(args), free(aligned);
    return TDM_INTERNAL("out of memory");
  }
  for (int i = 0; i < nbuf; i++) params[i] = b->ptr;
  LLVMValueRef f = LLVMAddFunction(b->mod, e->symbol, LLVMFunctionType(LLVMVoidTypeInContext(b->ctx), params, (unsigned)nbuf, 0));
  LLVMBuilderRef ir = LLVMCreateBuilderInContext(b->ctx);
  LLVMPositionBuilderAtEnd(ir, LLVMAppendBasicBlockInContext(b->ctx, f, "entry"));
  unsigned nargs = 0;
  for (int i = 0; i < nbuf; i++) {
    const tdm_type *t = NULL;
    tdm_type weights = {TANDEM_DTYPE_U8, {1, {(int64_t)blob_size}}};
    if (i == 0) t = &weights;
    else if (i <= e->ninputs) t = &e->inputs[i - 1].type;
    else if (i <= e->ninputs + e->nstates) t = &e->states[i - 1 - e->ninputs].type;
    else t = &e->outputs[i - 1 - e->ninputs - e->nstates].type;
    int64_t stride[TDM_MAX_RANK], st = 1;
    for (int d = t->shape.rank - 1; d >= 0; d--) stride[d] = st, st *= t->shape.dim[d];
    LLVMValueRef p = LLVMGetParam(f, (unsigned)i);
    aligned[i] = nargs + 1;
    args[nargs++] = p;
    args[nargs++] = p;
    args[nargs++] = LLVMConstInt(b->i64, 0, 0);
    for (int d = 0; d < t->shape.rank; d++) args[nargs++] = LLVMConstInt(b->i64, (unsigned long long)t->shape.dim[d], 0);
    for (int d = 0; d < t->shape.rank; d++) args[nargs++] = LLVMConstInt(b->i64, (unsigned long long)stride[d], 0);
  }
  if (nargs != LLVMCountParams(impl)) {
    LLVMDisposeBuilder(ir);
    free(params), free(args), free(aligned);
    return TDM_INTERNAL("%s takes %u arguments, expected %u", sym, LLVMCountParams(impl), nargs);
  }
  LLVMBuildCall2(ir, LLVMGlobalGetValueType(impl), impl, args, nargs, "");
  LLVMBuildRetVoid(ir);
  LLVMDisposeBuilder(ir);
  unsigned kind = LLVMGetEnumAttributeKindForName("noalias", 7);
  LLVMAttributeRef noalias = LLVMCreateEnumAttribute(b->ctx, kind, 0);
  for (unsigned i = 0; i < (unsigned)nbuf; i++) LLVMAddAttributeAtIndex(f, i + 1, noalias);
  for (int i = 0; i < nbuf; i++) LLVMAddAttributeAtIndex(impl, aligned[i] + 1, noalias);
  free(params);
  free(args);
  free(aligned);
  *out = f;
  return NULL;
}

static tdm_status verify(cg_module *m) {
  char *err = NULL;
  if (LLVMVerifyModule(m->mod, LLVMReturnStatusAction, &err)) {
    tdm_status st = TDM_INTERNAL("generated LLVM IR does not verify: %s", err ? err : "");
    LLVMDisposeMessage(err);
    return st;
  }
  LLVMDisposeMessage(err);
  return NULL;
}

/* The weights data as a 64-byte-aligned constant, or a null pointer. */
static LLVMValueRef embedded_weights(desc_builder *b, const cg_weights *w, int embed) {
  if (!embed) return LLVMConstNull(b->ptr);
  char sym[256];
  snprintf(sym, sizeof sym, "%s_weights", b->name);
  /* At least one byte, so that an empty blob still has an address. */
  const char *data = w->size ? (const char *)w->data : "";
  LLVMValueRef init = LLVMConstStringInContext2(b->ctx, data, w->size ? w->size : 1, 1);
  LLVMValueRef g = LLVMAddGlobal(b->mod, LLVMTypeOf(init), sym);
  LLVMSetInitializer(g, init);
  LLVMSetGlobalConstant(g, 1);
  LLVMSetAlignment(g, 64);
  return g;
}



tdm_status cg_add_descriptor(tdm_session *s, cg_module *m, const cg_weights *w, int embed,
                             int main_alias) {
  desc_builder b = {m->mod, m->ctx, LLVMInt32TypeInContext(m->ctx), LLVMInt64TypeInContext(m->ctx),
                    LLVMPointerTypeInContext(m->ctx, 0), s->model_name, 0};
  if (s->nentries != 1 || s->entries[0].nstates)
    return TDM_BAD("a model with several entry points or state (a KV cache) must be a language model");
  const tdm_entry *e = &s->entries[0];
  LLVMValueRef run;
  TDM_TRY(bare_entry(&b, e, w->size, &run));
  LLVMValueRef entry = entry_wrapper(&b, e, run);
  LLVMTypeRef tensor_ty;
  LLVMValueRef ins = tensor_descs(&b, e->inputs, e->ninputs, &tensor_ty);
  LLVMValueRef outs = tensor_descs(&b, e->outputs, e->noutputs, &tensor_ty);
  LLVMValueRef weights = embedded_weights(&b, w, embed);
  /* struct tandem_model_desc: i32 x4, ptr name, ptr inputs, ptr outputs, i64 size,
   * i64 hash, ptr embedded_weights, ptr entry */
  LLVMTypeRef f[11] = {b.i32, b.i32, b.i32, b.i32, b.ptr, b.ptr, b.ptr, b.i64, b.i64, b.ptr, b.ptr};
  LLVMTypeRef desc_ty = LLVMStructTypeInContext(m->ctx, f, 11, 0);
  LLVMValueRef v[11] = {
      LLVMConstInt(b.i32, TANDEM_ABI_VERSION, 0),
      LLVMConstInt(b.i32, (unsigned)e->ninputs, 0),
      LLVMConstInt(b.i32, (unsigned)e->noutputs, 0),
      LLVMConstInt(b.i32, 0, 0),
      cstring(&b, s->model_name),
      ins,
      outs,
      LLVMConstInt(b.i64, w->size, 0),
      LLVMConstInt(b.i64, w->hash, 0),
      weights,
      entry,
  };
  char sym[256];
  snprintf(sym, sizeof sym, "%s_desc", s->model_name);
  LLVMValueRef desc = LLVMAddGlobal(m->mod, desc_ty, sym);
  LLVMSetInitializer(desc, LLVMConstNamedStruct(desc_ty, v, 11));
  LLVMSetGlobalConstant(desc, 1);
  if (main_alias) LLVMAddAlias2(m->mod, desc_ty, 0, desc, "tandem_main_model");
  return verify(m);
}

/* Checks an LLM entry: (tokens [T] i32, pos i32; K, V caches; logits [T, vocab]). */
static tdm_status llm_entry(const tdm_session *s, const char *fname, int64_t *T, const tdm_type **cache,
                            int64_t *vocab) {
  const tdm_entry *e = tdm_session_entry(s, fname);
  if (!e) return TDM_BAD("an LLM module needs a @%s function", fname);
  if (e->ninputs != 2 || e->nstates != 2 || e->noutputs != 1 || e->inputs[0].type.shape.rank != 1 ||
      e->inputs[0].type.dtype != TANDEM_DTYPE_I32 || e->inputs[1].type.shape.rank != 0 ||
      e->states[0].type.shape.rank != 4 || e->outputs[0].type.shape.rank != 2)
    return TDM_BAD("LLM function @%s must take (tokens, pos, k_cache, v_cache) and return logits", fname);
  *T = e->inputs[0].type.shape.dim[0];
  *cache = &e->states[0].type;
  *vocab = e->outputs[0].type.shape.dim[1];
  return NULL;
}

tdm_status cg_add_llm_descriptor(tdm_session *s, cg_module *m, const cg_weights *w, int embed,
                                 int main_alias, const uint8_t *tokenizer, size_t tokenizer_size,
                                 int n_head) {
  desc_builder b = {m->mod, m->ctx, LLVMInt32TypeInContext(m->ctx), LLVMInt64TypeInContext(m->ctx),
                    LLVMPointerTypeInContext(m->ctx, 0), s->model_name, 0};
  int64_t T = 0, T1 = 0, vocab = 0, vocab1 = 0;
  const tdm_type *cache = NULL, *cache1 = NULL;
  TDM_TRY(llm_entry(s, "prefill", &T, &cache, &vocab));
  TDM_TRY(llm_entry(s, "decode", &T1, &cache1, &vocab1));
  if (T1 != 1 || vocab1 != vocab || !tdm_type_equal(cache, cache1))
    return TDM_BAD("the LLM's @prefill and @decode functions do not agree");
  LLVMValueRef prefill, decode;
  TDM_TRY(bare_entry(&b, tdm_session_entry(s, "prefill"), w->size, &prefill));
  TDM_TRY(bare_entry(&b, tdm_session_entry(s, "decode"), w->size, &decode));
  int64_t cache_bytes = (int64_t)tandem_dtype_size(cache->dtype); /* bytes */
  for (int i = 0; i < 4; i++) cache_bytes *= cache->shape.dim[i];
  LLVMValueRef tok = private_global(&b, LLVMConstStringInContext2(m->ctx, (const char *)tokenizer, tokenizer_size, 1), "tokenizer");
  /* struct tandem_llm_desc: i32 x8, ptr name, i64 cache_bytes, i64 weights_size,
   * i64 hash, ptr embedded_weights, ptr prefill, ptr decode, ptr tokenizer, i64 size */
  LLVMTypeRef f[17] = {b.i32, b.i32, b.i32, b.i32, b.i32, b.i32, b.i32, b.i32, b.ptr,
                       b.i64, b.i64, b.i64, b.ptr, b.ptr, b.ptr, b.ptr, b.i64};
  LLVMTypeRef desc_ty = LLVMStructTypeInContext(m->ctx, f, 17, 0);
  LLVMValueRef v[17] = {
      LLVMConstInt(b.i32, TANDEM_LLM_ABI_VERSION, 0),
      LLVMConstInt(b.i32, (unsigned long long)vocab, 0),
      LLVMConstInt(b.i32, (unsigned long long)cache->shape.dim[1], 0),
      LLVMConstInt(b.i32, (unsigned long long)cache->shape.dim[0], 0),
      LLVMConstInt(b.i32, (unsigned long long)n_head, 0),
      LLVMConstInt(b.i32, (unsigned long long)cache->shape.dim[2], 0),
      LLVMConstInt(b.i32, (unsigned long long)cache->shape.dim[3], 0),
      LLVMConstInt(b.i32, (unsigned long long)T, 0),
      cstring(&b, s->model_name),
      LLVMConstInt(b.i64, (unsigned long long)cache_bytes, 0),
      LLVMConstInt(b.i64, w->size, 0),
      LLVMConstInt(b.i64, w->hash, 0),
      embedded_weights(&b, w, embed),
      prefill,
      decode,
      tok,
      LLVMConstInt(b.i64, tokenizer_size, 0),
  };
  char sym[256];
  snprintf(sym, sizeof sym, "%s_llm", s->model_name);
  LLVMValueRef desc = LLVMAddGlobal(m->mod, desc_ty, sym);
  LLVMSetInitializer(desc, LLVMConstNamedStruct(desc_ty, v, 17));
  LLVMSetGlobalConstant(desc, 1);
  if (main_alias) LLVMAddAlias2(m->mod, desc_ty, 0, desc, "tandem_main_llm");
  return verify(m);
}

/* void SYMBOL(const void *weights, void *const *buffers): buffers are the entry's
 * inputs, states and outputs in that order (any count, for in-process callers). */
tdm_status cg_add_packed_entry(tdm_session *s, cg_module *m, const cg_weights *w, const char *function,
                               const char *symbol) {
  desc_builder b = {m->mod, m->ctx, LLVMInt32TypeInContext(m->ctx), LLVMInt64TypeInContext(m->ctx),
                    LLVMPointerTypeInContext(m->ctx, 0), s->model_name, 0};
  const tdm_entry *e = tdm_session_entry(s, function);
  if (!e) return TDM_INTERNAL("the lowered module has no @%s", function);
  LLVMValueRef run;
  TDM_TRY(bare_entry(&b, e, w->size, &run));
  LLVMTypeRef params[2] = {b.ptr, b.ptr};
  LLVMValueRef f = LLVMAddFunction(m->mod, symbol, LLVMFunctionType(LLVMVoidTypeInContext(m->ctx), params, 2, 0));
  LLVMBuilderRef ir = LLVMCreateBuilderInContext(m->ctx);
  LLVMPositionBuilderAtEnd(ir, LLVMAppendBasicBlockInContext(m->ctx, f, "entry"));
  int nargs = 1 + e->ninputs + e->nstates + e->noutputs;
  LLVMValueRef *args = calloc((size_t)nargs, sizeof *args);
  if (!args) {
    LLVMDisposeBuilder(ir);
    return TDM_INTERNAL("out of memory");
  }
  args[0] = LLVMGetParam(f, 0);
  for (int i = 1; i < nargs; i++) {
    LLVMValueRef idx = LLVMConstInt(b.i64, (unsigned long long)(i - 1), 0);
    LLVMValueRef slot = LLVMBuildGEP2(ir, b.ptr, LLVMGetParam(f, 1), &idx, 1, "");
    args[i] = LLVMBuildLoad2(ir, b.ptr, slot, "");
  }
  LLVMBuildCall2(ir, LLVMGlobalGetValueType(run), run, args, (unsigned)nargs, "");
  LLVMBuildRetVoid(ir);
  LLVMDisposeBuilder(ir);
  free(args);
  return verify(m);
}

tdm_status cg_optimize(cg_module *m, int opt_level) {
  char passes[32];
  snprintf(passes, sizeof passes, "default<O%d>", opt_level < 0 ? 0 : opt_level > 3 ? 3 : opt_level);
  LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
  LLVMErrorRef err = LLVMRunPasses(m->mod, passes, m->tm, opts);
  LLVMDisposePassBuilderOptions(opts);
  if (err) {
    char *msg = LLVMGetErrorMessage(err);
    tdm_status st = TDM_INTERNAL("LLVM %s failed: %s", passes, msg);
    LLVMDisposeErrorMessage(msg);
    return st;
  }
  return NULL;
}

tdm_status cg_write_llvm_ir(cg_module *m, FILE *fp, const char *path) {
  char *text = LLVMPrintModuleToString(m->mod);
  tdm_status st = tdm_write_all(fp, text, strlen(text), path);
  LLVMDisposeMessage(text);
  return st;
}

tdm_status cg_emit_object(cg_module *m, uint8_t **out_data, size_t *out_size) {
  *out_data = NULL;
  LLVMMemoryBufferRef buf = NULL;
  char *err = NULL;
  if (LLVMTargetMachineEmitToMemoryBuffer(m->tm, m->mod, LLVMObjectFile, &err, &buf)) {
    tdm_status st = TDM_INTERNAL("object emission failed: %s", err ? err : "");
    LLVMDisposeMessage(err);
    return st;
  }
  *out_size = LLVMGetBufferSize(buf);
  *out_data = malloc(*out_size ? *out_size : 1);
  if (*out_data) memcpy(*out_data, LLVMGetBufferStart(buf), *out_size);
  LLVMDisposeMemoryBuffer(buf);
  return *out_data ? NULL : TDM_INTERNAL("out of memory");
}
