/* tandem runtime: run a model compiled by tandemc.
 *
 * A compiled model is an object (model.o, or a static library) that defines one
 * `const tandem_model_desc NAME_desc`, plus a weights file (model.weights) unless it
 * was compiled with --embed-weights. This library opens the model (mmaps and checks its
 * weights), runs it on caller-provided or runtime-allocated buffers, and closes it.
 *
 * Conventions
 *   - Errors are values: every fallible call returns a tandem_status, NULL on success.
 *     A non-NULL status owns a message; release it with tandem_status_free().
 *     Nothing in this library calls exit() or abort() on bad input.
 *   - Ownership is in the name: *_open and *_alloc give the caller something to
 *     *_close or *_free; out-parameters are set to NULL first and stay NULL on failure.
 *   - An allocator may be passed wherever memory is allocated; NULL means malloc/free.
 */
#ifndef TANDEM_RUNTIME_H
#define TANDEM_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TANDEM_ABI_VERSION 1u

/* ---- Element types ---------------------------------------------------------- */

typedef enum tandem_dtype {
  TANDEM_DTYPE_F32 = 0,
  TANDEM_DTYPE_F16,
  TANDEM_DTYPE_BF16,
  TANDEM_DTYPE_I8,
  TANDEM_DTYPE_U8,
  TANDEM_DTYPE_I32,
  TANDEM_DTYPE_I64,
  TANDEM_DTYPE_BOOL,
  TANDEM_DTYPE_COUNT
} tandem_dtype;

/* "f32", "f16", ...; "?" for an out-of-range value. */
const char *tandem_dtype_name(int32_t dtype);
/* Bytes per element; 0 for an out-of-range value. */
size_t tandem_dtype_size(int32_t dtype);

/* ---- What a compiled object exports (the ABI between tandemc and this library) --
 * The layout is fixed by TANDEM_ABI_VERSION: tandemc writes these structures into
 * the object with exactly these field types and order. */

typedef struct tandem_tensor_desc {
  const char *name;      /* the tensor's name in the source model */
  int32_t dtype;         /* tandem_dtype */
  int32_t rank;
  const int64_t *shape;  /* [rank] */
  uint64_t byte_size;    /* product(shape) * dtype size */
} tandem_tensor_desc;

/* Runs the model once. weights: the weights data section (64-byte aligned);
 * inputs/outputs: one buffer per tensor, dense row-major, 64-byte alignment advised. */
typedef void (*tandem_entry_fn)(const void *weights, const void *const *inputs,
                                void *const *outputs);

typedef struct tandem_model_desc {
  uint32_t abi_version;          /* TANDEM_ABI_VERSION */
  uint32_t input_count;
  uint32_t output_count;
  uint32_t reserved;             /* 0 */
  const char *name;              /* NAME, as in NAME_desc */
  const tandem_tensor_desc *inputs;   /* [input_count] */
  const tandem_tensor_desc *outputs;  /* [output_count] */
  uint64_t weights_size;         /* bytes in the weights data section */
  uint64_t weights_hash;         /* tandem_weights_hash() of those bytes */
  const void *embedded_weights;  /* the data section if --embed-weights, else NULL */
  tandem_entry_fn entry;
} tandem_model_desc;

/* ---- Weights file --------------------------------------------------------------
 * model.weights = a 4096-byte header, then the data section (page-aligned):
 *   0  char magic[8] = "TNDMWGT1"
 *   8  u32 version = 1
 *  12  u32 data_offset = 4096
 *  16  u64 data_size
 *  24  u64 data_hash (tandem_weights_hash of the data section)
 *  32  zeros up to data_offset
 * All integers little-endian. */
#define TANDEM_WEIGHTS_MAGIC "TNDMWGT1"
#define TANDEM_WEIGHTS_VERSION 1u
#define TANDEM_WEIGHTS_DATA_OFFSET 4096u

/* 64-bit content hash used for the weights data; stable across machines. */
uint64_t tandem_weights_hash(const void *data, size_t size);

/* ---- Status --------------------------------------------------------------------- */

typedef enum tandem_status_code {
  TANDEM_OK = 0,
  TANDEM_INVALID_ARGUMENT,   /* a caller's argument or input is wrong (shape, dtype, ...) */
  TANDEM_NOT_FOUND,          /* a file does not exist */
  TANDEM_IO_ERROR,           /* a read, write or mmap failed */
  TANDEM_DATA_LOSS,          /* a file is truncated or corrupt */
  TANDEM_FAILED_PRECONDITION,/* e.g. weights from another model (hash mismatch) */
  TANDEM_OUT_OF_MEMORY,
  TANDEM_INTERNAL,
  TANDEM_STATUS_CODE_COUNT
} tandem_status_code;

typedef struct tandem_status_s *tandem_status; /* NULL means OK */

