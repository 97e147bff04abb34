/* The block-weight kernels (codegen/kernels/qkernels.c) in a model's LLVM module.
 *
 * tandemc carries the kernels as LLVM bitcode compiled for no CPU in particular.
 * When the lowered code calls one, the bitcode is linked into the module; its
 * functions lose clang's target attributes (emit_llvm.c gives every function the
 * model's CPU and features afterwards) and become internal, so that LLVM inlines
 * them into their callers and optimises them for the target, and two models linked
 * into one program do not clash. Two facts about the target become constants the
 * kernels branch on (tdm_kernel_f16c, tdm_kernel_vector_bits), so that LLVM keeps
 * only the code for this target; so do two facts about the compile: whether decode
 * quantises x (tdm_kernel_dynamic_quant, --dynamic-quant) and whether the x86 AVX2
 * part (qkernels_x86.c, a bitcode of its own) is linked in (tdm_kernel_avx2). */
#include <string.h>

#include "codegen/codegen.h"
#include "llvm-c/BitReader.h"
#include "llvm-c/Linker.h"

extern const char tdm_qkernels_bc[]; /* codegen/kernels/qkernels.c as bitcode, embedded */
extern const unsigned long tdm_qkernels_bc_size;
extern const char tdm_qkernels_x86_bc[]; /* codegen/kernels/qkernels_x86.c (AVX2) */
extern const unsigned long tdm_qkernels_x86_bc_size;
extern const char tdm_rows_bc[]; /* codegen/kernels/rows.c */
extern const unsigned long tdm_rows_bc_size;
extern const char tdm_attention_bc[]; /* codegen/kernels/attention.c */
extern const unsigned long tdm_attention_bc_size;

static int has_prefix(LLVMValueRef f, const char *prefix) {
  size_t n, p = strlen(prefix);
  const char *name = LLVMGetValueName2(f, &n);
  return n > p && strncmp(name, prefix, p) == 0;
}

/* tdm_q*, tdm_gemm_*, tdm_bmm_*: qkernels.c; tdm_attention_*: attention.c; tdm_rows_*: rows.c. */
static int is_kernel(LLVMValueRef f) {
  return has_prefix(f, "tdm_q") || has_prefix(f, "tdm_gemm_") || has_prefix(f, "tdm_bmm_") ||
         has_prefix(f, "tdm_attention_") || has_prefix(f, "tdm_rows_");
}

/* Whether the module calls (declares) a function whose name starts with `prefix`. */
static int calls(LLVMModuleRef mod, const char *prefix) {
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
    if (LLVMIsDeclaration(f) && has_prefix(f, prefix)) return 1;
  return 0;
}

static void drop_target_attrs(LLVMModuleRef k) {
  static const char *const attrs[] = {"target-cpu", "target-features", "tune-cpu"};
  for (LLVMValueRef f = LLVMGetFirstFunction(k); f; f = LLVMGetNextFunction(f))
    for (int i = 0; i < 3; i++)
      LLVMRemoveStringAttributeAtIndex(f, LLVMAttributeFunctionIndex, attrs[i], (unsigned)strlen(attrs[i]));
}

/* Defines the kernels' `extern const int NAME` as an internal constant. */
static tdm_status define_knob(LLVMModuleRef mod, const char *name, int value) {
  LLVMValueRef g = LLVMGetNamedGlobal(mod, name);
  if (!g) return NULL; /* the kernels linked do not read it */
  LLVMTypeRef i32 = LLVMInt32TypeInContext(LLVMGetModuleContext(mod));
  if (LLVMGlobalGetValueType(g) != i32) return TDM_INTERNAL("kernel constant %s is not an i32", name);
  LLVMSetInitializer(g, LLVMConstInt(i32, (unsigned long long)value, 1));
  LLVMSetGlobalConstant(g, 1);
  LLVMSetLinkage(g, LLVMInternalLinkage);
  return NULL;
}

/* Links one embedded bitcode into the model, its kernels internal. */
static tdm_status link_bitcode(cg_module *m, const char *bc, unsigned long size, const char *what) {
  LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRange(bc, size, what, 0);
  LLVMModuleRef k = NULL;
  LLVMBool bad = LLVMParseBitcodeInContext2(m->ctx, buf, &k);
  LLVMDisposeMemoryBuffer(buf);
  if (bad) return TDM_INTERNAL("the embedded kernel bitcode %s does not load", what);
  LLVMSetTarget(k, LLVMGetTarget(m->mod));
  LLVMSetDataLayout(k, LLVMGetDataLayoutStr(m->mod));
  drop_target_attrs(k);
  if (LLVMLinkModules2(m->mod, k)) return TDM_INTERNAL("linking the kernel bitcode %s into the model failed", what);
  for (LLVMValueRef f = LLVMGetFirstFunction(m->mod); f; f = LLVMGetNextFunction(f))
    if (!LLVMIsDeclaration(f) && is_kernel(f)) LLVMSetLinkage(f, LLVMInternalLinkage);
  return NULL;
}

tdm_status cg_link_kernels(cg_module *m, const cg_target *target) {
  int blocks = calls(m->mod, "tdm_q"), gemm = calls(m->mod, "tdm_gemm_") || calls(m->mod, "tdm_bmm_"), attention = calls(m->mod, "tdm_attention_");
  int rows = calls(m->mod, "tdm_rows_");
  if (!blocks && !gemm && !attention && !rows) return NULL;
  if (blocks || gemm) TDM_TRY(link_bitcode(m, tdm_qkernels_bc, tdm_qkernels_bc_size, "qkernels.bc"));
  if (attention) TDM_TRY(link_bitcode(m, tdm_attention_bc, tdm_attention_bc_size, "attention.bc"));
  if (rows) TDM_TRY(link_bitcode(m, tdm_rows_bc, tdm_rows_bc_size, "rows.bc"));
  /* A named CPU's features are not listed by the C API: every CPU with AVX2 has F16C. */
  int bits = cg_vector_bits(target), f16c = bits >= 256;
  if (!target->cpu || strcmp(target->cpu, "host") == 0) {
    char *features = LLVMGetHostCPUFeatures();
    f16c = strstr(features, "+f16c") != NULL;
    LLVMDisposeMessage(features);
  }
  /* The AVX2 int8 kernels, for x86 targets that have it (cg_vector_bits: 256 or more
   * means AVX2), when decode quantises x. */
  const char *triple = LLVMGetTarget(m->mod);
  int avx2 = blocks && bits >= 256 && f16c && strncmp(triple, "x86_64", 6) == 0 && !target->exact_activations;
  if (avx2) TDM_TRY(link_bitcode(m, tdm_qkernels_x86_bc, tdm_qkernels_x86_bc_size, "qkernels_x86.bc"));
  TDM_TRY(define_knob(m->mod, "tdm_kernel_f16c", f16c));
  TDM_TRY(define_knob(m->mod, "tdm_kernel_avx2", avx2));
  TDM_TRY(define_knob(m->mod, "tdm_kernel_dynamic_quant", !target->exact_activations));
  return define_knob(m->mod, "tdm_kernel_vector_bits", bits);
}
