/* Calls of the kernels (codegen/kernels/qkernels.h, attention.h) from lowered code.
 *
 * A matmul by a block-encoded weight, or a gather of its rows, becomes a helper on
 * memrefs that passes the buffers' aligned pointers to the C kernel: the kernel is
 * LLVM bitcode that codegen/kernel_link.c links in later, where LLVM inlines it.
 * The helper, not the entry function, takes the pointers out of the memrefs, so
 * that the buffers stay alive (for buffer deallocation) until the call is over. */
#include <stdio.h>
#include <string.h>

#include "codegen/kernels/rows.h"
#include "codegen/lower.h"

static const char *const encodings[] = {"q8_0", "q4_0", "q4_1", "f16", "bf16", "q8_0x8", "q4_0x8", "q4_1x8"};
#define NENC (int)(sizeof encodings / sizeof encodings[0])

static int encoding_index(const char *enc) {
  for (int i = 0; i < NENC; i++)
    if (strcmp(enc, encodings[i]) == 0) return i;
  return -1;
}

/* The pointer of memref argument `arg` (of type `ty`) as %<arg>p: !llvm.ptr. */
static void pointer_of(strbuf *b, const char *arg, const char *ty) {
  sb_printf(b, "    %%%si = memref.extract_aligned_pointer_as_index %%%s : %s -> index\n", arg, arg, ty);
  sb_printf(b, "    %%%sw = arith.index_cast %%%si : index to i64\n", arg, arg);
  sb_printf(b, "    %%%sp = llvm.inttoptr %%%sw : i64 to !llvm.ptr\n", arg, arg);
}

static tdm_status finish(lw_helpers *hs, const char *what, strbuf *b, const char **out_name) {
  if (sb_failed(b)) {
    sb_free(b);
    return TDM_INTERNAL("out of memory");
  }
  tdm_status st = lw_intern_text(hs, what, b, out_name);
  sb_free(b);
  return st;
}

/* The memref type of `t`, as text, into out[n]. */
static void memref_text(const tdm_type *t, char *out, size_t n) {
  strbuf s;
  sb_init(&s);
  lw_memref_type(&s, t);
  snprintf(out, n, "%s", sb_str(&s));
  sb_free(&s);
}

static void types_of(const tdm_type *x, uint64_t wbytes, const tdm_type *y, char *tx, char *tw, char *ty, size_t n) {
  memref_text(x, tx, n);
  memref_text(y, ty, n);
  snprintf(tw, n, "memref<%lluxi8>", (unsigned long long)wbytes);
}

/* The start of a helper over three memrefs: its arguments, and each one's pointer as
 * %<name>p. */
static void begin3(strbuf *b, const char *n0, const char *t0, const char *n1, const char *t1, const char *n2,
                   const char *t2) {
  sb_printf(b, "(%%%s: %s, %%%s: %s, %%%s: %s) {\n", n0, t0, n1, t1, n2, t2);
  pointer_of(b, n0, t0);
  pointer_of(b, n1, t1);
  pointer_of(b, n2, t2);
}

/* begin3 for memrefs of these types. */
static void begin3_of(strbuf *b, const char *n0, const tdm_type *t0, const char *n1, const tdm_type *t1, const char *n2,
                      const tdm_type *t2) {
  char a0[256], a1[256], a2[256];
  memref_text(t0, a0, sizeof a0);
  memref_text(t1, a1, sizeof a1);
  memref_text(t2, a2, sizeof a2);
  begin3(b, n0, a0, n1, a1, n2, a2);
}

/* The start of a helper (%x: memref of X, %y: memref of Y), their pointers %xp, %yp. */
static void begin_xy(strbuf *b, const tdm_type *x, const tdm_type *y) {
  char tx[256], ty[256];
  memref_text(x, tx, sizeof tx);
  memref_text(y, ty, sizeof ty);
  sb_printf(b, "(%%x: %s, %%y: %s) {\n", tx, ty);
  pointer_of(b, "x", tx);
  pointer_of(b, "y", ty);
}

/* i64 constants %a0 .. %a<n-1>. */
static void i64_args(strbuf *b, const int64_t *v, int n) {
  for (int i = 0; i < n; i++) sb_printf(b, "    %%a%d = arith.constant %lld : i64\n", i, (long long)v[i]);
}

