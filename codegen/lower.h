/* Lowering graph ops to linalg/arith/math/tensor, as MLIR text.
 *
 * Each graph op becomes a call to a private helper function whose body is written
 * from a template (codegen/lower_ops.c); identical helpers are emitted once, and
 * the calls stay calls (no_inline): a 30-layer model compiles each distinct helper
 * once. Only the scalar math library (@tdm.exp...) is inlined, into the loops that
 * use it. Writing templates as text keeps each lowering readable as the IR it
 * produces. */
#ifndef TANDEM_CODEGEN_LOWER_H
#define TANDEM_CODEGEN_LOWER_H

#include "ir/tdm.h"
#include "support/strbuf.h"

/* One helper function under construction. */
typedef struct lw_helper {
  strbuf body;  /* the function body (without braces) */
  int next_id;  /* next %sN */
  int nargs;
  tdm_type args[256];
  tdm_type result;
} lw_helper;

/* The helpers of a module, deduplicated by their full text. */
typedef struct lw_helpers {
  char **texts;  /* "(...) -> ... { ... }" */
  char **names;
  int n, cap;
  int next_contraction; /* contraction tags handed out */
  int vector_bits;      /* sizes the contraction tiles to the register file */
  unsigned kernels_used; /* block-weight and attention kernels called (lower_kernels.c) */
} lw_helpers;

void lw_helpers_free(lw_helpers *hs);
/* Writes every helper as "func.func private @name..." into `out`. */
void lw_helpers_print(const lw_helpers *hs, strbuf *out);

/* Lowers one graph op (not weight/constant, which the entry function handles) to a
 * helper taking the op's operands, and returns the helper's name in *out_name
 * (owned by `hs`). `attrs` are the op's attributes. */
tdm_status lw_lower_op(lw_helpers *hs, tdm_op_kind kind, const tdm_type *operands, int n,
                       const tdm_attrs *attrs, const tdm_type *result, int packed_b,
                       const char **out_name);

/* For a matmul whose B is known at compile time: the panel width w to pack B
 * [K, N] into [N / w, K, w] (then pass packed_b and that type to lw_lower_op),
 * or 0 when this matmul is not worth packing. */
int lw_pack_width(const lw_helpers *hs, const tdm_type *a, const tdm_type *b, const tdm_attrs *at);

/* The helper (on memrefs) that lowers tdm.attention for these sizes: it takes
 * (q, k, v, k_cache, v_cache, pos: index, out), calls the attention kernel
 * (codegen/kernels/attention.h, lower_kernels.c) and so updates the caches in place.
 * The caches hold f32 or, with kv_f16, halves. lw_attention_signature prints its
 * function type. */
tdm_status lw_attention_helper(lw_helpers *hs, int64_t T, int64_t H, int64_t Hkv, int64_t D, int64_t L,
                               int64_t C, int kv_f16, int64_t layer, double scale, const char **out_name);
void lw_attention_signature(strbuf *sb, int64_t T, int64_t H, int64_t Hkv, int64_t D, int64_t L, int64_t C,
                            int kv_f16);

/* Adds a helper's text ("(args) -> result { body }") once; equal texts share a name,
 * "tdm.WHAT.N", returned in *out_name (owned by `hs`). */
tdm_status lw_intern_text(lw_helpers *hs, const char *what, strbuf *text, const char **out_name);

/* Helpers calling the block-weight kernels (codegen/kernels/qkernels.h) on memrefs;
 * `enc` is the weight's storage encoding, `wbytes` its size in the blob.
 *   qmatmul (x: memref of X, w: memref<WBYTESxi8>, y: memref of Y): y = x . W^T,
 *     x [..., K], W [N, K], y [..., N];
 *   qgather (w: memref<WBYTESxi8>, ids: memref of IDS (i32), out: memref of OUT):
 *     rows ids of W [N, K], OUT = IDS's dims + [K]. */
tdm_status lw_qmatmul_helper(lw_helpers *hs, const char *enc, const tdm_type *x, uint64_t wbytes, const tdm_type *y,
                             const char **out_name);
/* y = x . Wt by tdm_gemm_f32, Wt [K, N] a dense f32 weight of wbytes bytes. */
tdm_status lw_gemm_f32_helper(lw_helpers *hs, const tdm_type *x, uint64_t wbytes, const tdm_type *y,
                              const char **out_name);
/* y = a . b by tdm_bmm_f32: a [..., M, K], b [..., K, N], y [..., M, N], the same
 * leading (batch) dims, all f32. */
tdm_status lw_bmm_f32_helper(lw_helpers *hs, const tdm_type *a, const tdm_type *b, const tdm_type *y,
                             const char **out_name);
tdm_status lw_qgather_helper(lw_helpers *hs, const char *enc, const tdm_type *ids, uint64_t wbytes, int64_t N,
                             const tdm_type *out, const char **out_name);
/* (x: memref of X, y: memref of Y) by a row-wise kernel (codegen/kernels/rows.h):
 * softmax, MVN, a sum or mean over X's last axis, or swish, f32, with the op's
 * attributes. */
tdm_status lw_rows_helper(lw_helpers *hs, tdm_op_kind kind, const tdm_attrs *a, const tdm_type *x, const tdm_type *y,
                          const char **out_name);
/* (x: memref of X, y: memref of Y) by tdm_rows_copy_f32 with these dims and strides. */
tdm_status lw_rows_copy_helper(lw_helpers *hs, const tdm_type *x, const tdm_type *y, const int64_t d[3],
                               const int64_t st[3], int64_t base, int64_t inner, const char **out_name);
/* (a: memref of A, b: memref of B, y: memref of Y) by tdm_rows_binary_f32: add, sub,
 * mul or div, B of Y's shape or a single element. */
tdm_status lw_rows_binary_helper(lw_helpers *hs, tdm_op_kind kind, const tdm_type *a, const tdm_type *b,
                                 const tdm_type *y, const char **out_name);
/* (g: memref of G, u: memref of U, y: memref of Y) by tdm_rows_swiglu_f32: y =
 * swish(g, beta) * u, row r of g at off[0] + r * stride[0] in G (u likewise), rows of
 * Y's last dim. */
tdm_status lw_rows_swiglu_helper(lw_helpers *hs, double beta, const tdm_type *g, const tdm_type *u, const tdm_type *y,
                                 const int64_t off[2], const int64_t stride[2], const char **out_name);
/* Declarations of the kernels the helpers call. */
void lw_print_kernel_decls(const lw_helpers *hs, strbuf *out);

/* Scalar math helpers every module may call (@tdm.exp, @tdm.erf, @tdm.tanh). */
void lw_print_math_library(strbuf *out);

/* MLIR spellings of types as the lowered code uses them (ui8 becomes i8). */
const char *lw_elem(int32_t dtype);
void lw_tensor_type(strbuf *sb, const tdm_type *t);
void lw_memref_type(strbuf *sb, const tdm_type *t);

#endif
