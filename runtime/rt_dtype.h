/* Internal helpers on element types and shapes: overflow-checked element counts,
 * "f32[1,16]"-style formatting, and reading one element of any dtype as a double
 * (f16 and bf16 decoded exactly). */
#ifndef TANDEM_RT_DTYPE_H
#define TANDEM_RT_DTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tandem/runtime.h"

/* Room for any rt_shape_format result that is not truncated (rank <= 8). */
#define RT_SHAPE_TEXT_MAX 256

/* product(shape) into *out_count; false on a negative dimension or an overflow of
 * 64 bits. rank 0 is a scalar (one element). */
bool rt_shape_count(int32_t rank, const int64_t *shape, uint64_t *out_count);
/* product(shape) * dtype size into *out_bytes; false on overflow or a bad dtype. */
bool rt_shape_bytes(int32_t dtype, int32_t rank, const int64_t *shape, uint64_t *out_bytes);
/* Writes "f32[1,16]" (a scalar is "f32[]") into buf, truncating with "..." if needed;
 * returns buf. */
char *rt_shape_format(char *buf, size_t cap, int32_t dtype, int32_t rank,
                      const int64_t *shape);

float rt_f16_to_f32(uint16_t bits);
float rt_bf16_to_f32(uint16_t bits);
/* Element `index` of a dense array of `dtype`, as a double (bool as 0 or 1). */
double rt_dtype_load_f64(int32_t dtype, const void *data, uint64_t index);
bool rt_dtype_is_float(int32_t dtype);

#endif