static int64_t numel_of(const tdm_type *t) {
  int64_t n = 1;
  for (int d = 0; d < t->shape.rank; d++) n *= t->shape.dim[d];
  return n;
}

/* kernels_used: bits 0..NENC-1 qmatmul, NENC..2*NENC-1 qgather, then attention f32,
 * f16, the dense f32 GEMM, the batched one, and the row-wise kernels. */
#define ATTENTION_BIT (2 * NENC)
#define GEMM_F32_BIT (ATTENTION_BIT + 2)
#define BMM_F32_BIT (ATTENTION_BIT + 3)
#define ROWS_BIT (ATTENTION_BIT + 4) /* softmax, swish, mvn, copy, binary, swiglu, sum */

/* A helper "tdm.WHAT.N" (x, w, y) calling `callee`(x, w, y, M, N, K): y = x . W, x [..., K]. */
static tdm_status matmul_helper(lw_helpers *hs, const char *what, const char *callee, const tdm_type *x, uint64_t wbytes,
                                const tdm_type *y, const char **out_name) {
  int64_t K = x->shape.dim[x->shape.rank - 1], N = y->shape.dim[y->shape.rank - 1], M = 1;
  for (int d = 0; d + 1 < x->shape.rank; d++) M *= x->shape.dim[d];
  char tx[256], tw[64], ty[256];
  types_of(x, wbytes, y, tx, tw, ty, sizeof tx);
  strbuf b;
  sb_init(&b);
  begin3(&b, "x", tx, "w", tw, "y", ty);
  sb_printf(&b, "    %%m = arith.constant %lld : i64\n    %%n = arith.constant %lld : i64\n"
                "    %%k = arith.constant %lld : i64\n", (long long)M, (long long)N, (long long)K);
  sb_printf(&b, "    func.call @%s(%%xp, %%wp, %%yp, %%m, %%n, %%k) : "
                "(!llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64) -> ()\n    return\n  }", callee);
  return finish(hs, what, &b, out_name);
}

tdm_status lw_qmatmul_helper(lw_helpers *hs, const char *enc, const tdm_type *x, uint64_t wbytes, const tdm_type *y,
                             const char **out_name) {
  int e = encoding_index(enc);
  if (e < 0) return TDM_INTERNAL("no kernel for weight encoding '%s'", enc);
  char callee[32];
  snprintf(callee, sizeof callee, "tdm_qmatmul_%s", enc);
  hs->kernels_used |= 1u << e;
  return matmul_helper(hs, "qmatmul", callee, x, wbytes, y, out_name);
}

tdm_status lw_gemm_f32_helper(lw_helpers *hs, const tdm_type *x, uint64_t wbytes, const tdm_type *y,
                              const char **out_name) {
  hs->kernels_used |= 1u << GEMM_F32_BIT;
  return matmul_helper(hs, "gemm", "tdm_gemm_f32", x, wbytes, y, out_name);
}

tdm_status lw_bmm_f32_helper(lw_helpers *hs, const tdm_type *a, const tdm_type *b, const tdm_type *y,
                             const char **out_name) {
  int r = y->shape.rank;
  int64_t batch = 1, M = y->shape.dim[r - 2], N = y->shape.dim[r - 1], K = a->shape.dim[r - 1];
  for (int d = 0; d + 2 < r; d++) batch *= y->shape.dim[d];
  strbuf s;
  sb_init(&s);
  begin3_of(&s, "a", a, "b", b, "y", y);
  const char *names[4] = {"bt", "m", "n", "k"};
  int64_t vals[4] = {batch, M, N, K};
  for (int i = 0; i < 4; i++) sb_printf(&s, "    %%%s = arith.constant %lld : i64\n", names[i], (long long)vals[i]);
  sb_puts(&s, "    func.call @tdm_bmm_f32(%ap, %bp, %yp, %bt, %m, %n, %k) : "
              "(!llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, i64) -> ()\n    return\n  }");
  hs->kernels_used |= 1u << BMM_F32_BIT;
  return finish(hs, "bmm", &s, out_name);
}

