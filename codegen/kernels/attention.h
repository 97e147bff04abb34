/* Attention over a model's KV cache (attention.c): the kernel tdm.attention lowers to
 * (codegen/lower_ops.c), linked into the model as bitcode like the block-weight
 * kernels (codegen/kernel_link.c).
 *
 * q [T, H, D], k and v [T, Hkv, D], o [T, H, D]: f32, row-major. The caches are
 * [layers, C, Hkv, D] in f32 or IEEE half (tdm_attention_f16). The call writes k and v
 * into slots pos..pos+T-1 of layer `layer`, then for each token t and head h (sharing
 * the cache head h / (H / Hkv)):
 *   o[t, h] = sum_j softmax_j(scale * q[t, h] . K[j]) V[j]   over slots j = 0..pos + t.
 * Requires 0 <= pos, pos + T <= C and D <= 1024 (else it does nothing). */
#ifndef TANDEM_CODEGEN_KERNELS_ATTENTION_H
#define TANDEM_CODEGEN_KERNELS_ATTENTION_H

#include <stdint.h>

void tdm_attention_f32(const float *q, const float *k, const float *v, float *kc, float *vc, int64_t pos, float *o,
                       int64_t T, int64_t H, int64_t Hkv, int64_t D, int64_t C, int64_t layer, float scale);
void tdm_attention_f16(const float *q, const float *k, const float *v, uint16_t *kc, uint16_t *vc, int64_t pos,
                       float *o, int64_t T, int64_t H, int64_t Hkv, int64_t D, int64_t C, int64_t layer, float scale);

#endif
