/* A hand-written stand-in for a model compiled by tandemc, used to test the runtime
 * without the compiler.
 *
 *   inputs:  x: f32[1,16], n: i32[1]
 *   outputs: y: f32[1,16] = x * w + 1 + n[0]   (w: 16 floats from the weights)
 *            z: i64[2]    = {2 * n[0], number of x > 0}
 *   weights: w (64 bytes) then "abc", 67 bytes, so the hash's tail path is used too.
 */
#ifndef TANDEM_TESTS_FAKE_MODEL_H
#define TANDEM_TESTS_FAKE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "tandem/runtime.h"

#define FAKE_N 16
#define FAKE_WEIGHTS_SIZE 67u
/* tandem_weights_hash of the weights, computed by an independent implementation of
 * the documented algorithm (also a check that the hash is stable). */
#define FAKE_WEIGHTS_HASH 0x344a864ead4b48d6ull

extern const tandem_model_desc fake_desc;          /* weights from a file */
extern const tandem_model_desc fake_desc_embedded; /* the same, --embed-weights */
extern const tandem_model_desc fake_desc_bare;     /* no weights: y = 2x, f32[4] */

/* The weights data section, 64-byte aligned, FAKE_WEIGHTS_SIZE bytes. */
const void *fake_weights(void);

/* How to write a weights file; fake_weights_file() gives a correct one. */
typedef struct fake_weights_file {
  const char *magic; /* 8 bytes */
  uint32_t version;
  uint32_t data_offset;
  uint64_t data_size;
  uint64_t data_hash;
  long truncate_to; /* < 0: the full file */
  long flip_byte;   /* < 0: none; else this byte of the data section is inverted */
} fake_weights_file;

fake_weights_file fake_weights_file_good(void);
/* 0 on success. */
int fake_weights_write(const char *path, const fake_weights_file *spec);

void fake_reference(const float *x, int32_t n, float *y, int64_t *z);

#endif