/* An f32 as MLIR text that reads back exactly. */
static void f32_const(strbuf *b, const char *name, double v) {
  float f = (float)v;
  uint32_t bits;
  memcpy(&bits, &f, 4);
  sb_printf(b, "    %%%s = arith.constant 0x%08X : f32\n", name, bits);
}

static const char *const row_kernels[7] = {"softmax", "swish", "mvn", "copy", "binary", "swiglu", "sum"};

tdm_status lw_rows_helper(lw_helpers *hs, tdm_op_kind kind, const tdm_attrs *a, const tdm_type *x, const tdm_type *y,
                          const char **out_name) {
  int k = kind == TDM_OP_SOFTMAX ? 0 : kind == TDM_OP_SWISH ? 1 : kind == TDM_OP_MVN ? 2
        : kind == TDM_OP_REDUCE_SUM || kind == TDM_OP_REDUCE_MEAN ? 6 : -1;
  if (k < 0) return TDM_INTERNAL("no row-wise kernel for this op");
  int64_t count = numel_of(x), n = x->shape.rank ? x->shape.dim[x->shape.rank - 1] : 1;
  strbuf b;
  sb_init(&b);
  begin_xy(&b, x, y);
  if (k == 1) {
    sb_printf(&b, "    %%c = arith.constant %lld : i64\n", (long long)count);
    f32_const(&b, "beta", a->beta);
    sb_puts(&b, "    func.call @tdm_rows_swish_f32(%xp, %yp, %c, %beta) : (!llvm.ptr, !llvm.ptr, i64, f32) -> ()\n");
  } else {
    sb_printf(&b, "    %%r = arith.constant %lld : i64\n    %%n = arith.constant %lld : i64\n",
              (long long)(n ? count / n : 0), (long long)n);
    if (k == 0) {
      sb_puts(&b, "    func.call @tdm_rows_softmax_f32(%xp, %yp, %r, %n) : (!llvm.ptr, !llvm.ptr, i64, i64) -> ()\n");
    } else if (k == 6) {
      f32_const(&b, "scale", kind == TDM_OP_REDUCE_MEAN && n ? 1.0 / (double)n : 1.0);
      sb_puts(&b, "    func.call @tdm_rows_sum_f32(%xp, %yp, %r, %n, %scale) : "
                  "(!llvm.ptr, !llvm.ptr, i64, i64, f32) -> ()\n");
    } else {
      int flags = (a->normalize_variance ? TDM_MVN_VARIANCE : 0) |
                  (strcmp(a->eps_mode, "inside_sqrt") == 0 ? TDM_MVN_INSIDE_SQRT : 0);
      f32_const(&b, "eps", a->eps);
      sb_printf(&b, "    %%f = arith.constant %d : i64\n", flags);
      sb_puts(&b, "    func.call @tdm_rows_mvn_f32(%xp, %yp, %r, %n, %eps, %f) : "
                  "(!llvm.ptr, !llvm.ptr, i64, i64, f32, i64) -> ()\n");
    }
  }
  sb_puts(&b, "    return\n  }");
  hs->kernels_used |= 1u << (ROWS_BIT + k);
  return finish(hs, row_kernels[k], &b, out_name);
}

tdm_status lw_rows_copy_helper(lw_helpers *hs, const tdm_type *x, const tdm_type *y, const int64_t d[3],
                               const int64_t st[3], int64_t base, int64_t inner, const char **out_name) {
  strbuf b;
  sb_init(&b);
  begin_xy(&b, x, y);
  int64_t v[8] = {d[0], d[1], d[2], st[0], st[1], st[2], base, inner};
  i64_args(&b, v, 8);
  sb_puts(&b, "    func.call @tdm_rows_copy_f32(%xp, %yp, %a0, %a1, %a2, %a3, %a4, %a5, %a6, %a7) : (!llvm.ptr, "
              "!llvm.ptr, i64, i64, i64, i64, i64, i64, i64, i64) -> ()\n    return\n  }");
  hs->kernels_used |= 1u << (ROWS_BIT + 3);
  return finish(hs, "copy", &b, out_name);
}