tandem_status_code tandem_status_code_of(tandem_status status); /* TANDEM_OK for NULL */
const char *tandem_status_code_name(tandem_status_code code);
const char *tandem_status_message(tandem_status status);        /* "" for NULL */
void tandem_status_free(tandem_status status);                  /* NULL is fine */

/* ---- Allocator ------------------------------------------------------------------ */

typedef struct tandem_allocator {
  void *self;
  /* Returns memory aligned to `alignment` (a power of two), or NULL. */
  void *(*alloc)(void *self, size_t size, size_t alignment);
  void (*free)(void *self, void *ptr);
} tandem_allocator;

/* ---- Models --------------------------------------------------------------------- */

typedef struct tandem_model tandem_model;

enum {
  /* Hash the whole weights data section at open and compare with the object's
   * hash (the header's hash and size are always checked). */
  TANDEM_OPEN_VERIFY_WEIGHTS = 1u << 0,
};

typedef struct tandem_open_options {
  /* Path of the weights file. Ignored (may be NULL) when the model has embedded
   * weights or none at all (weights_size 0); required otherwise. */
  const char *weights_path;
  uint32_t flags;  /* TANDEM_OPEN_* */
} tandem_open_options;

/* Opens `desc` (borrowed; must outlive the model). Maps the weights read-only.
 * `allocator` may be NULL; it is copied and used for everything the model allocates. */
tandem_status tandem_model_open(const tandem_model_desc *desc,
                                const tandem_open_options *options,
                                const tandem_allocator *allocator,
                                tandem_model **out_model);

/* Runs the model. inputs: desc->input_count buffers (borrowed). outputs: NULL, or
 * desc->output_count entries; a NULL entry (or a NULL array) means "write into the
 * model's own buffer", read back with tandem_model_output(). One run at a time per
 * model; run neither allocates nor makes system calls (open did all of that). */
tandem_status tandem_model_run(tandem_model *model, const void *const *inputs,
                               void *const *outputs);

/* The model's own buffer for output `index` (valid until close); NULL if out of range. */
void *tandem_model_output(tandem_model *model, uint32_t index);
const tandem_model_desc *tandem_model_describe(const tandem_model *model);
void tandem_model_close(tandem_model *model); /* NULL is fine */

/* ---- NumPy .npy files ------------------------------------------------------------ */

typedef struct tandem_array {
  int32_t dtype;
  int32_t rank;
  int64_t shape[8];
  uint64_t byte_size;
  void *data;  /* 64-byte aligned, owned; release with tandem_array_free */
} tandem_array;

/* Reads any .npy (v1-v3, little-endian, C order) of a supported dtype, rank <= 8. */
tandem_status tandem_npy_read(const char *path, const tandem_allocator *allocator,
                              tandem_array *out_array);
/* Reads a .npy and checks that its dtype and shape are exactly `expect`'s. */
tandem_status tandem_npy_read_expect(const char *path, const tandem_tensor_desc *expect,
                                     const tandem_allocator *allocator,
                                     tandem_array *out_array);
void tandem_array_free(tandem_array *array, const tandem_allocator *allocator);
/* Writes `data` (desc->byte_size bytes) as a v1 .npy; the file appears only complete.
 * bf16, which .npy lacks, is written as '<f4' (exact). */
tandem_status tandem_npy_write(const char *path, const tandem_tensor_desc *desc,
                               const void *data);

/* ---- Threads ------------------------------------------------------------------------
 * A compiled model's kernels (the matrix products by quantised or half weights, and
 * attention) split their rows or heads over a pool of threads that this library
 * starts on first use and keeps. Results do not depend on the number of threads.
 * A model linked without this library (a shared object loaded by a program that
 * lacks it) runs on the calling thread; linked with libtandem_runtime.a, the pool
 * comes in with tandem_model_open or the drivers. */

/* A task runs items [begin, end) of a region. */
typedef void (*tandem_task_fn)(void *ctx, int64_t begin, int64_t end);
/* Runs fn over items [0, items), which the threads take a few at a time, and returns
 * when all are done; fn must compute each item independently of how the items are
 * grouped. Called from inside a task, it runs on that thread. */
void tandem_parallel_for(int64_t items, tandem_task_fn fn, void *ctx);
/* Threads for the regions to come, the caller included: 1 runs everything on the
 * caller; 0 restores the default (TANDEM_NUM_THREADS, else the cores this process may
 * use, both read once, at the first use). Returns the count now in effect. Call it
 * between model runs. */
int tandem_set_threads(int threads);
int tandem_threads(void);
/* Regions run on more than one thread since the process started. */
uint64_t tandem_parallel_regions(void);

/* ---- The driver of a compiled executable ------------------------------------------
 * `model --input=@x.npy [--input=@y.npy ...] [--output=@out.npy ...] [--weights=PATH]`
 * Returns the process exit status (0 ok, 1 bad input, 2 usage). */
int tandem_driver_main(const tandem_model_desc *desc, int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif /* TANDEM_RUNTIME_H */
