/* From the LLVM dialect to files: LLVM IR, objects, the weights blob, the header,
 * static libraries and executables. One phase, one call. */
#ifndef TANDEM_CODEGEN_CODEGEN_H
#define TANDEM_CODEGEN_CODEGEN_H

#include <stdio.h>

#include "ir/session.h"
#include "llvm-c/Core.h"
#include "llvm-c/TargetMachine.h"

/* The weights blob: every placed weight copied out of its source file. */
typedef struct cg_weights {
  uint8_t *data; /* blob_size bytes (owned), NULL when empty */
  uint64_t size;
  uint64_t hash; /* tandem_weights_hash(data, size) */
} cg_weights;

tdm_status cg_weights_build(const tdm_session *s, cg_weights *out);
void cg_weights_free(cg_weights *w);
/* A complete model.weights file: header + page-aligned data. */
tdm_status cg_weights_write(const cg_weights *w, FILE *fp, const char *path);

typedef struct cg_target {
  const char *cpu; /* NULL or "host": this machine's CPU and features */
  int opt_level;   /* 0..3 */
  int exact_activations; /* --dynamic-quant=off: q8_0/q4_0/q4_1 products keep x in f32 */
} cg_target;

/* The widest vector registers `target` has: 512 (AVX-512), 256 (AVX2) or 128. */
int cg_vector_bits(const cg_target *target);

/* A compiled module: the LLVM context, module and target machine it lives in. */
typedef struct cg_module {
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMTargetMachineRef tm;
} cg_module;

/* Translates the LLVM-dialect module into LLVM IR for `target`. */
tdm_status cg_translate(tdm_session *s, MlirModule module, const cg_target *target,
                        cg_module *out);
/* Adds NAME_desc (the runtime's descriptor), NAME_entry, and when asked the
 * embedded weights and the tandem_main_model alias an executable's main() uses. */
tdm_status cg_add_descriptor(tdm_session *s, cg_module *m, const cg_weights *w, int embed,
                             int main_alias);
/* For an LLM (@prefill and @decode over a KV cache): NAME_llm, the runtime's
 * tandem_llm_desc (include/tandem/llm.h), with the serialized tokenizer, and the
 * tandem_main_llm alias an LLM executable's main() uses. */
tdm_status cg_add_llm_descriptor(tdm_session *s, cg_module *m, const cg_weights *w, int embed,
                                 int main_alias, const uint8_t *tokenizer, size_t tokenizer_size,
                                 int n_head);
/* SYMBOL(weights, buffers[]) calling graph function `function`'s entry, with every
 * input, state and output in one pointer array: for loading in process. */
tdm_status cg_add_packed_entry(tdm_session *s, cg_module *m, const cg_weights *w, const char *function,
                               const char *symbol);
/* Compiled code loaded into this process (codegen/inprocess.c). */
typedef void (*cg_packed_fn)(const void *weights, void *const *buffers);
typedef struct cg_loaded {
  void *handle;      /* dlopen's */
  cg_packed_fn fn;   /* see cg_add_packed_entry */
  cg_weights weights;
} cg_loaded;

/* Compiles `module` (in the LLVM dialect, lowered from graph function `function`)
 * for `target` and loads it. */
tdm_status cg_load_in_process(tdm_session *s, MlirModule module, const cg_target *target, const char *function,
                              cg_loaded *out);
void cg_loaded_close(cg_loaded *l); /* a zeroed one is fine */

/* Links the block-weight kernels (codegen/kernel_link.c) into the module when its
 * code calls them, specialised for `target`; cg_translate does this. */
tdm_status cg_link_kernels(cg_module *m, const cg_target *target);

/* Runs LLVM's default<Ox> pipeline. */
tdm_status cg_optimize(cg_module *m, int opt_level);
tdm_status cg_write_llvm_ir(cg_module *m, FILE *fp, const char *path);
/* The object file bytes (caller frees). */
tdm_status cg_emit_object(cg_module *m, uint8_t **out_data, size_t *out_size);
void cg_module_dispose(cg_module *m);

/* The C header describing the compiled model. */
tdm_status cg_header_write(const tdm_session *s, const cg_weights *w, int embedded,
                           const char *weights_file, const char *source, FILE *fp,
                           const char *path);

/* The names of the symbols the module defines with external linkage (for an
 * archive's index); the caller frees the array and the names. */
tdm_status cg_module_global_symbols(cg_module *m, char ***out_names, int *out_count);

/* The header of an LLM object: the tandem_llm_desc and the entry points. */
tdm_status cg_llm_header_write(const tdm_session *s, const cg_weights *w, int embedded,
                               const char *weights_file, const char *source, FILE *fp,
                               const char *path);

/* A deterministic ar archive (GNU format) with one member and a symbol index. */
tdm_status cg_archive_write(FILE *fp, const char *path, const char *member_name,
                            const uint8_t *obj, size_t obj_size, char *const *symbols,
                            int nsymbols);

/* Links an executable from an object with the runtime's libtandem_main.a (or, for
 * an LLM, libtandem_llm_main.a and PCRE2) and libtandem_runtime.a, using the system
 * C compiler as the linker driver. */
/* Links a shared object from one object file (with libm; no runtime needed). */
tdm_status cg_link_shared(const char *obj_path, const char *out_path);

tdm_status cg_link_executable(const char *obj_path, const char *out_path, int llm);

#endif