tdm_status lw_rows_binary_helper(lw_helpers *hs, tdm_op_kind kind, const tdm_type *a, const tdm_type *bt,
                                 const tdm_type *y, const char **out_name) {
  int op = kind == TDM_OP_ADD ? TDM_ROWS_ADD : kind == TDM_OP_SUB ? TDM_ROWS_SUB : kind == TDM_OP_MUL ? TDM_ROWS_MUL
         : kind == TDM_OP_DIV ? TDM_ROWS_DIV : -1;
  if (op < 0) return TDM_INTERNAL("no element-wise kernel for this op");
  strbuf b;
  sb_init(&b);
  begin3_of(&b, "a", a, "b", bt, "y", y);
  int64_t v[3] = {numel_of(y), numel_of(bt), op};
  i64_args(&b, v, 3);
  sb_puts(&b, "    func.call @tdm_rows_binary_f32(%ap, %bp, %yp, %a0, %a1, %a2) : "
              "(!llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64) -> ()\n    return\n  }");
  hs->kernels_used |= 1u << (ROWS_BIT + 4);
  return finish(hs, "binary", &b, out_name);
}

tdm_status lw_rows_swiglu_helper(lw_helpers *hs, double beta, const tdm_type *g, const tdm_type *u, const tdm_type *y,
                                 const int64_t off[2], const int64_t stride[2], const char **out_name) {
  int64_t count = numel_of(y), n = y->shape.rank ? y->shape.dim[y->shape.rank - 1] : 1;
  strbuf b;
  sb_init(&b);
  begin3_of(&b, "g", g, "u", u, "y", y);
  int64_t v[6] = {n ? count / n : 0, n, off[0], stride[0], off[1], stride[1]};
  i64_args(&b, v, 6);
  f32_const(&b, "beta", beta);
  sb_puts(&b, "    func.call @tdm_rows_swiglu_f32(%gp, %up, %yp, %a0, %a1, %a2, %a3, %a4, %a5, %beta) : (!llvm.ptr, "
              "!llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, i64, f32) -> ()\n    return\n  }");
  hs->kernels_used |= 1u << (ROWS_BIT + 5);
  return finish(hs, "swiglu", &b, out_name);
}

tdm_status lw_qgather_helper(lw_helpers *hs, const char *enc, const tdm_type *ids, uint64_t wbytes, int64_t N,
                             const tdm_type *out, const char **out_name) {
  int e = encoding_index(enc);
  if (e < 0) return TDM_INTERNAL("no kernel for weight encoding '%s'", enc);
  int64_t K = out->shape.dim[out->shape.rank - 1], T = 1;
  for (int d = 0; d < ids->shape.rank; d++) T *= ids->shape.dim[d];
  char ti[256], tw[64], to[256];
  types_of(ids, wbytes, out, ti, tw, to, sizeof ti);
  strbuf b;
  sb_init(&b);
  begin3(&b, "w", tw, "ids", ti, "o", to);
  sb_printf(&b, "    %%t = arith.constant %lld : i64\n    %%n = arith.constant %lld : i64\n"
                "    %%k = arith.constant %lld : i64\n", (long long)T, (long long)N, (long long)K);
  sb_printf(&b, "    func.call @tdm_qgather_%s(%%wp, %%idsp, %%op, %%t, %%n, %%k) : "
                "(!llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64) -> ()\n    return\n  }", enc);
  hs->kernels_used |= 1u << (NENC + e);
  return finish(hs, "qgather", &b, out_name);
}

void lw_attention_signature(strbuf *sb, int64_t T, int64_t H, int64_t Hkv, int64_t D, int64_t L, int64_t C,
                            int kv_f16) {
  const char *et = kv_f16 ? "f16" : "f32";
  sb_printf(sb, "(memref<%lldx%lldx%lldxf32>, memref<%lldx%lldx%lldxf32>, memref<%lldx%lldx%lldxf32>, "
                "memref<%lldx%lldx%lldx%lldx%s>, memref<%lldx%lldx%lldx%lldx%s>, index, memref<%lldx%lldx%lldxf32>)",
            (long long)T, (long long)H, (long long)D, (long long)T, (long long)Hkv, (long long)D,
            (long long)T, (long long)Hkv, (long long)D, (long long)L, (long long)C, (long long)Hkv,
            (long long)D, et, (long long)L, (long long)C, (long long)Hkv, (long long)D, et, (long long)T,
            (long long)H, (long long)D);
}

