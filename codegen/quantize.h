/* Weight encodings at compile time: decoding to f32 and encoding from it (the block
 * formats are described in codegen/kernels/qkernels.h). */
#ifndef TANDEM_CODEGEN_QUANTIZE_H
#define TANDEM_CODEGEN_QUANTIZE_H

#include "ir/tdm.h"

/* Decodes `numel` elements stored in `encoding` ("f32", "f16", "bf16", "q8_0", "q4_0",
 * "q4_1") into f32. */
tdm_status qz_dequantize(const char *encoding, const uint8_t *src, int64_t numel, float *dst);

/* Encodes `numel` floats (a multiple of 32 for the block formats) into `encoding`;
 * `dst` holds tdm_encoding_bytes(encoding, numel) bytes. Each block's scale (and
 * minimum) is stored as a half, and the quantised values are rounded against that
 * stored scale, so decoding gives the nearest values the block can hold. */
tdm_status qz_quantize(const char *encoding, const float *src, int64_t numel, uint8_t *dst);

/* The x8 form of a q8_0, q4_0 or q4_1 matrix [N, K] (qkernels.h: eight rows' blocks as
 * one record, for decode's kernels): its encoding's name ("q4_1x8"), NULL for any
 * other encoding, and its size in bytes (N rounded up to eight rows). */
const char *qz_x8_encoding(const char *encoding);
uint64_t qz_x8_bytes(const char *encoding, int64_t N, int64_t K);

/* Repacks `src` ([N, K] in `encoding`) into dst, qz_x8_bytes(encoding, N, K) bytes. */
tdm_status qz_repack_x8(const char *encoding, const uint8_t *src, int64_t N, int64_t K, uint8_t *dst);

#endif
