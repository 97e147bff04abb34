/* GGUF (llama.cpp's model format), read from a mapped file.
 *
 * Every length, count and offset the file declares is checked against the file's
 * size before it is used, so a short or hostile file gets an error, never a read
 * past the mapping or a huge allocation. Strings and arrays point into the map. */
#ifndef TANDEM_FRONTEND_GGUF_H
#define TANDEM_FRONTEND_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "support/status.h"

enum {
  GGUF_UINT8 = 0, GGUF_INT8, GGUF_UINT16, GGUF_INT16, GGUF_UINT32, GGUF_INT32,
  GGUF_FLOAT32, GGUF_BOOL, GGUF_STRING, GGUF_ARRAY, GGUF_UINT64, GGUF_INT64, GGUF_FLOAT64,
  GGUF_TYPE_COUNT
};

/* ggml tensor types tandem reads. */
enum {
  GGML_F32 = 0, GGML_F16 = 1, GGML_Q4_0 = 2, GGML_Q4_1 = 3, GGML_Q8_0 = 8, GGML_BF16 = 30,
};

typedef struct gguf_str {
  const char *data; /* not NUL-terminated */
  uint64_t len;
} gguf_str;

typedef struct gguf_kv {
  gguf_str key;
  uint32_t type;       /* GGUF_* */
  uint32_t elem_type;  /* arrays: the element type */
  uint64_t count;      /* arrays: the element count */
  const uint8_t *data; /* the value (for arrays: the first element) */
  const uint8_t **items; /* arrays of strings: where each string starts (owned) */
  union {
    uint64_t u;
    int64_t i;
    double f;
    gguf_str s;
  } v;                 /* scalars and strings, decoded */
} gguf_kv;

typedef struct gguf_tensor {
  gguf_str name;
  uint32_t n_dims;
  uint64_t ne[4];     /* ne[0] is the contiguous dimension */
  uint32_t type;      /* GGML_* */
  uint64_t offset;    /* absolute, in the file */
  uint64_t size;      /* bytes */
} gguf_tensor;

typedef struct gguf_file {
  const char *path;
  const uint8_t *data;
  size_t size;
  uint32_t version;
  uint64_t n_kv, n_tensors;
  gguf_kv *kv;         /* owned */
  gguf_tensor *tensors;/* owned */
  uint32_t alignment;
  uint64_t data_offset;
} gguf_file;

/* Parses the header, metadata and tensor infos of `data` (the whole file). On failure
 * nothing is left allocated (gguf_free is still safe to call). */
tdm_status gguf_parse(const char *path, const uint8_t *data, size_t size, gguf_file *out);
void gguf_free(gguf_file *f);

const gguf_kv *gguf_find(const gguf_file *f, const char *key);
const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name);
/* Typed getters: fail naming the key when it is missing or of another type. */
tdm_status gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out);
tdm_status gguf_get_f32(const gguf_file *f, const char *key, float *out);
/* The i-th string of an array of strings (bounds already checked by gguf_parse). */
gguf_str gguf_array_str(const gguf_kv *kv, uint64_t i);
int gguf_str_eq(gguf_str s, const char *c);

/* Block layout of a ggml type: elements per block and bytes per block. */
int gguf_type_block(uint32_t type, uint64_t *elems, uint64_t *bytes);
const char *gguf_type_name(uint32_t type);

#endif