tdm_status lw_attention_helper(lw_helpers *hs, int64_t T, int64_t H, int64_t Hkv, int64_t D, int64_t L,
                               int64_t C, int kv_f16, int64_t layer, double scale, const char **out_name) {
  if (D > 1024) return TDM_BAD("attention head size %lld: at most 1024 is supported", (long long)D);
  const char *et = kv_f16 ? "f16" : "f32";
  char tq[64], tk[64], tc[80];
  snprintf(tq, sizeof tq, "memref<%lldx%lldx%lldxf32>", (long long)T, (long long)H, (long long)D);
  snprintf(tk, sizeof tk, "memref<%lldx%lldx%lldxf32>", (long long)T, (long long)Hkv, (long long)D);
  snprintf(tc, sizeof tc, "memref<%lldx%lldx%lldx%lldx%s>", (long long)L, (long long)C, (long long)Hkv,
           (long long)D, et);
  float sc = (float)scale;
  uint32_t bits;
  memcpy(&bits, &sc, 4);
  strbuf b;
  sb_init(&b);
  sb_printf(&b, "(%%q: %s, %%k: %s, %%v: %s, %%kc: %s, %%vc: %s, %%pos: index, %%o: %s) {\n", tq, tk, tk, tc, tc, tq);
  pointer_of(&b, "q", tq);
  pointer_of(&b, "k", tk);
  pointer_of(&b, "v", tk);
  pointer_of(&b, "kc", tc);
  pointer_of(&b, "vc", tc);
  pointer_of(&b, "o", tq);
  sb_printf(&b, "    %%p = arith.index_cast %%pos : index to i64\n");
  const char *names[6] = {"t", "h", "hkv", "d", "c", "layer"};
  int64_t vals[6] = {T, H, Hkv, D, C, layer};
  for (int i = 0; i < 6; i++) sb_printf(&b, "    %%%s = arith.constant %lld : i64\n", names[i], (long long)vals[i]);
  sb_printf(&b, "    %%scale = arith.constant 0x%08X : f32\n", bits);
  sb_printf(&b, "    func.call @tdm_attention_%s(%%qp, %%kp, %%vp, %%kcp, %%vcp, %%p, %%op, %%t, %%h, %%hkv, %%d, %%c, "
                "%%layer, %%scale) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, !llvm.ptr, i64, i64, "
                "i64, i64, i64, i64, f32) -> ()\n    return\n  }", et);
  hs->kernels_used |= 1u << (ATTENTION_BIT + kv_f16);
  return finish(hs, "attention", &b, out_name);
}

void lw_print_kernel_decls(const lw_helpers *hs, strbuf *out) {
  for (int i = 0; i < 2 * NENC; i++)
    if (hs->kernels_used & (1u << i))
      sb_printf(out, "  func.func private @tdm_%s_%s(!llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64)\n",
                i < NENC ? "qmatmul" : "qgather", encodings[i % NENC]);
  for (int f16 = 0; f16 < 2; f16++)
    if (hs->kernels_used & (1u << (ATTENTION_BIT + f16)))
      sb_printf(out, "  func.func private @tdm_attention_%s(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i64, "
                "!llvm.ptr, i64, i64, i64, i64, i64, i64, f32)\n", f16 ? "f16" : "f32");
  if (hs->kernels_used & (1u << GEMM_F32_BIT))
    sb_puts(out, "  func.func private @tdm_gemm_f32(!llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64)\n");
  if (hs->kernels_used & (1u << BMM_F32_BIT))
    sb_puts(out, "  func.func private @tdm_bmm_f32(!llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, i64)\n");
  static const char *const row_args[7] = {"i64, i64", "i64, f32", "i64, i64, f32, i64",
                                          "i64, i64, i64, i64, i64, i64, i64, i64", "!llvm.ptr, i64, i64, i64",
                                          "!llvm.ptr, i64, i64, i64, i64, i64, i64, f32", "i64, i64, f32"};
  for (int k = 0; k < 7; k++)
    if (hs->kernels_used & (1u << (ROWS_BIT + k)))
      sb_printf(out, "  func.func private @tdm_rows_%s_f32(!llvm.ptr, !llvm.ptr, %s)\n", row_kernels[k], row_args[k]);
}
