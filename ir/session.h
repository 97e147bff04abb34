/* A compile session: the MLIR context, the weight store, captured diagnostics.
 *
 * The weight store is the set of files that `tdm.weight` ops point into (mapped
 * read-only, never copied until the blob is written) and, once codegen has run,
 * the layout of the weights blob: where each distinct weight lands. Passes receive
 * the session as their user data. */
#ifndef TANDEM_IR_SESSION_H
#define TANDEM_IR_SESSION_H

#include <stdint.h>

#include "ir/tdm.h"
#include "mlir-c/Diagnostics.h"
#include "support/fileio.h"

#define TDM_MAX_WEIGHT_FILES 16
#define TDM_WEIGHT_ALIGN 64

/* A source of weight bytes: a mapped file, or a buffer derived at compile time
 * (a transposed or concatenated weight) that exists only in the compiler. */
typedef struct tdm_weight_file {
  char *path;          /* absolute; NULL for a derived buffer */
  tdm_mapped_file map; /* the bytes (for a derived buffer, `owned`) */
  uint8_t *owned;
  char *key;           /* derived: the recipe, so equal recipes share a buffer */
} tdm_weight_file;

/* One distinct weight in the blob. */
typedef struct tdm_weight_slot {
  int file;
  uint64_t offset, size; /* bytes in the source file */
  uint64_t blob_offset;  /* in the weights data section, TDM_WEIGHT_ALIGN-aligned */
} tdm_weight_slot;

/* A model input, state or output as a compiled entry point sees it. */
typedef struct tdm_io_tensor {
  char *name; /* owned */
  tdm_type type;
} tdm_io_tensor;

/* A compiled entry point: NAME_<function> (NAME_run for a lone @main), taking
 * (weights, inputs..., states..., outputs...). States are buffers the caller
 * keeps between calls and the model updates in place (an LLM's KV cache). */
typedef struct tdm_entry {
  char *function; /* the graph function's name (owned) */
  char *symbol;   /* the object's symbol (owned) */
  tdm_io_tensor *inputs, *states, *outputs;
  int ninputs, nstates, noutputs;
} tdm_entry;

#define TDM_MAX_ENTRIES 8

/* Counts in the graph function that runs once per generated token (@decode for an
 * LLM, else the first function), before layer-parallel and after fuse-gemm. */
typedef struct tdm_lp_stats {
  int pairs;                        /* pairs rewritten */
  int gemms_before, gemms_after;    /* tdm.matmul ops */
  int syncs_before, syncs_after;    /* points where the residual stream must be whole: one per
                                     * residual add, one per branch kind of a pair */
} tdm_lp_stats;

typedef struct tdm_session {
  MlirContext ctx;
  tdm_weight_file *files; /* source files first (their indices are the IR's), then derived */
  int nfiles, cap_files;
  tdm_weight_slot *slots;
  int nslots, cap_slots;
  uint64_t blob_size;
  strbuf diag; /* the first error MLIR reported, one line with its location */
  MlirDiagnosticHandlerID diag_handler;
  tdm_status pass_error; /* the first error one of our passes returned */
  char model_name[128];  /* C identifier prefixing the object's symbols */
  int vector_bits;       /* the target's widest vectors (256: AVX2, 512: AVX-512) */
  int llm_ctx;           /* LLMs: KV cache positions (0: the frontend's default) */
  int llm_prefill;       /* LLMs: tokens per prefill call (0: default) */
  /* Layer parallelism (passes/layer_parallel.c): layers [lp_start, lp_end) of the
   * residual stream run as pairs (lp_start, lp_start + 1), ...; equal: none. */
  int lp_start, lp_end;
  int no_fuse_gemm;      /* --fuse-gemm=off: passes/fuse_gemm.c leaves the graph alone */
  int kv_f16;            /* LLMs: --kv-type=f16, the KV cache in IEEE halves */
  int gemm_mlir;         /* --gemm=mlir: matmuls by dense f32 weights as MLIR's contraction,
                          * not tdm_gemm_f32 (codegen/lower_graph.c) */
  const char *weights_type; /* --weights-type: the encoding GGUF matrices are stored in
                             * ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1"); NULL: keep */
  tdm_lp_stats lp_stats; /* what the two passes did, for the summary and report */
  /* The entry points' signatures, recorded by lower-graph. */
  tdm_entry entries[TDM_MAX_ENTRIES];
  int nentries;
} tdm_session;

tdm_status tdm_session_create(tdm_session **out);
void tdm_session_destroy(tdm_session *s);

/* Maps `path` (once per distinct file) and returns its index. */
tdm_status tdm_session_add_weight_file(tdm_session *s, const char *path, int *out_index);
/* Adds a derived buffer (takes ownership of `data`) under `key`. */
tdm_status tdm_session_add_derived(tdm_session *s, const char *key, uint8_t *data, size_t size,
                                   int *out_index);
/* The derived buffer made from `key`, or -1. */
int tdm_session_find_derived(const tdm_session *s, const char *key);
/* Module attribute tdm.weight_files <-> the session's (source) files. */
void tdm_session_store_weight_files(tdm_session *s, MlirModule m);
tdm_status tdm_session_load_weight_files(tdm_session *s, MlirModule m, const char *mlir_path);
/* Checks that a weight lies inside its file. */
tdm_status tdm_session_check_weight(tdm_session *s, int64_t file, int64_t offset,
                                    int64_t size);
/* Places a weight in the blob (deduplicated) and returns its blob offset. */
tdm_status tdm_session_place_weight(tdm_session *s, int file, uint64_t offset, uint64_t size,
                                    uint64_t *out_blob_offset);
void tdm_session_reset_layout(tdm_session *s);
/* Records an entry point (everything is copied). */
tdm_status tdm_session_add_entry(tdm_session *s, const tdm_entry *e);
void tdm_session_clear_entries(tdm_session *s);
/* The entry point lowered from graph function `function`, or NULL. */
const tdm_entry *tdm_session_entry(const tdm_session *s, const char *function);

/* A status for an MLIR failure: the captured diagnostic, or `what` if none. */
tdm_status tdm_session_failure(tdm_session *s, tdm_exit exit_class, const char *what);
void tdm_session_clear_diag(tdm_session *s);

#endif
