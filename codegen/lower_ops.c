/* Templates: one graph op -> a private helper function of linalg/tensor/arith/math.
 *
 * Conventions inside a helper: arguments are %a0, %a1, ...; every other value is
 * %sN. Half-precision floats are computed in f32 (extf in, truncf out), as
 * OpenVINO's CPU plugin does. Elementwise ops are linalg.generic with numpy
 * broadcasting expressed in their indexing maps (a size-1 dim reads index 0);
 * contractions are linalg.generic ops tagged `tdm.contraction` with the tile sizes
 * the tile-and-vectorize pass will use. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/lower.h"

/* ---- Types ----------------------------------------------------------------------- */

const char *lw_elem(int32_t dtype) {
  return dtype == TANDEM_DTYPE_U8 ? "i8" : tdm_dtype_mlir_name(dtype);
}

static void shape_x(strbuf *sb, const tdm_type *t) {
  for (int i = 0; i < t->shape.rank; i++) sb_printf(sb, "%lldx", (long long)t->shape.dim[i]);
  sb_puts(sb, lw_elem(t->dtype));
}

void lw_tensor_type(strbuf *sb, const tdm_type *t) {
  sb_puts(sb, "tensor<");
  shape_x(sb, t);
  sb_puts(sb, ">");
}

void lw_memref_type(strbuf *sb, const tdm_type *t) {
  sb_puts(sb, "memref<");
  shape_x(sb, t);
  sb_puts(sb, ">");
}

static int is_half(int32_t d) { return d == TANDEM_DTYPE_F16 || d == TANDEM_DTYPE_BF16; }

/* ---- Writing helper bodies ---------------------------------------------------------- */

typedef struct { char s[24]; } name;

static name fresh(lw_helper *h) {
  name n;
  snprintf(n.s, sizeof n.s, "%%s%d", h->next_id++);
  return n;
}

static name arg(int i) {
  name n;
  snprintf(n.s, sizeof n.s, "%%a%d", i);
  return n;
}

#define EMIT(h, ...) sb_printf(&(h)->body, "    " __VA_ARGS__)

static void put_tensor(lw_helper *h, const tdm_type *t) { lw_tensor_type(&h->body, t); }

/* An f32 literal written as its bit pattern, so it round-trips exactly. */
static name const_f32(lw_helper *h, double v) {
  float f = (float)v;
  uint32_t bits;
  memcpy(&bits, &f, 4);
  name n = fresh(h);
  EMIT(h, "%s = arith.constant 0x%08X : f32\n", n.s, bits);
  return n;
}

static name const_int(lw_helper *h, long long v, const char *ty) {
  name n = fresh(h);
  EMIT(h, "%s = arith.constant %lld : %s\n", n.s, v, ty);
  return n;
}

static name op1(lw_helper *h, const char *op, name a, const char *ty) {
  name n = fresh(h);
  EMIT(h, "%s = %s %s : %s\n", n.s, op, a.s, ty);
  return n;
}

static name op2(lw_helper *h, const char *op, name a, name b, const char *ty) {
  name n = fresh(h);
  EMIT(h, "%s = %s %s, %s : %s\n", n.s, op, a.s, b.s, ty);
  return n;
}

static name cmp(lw_helper *h, const char *op, const char *pred, name a, name b, const char *ty) {
  name n = fresh(h);
  EMIT(h, "%s = %s %s, %s, %s : %s\n", n.s, op, pred, a.s, b.s, ty);
  return n;
}

static name select_(lw_helper *h, name c, name a, name b, const char *ty) {
  name n = fresh(h);
  EMIT(h, "%s = arith.select %s, %s, %s : %s\n", n.s, c.s, a.s, b.s, ty);
  return n;
}

static name cast(lw_helper *h, const char *op, name a, const char *from, const char *to) {
  name n = fresh(h);
  EMIT(h, "%s = %s %s : %s to %s\n", n.s, op, a.s, from, to);
  return n;
}

static name call1(lw_helper *h, const char *fn, name a) {
  name n = fresh(h);
  EMIT(h, "%s = func.call @%s(%s) : (f32) -> f32\n", n.s, fn, a.s);
  return n;
}

/* Scalar: value of dtype `d` -> its compute type, and back. */
static name widen(lw_helper *h, name v, int32_t d) {
  return is_half(d) ? cast(h, "arith.extf", v, lw_elem(d), "f32") : v;
}

static name narrow(lw_helper *h, name v, int32_t d) {
  return is_half(d) ? cast(h, "arith.truncf", v, "f32", lw_elem(d)) : v;
}

/* ---- Affine maps -------------------------------------------------------------------- */

static void map_dims(strbuf *sb, int rank) {
  sb_puts(sb, "affine_map<(");
  for (int i = 0; i < rank; i++) sb_printf(sb, i ? ", d%d" : "d%d", i);
  sb_puts(sb, ") -> (");
}

/* Operand of shape `in` read inside a loop nest over `out` (numpy broadcasting). */
static void map_broadcast(strbuf *sb, const tdm_shape *in, const tdm_shape *out) {
  map_dims(sb, out->rank);
  int off = out->rank - in->rank;
  for (int i = 0; i < in->rank; i++) {
    if (i) sb_puts(sb, ", ");
    if (in->dim[i] == 1 && out->dim[i + off] != 1) sb_puts(sb, "0");
    else sb_printf(sb, "d%d", i + off);
  }
  sb_puts(sb, ")>");
}

/* The loop dims of a `rank`-deep nest, minus those flagged in `dropped`. */
static void map_drop(strbuf *sb, int rank, const int *dropped) {
  map_dims(sb, rank);
  int first = 1;
  for (int i = 0; i < rank; i++) {
    if (dropped[i]) continue;
    sb_printf(sb, first ? "d%d" : ", d%d", i);
    first = 0;
  }
  sb_puts(sb, ")>");
}

static void iterators(strbuf *sb, int rank, const int *reduction) {
  sb_puts(sb, "iterator_types = [");
  for (int i = 0; i < rank; i++)
    sb_printf(sb, "%s\"%s\"", i ? ", " : "", reduction && reduction[i] ? "reduction" : "parallel");
  sb_puts(sb, "]");
}

/* ---- linalg.generic ----------------------------------------------------------------- */

typedef struct generic_in {
  name value;
  const tdm_type *type;
  int drop[TDM_MAX_RANK]; /* map_drop flags when `use_drop`, else broadcast map */
  int use_drop;
} generic_in;

/* Writes the body's scalar code given the block arguments; returns the yielded value. */
typedef name (*scalar_fn)(lw_helper *h, const name *args, const void *ctx);

/* A linalg.generic over `loops` (the output's shape for elementwise ops, more for
 * reductions). `out_drop` flags loop dims that the output does not have. */
static name generic(lw_helper *h, const generic_in *ins, int n, const tdm_type *out,
                    name init, const tdm_shape *loops, const int *reduction,
                    const int *out_drop, scalar_fn fn, const void *ctx) {
  strbuf *sb = &h->body;
  name res = fresh(h);
  EMIT(h, "%s = linalg.generic {indexing_maps = [", res.s);
  for (int i = 0; i < n; i++) {
    if (ins[i].use_drop) map_drop(sb, loops->rank, ins[i].drop);
    else map_broadcast(sb, &ins[i].type->shape, loops);
    sb_puts(sb, ", ");
  }
  int no_drop[TDM_MAX_RANK] = {0};
  map_drop(sb, loops->rank, out_drop ? out_drop : no_drop);
  sb_puts(sb, "], ");
  iterators(sb, loops->rank, reduction);
  sb_puts(sb, "}");
  if (n) {
    sb_puts(sb, " ins(");
    for (int i = 0; i < n; i++) sb_printf(sb, i ? ", %s" : "%s", ins[i].value.s);
    sb_puts(sb, " : ");
    for (int i = 0; i < n; i++) {
      if (i) sb_puts(sb, ", ");
      put_tensor(h, ins[i].type);
    }
    sb_puts(sb, ")");
  }
  sb_printf(sb, " outs(%s : ", init.s);
  put_tensor(h, out);
  sb_puts(sb, ") {\n");
  name args[TDM_MAX_RANK + 8];
  sb_puts(sb, "    ^bb0(");
  for (int i = 0; i <= n; i++) {
    args[i] = fresh(h);
    sb_printf(sb, "%s%s: %s", i ? ", " : "", args[i].s, lw_elem(i < n ? ins[i].type->dtype : out->dtype));
  }
  sb_puts(sb, "):\n");
  name y = fn(h, args, ctx);
  EMIT(h, "  linalg.yield %s : %s\n", y.s, lw_elem(out->dtype));
  EMIT(h, "} -> ");
  put_tensor(h, out);
  sb_puts(sb, "\n");
  return res;
}

static name empty(lw_helper *h, const tdm_type *t) {
  name n = fresh(h);
  EMIT(h, "%s = tensor.empty() : ", n.s);
  put_tensor(h, t);
  sb_puts(&h->body, "\n");
  return n;
}

/* A tensor of type `t` filled with the f32/int constant `value` (in t's type). */
static name filled(lw_helper *h, const tdm_type *t, double value) {
  name e = empty(h, t);
  name c;
  if (tdm_dtype_is_float(t->dtype)) {
    c = const_f32(h, value);
    c = narrow(h, c, t->dtype);
  } else {
    c = const_int(h, (long long)value, lw_elem(t->dtype));
  }
  name n = fresh(h);
  EMIT(h, "%s = linalg.fill ins(%s : %s) outs(%s : ", n.s, c.s, lw_elem(t->dtype), e.s);
  put_tensor(h, t);
  sb_puts(&h->body, ") -> ");
  put_tensor(h, t);
  sb_puts(&h->body, "\n");
  return n;
}

/* ---- Elementwise ops ------------------------------------------------------------------ */

typedef struct ew_ctx {
  tdm_op_kind kind;
  const tdm_attrs *attrs;
  int32_t in_dtype, out_dtype;
} ew_ctx;

static name float_binary(lw_helper *h, tdm_op_kind k, name a, name b) {
  switch (k) {
    case TDM_OP_ADD: return op2(h, "arith.addf", a, b, "f32");
    case TDM_OP_SUB: return op2(h, "arith.subf", a, b, "f32");
    case TDM_OP_MUL: return op2(h, "arith.mulf", a, b, "f32");
    case TDM_OP_DIV: return op2(h, "arith.divf", a, b, "f32");
    case TDM_OP_POW: return op2(h, "math.powf", a, b, "f32");
    case TDM_OP_MAX: return op2(h, "arith.maximumf", a, b, "f32");
    default: return op2(h, "arith.minimumf", a, b, "f32");
  }
}

/* Integer division truncates, as OpenVINO's CPU plugin does; x/0 gives 0 and
 * MIN/-1 wraps, instead of trapping. */
static name int_divide(lw_helper *h, name a, name b, int32_t d) {
  const char *ty = lw_elem(d);
  name zero = const_int(h, 0, ty), one = const_int(h, 1, ty);
  name is_zero = cmp(h, "arith.cmpi", "eq", b, zero, ty);
  name safe = select_(h, is_zero, one, b, ty);
  if (d == TANDEM_DTYPE_U8) {
    name q = op2(h, "arith.divui", a, safe, ty);
    return select_(h, is_zero, zero, q, ty);
  }
  name minus_one = const_int(h, -1, ty);
  name is_m1 = cmp(h, "arith.cmpi", "eq", b, minus_one, ty);
  name safe2 = select_(h, is_m1, one, safe, ty);
  name q = op2(h, "arith.divsi", a, safe2, ty);
  name neg = op2(h, "arith.subi", zero, a, ty);
  name r = select_(h, is_m1, neg, q, ty);
  return select_(h, is_zero, zero, r, ty);
}

static name int_binary(lw_helper *h, tdm_op_kind k, name a, name b, int32_t d) {
  const char *ty = lw_elem(d);
  int u = d == TANDEM_DTYPE_U8;
  switch (k) {
    case TDM_OP_ADD: return op2(h, "arith.addi", a, b, ty);
    case TDM_OP_SUB: return op2(h, "arith.subi", a, b, ty);
    case TDM_OP_MUL: return op2(h, "arith.muli", a, b, ty);
    case TDM_OP_DIV: return int_divide(h, a, b, d);
    case TDM_OP_POW: return op2(h, "math.ipowi", a, b, ty);
    case TDM_OP_MAX: return op2(h, u ? "arith.maxui" : "arith.maxsi", a, b, ty);
    default: return op2(h, u ? "arith.minui" : "arith.minsi", a, b, ty);
  }
}

static name sigmoid(lw_helper *h, name x) {
  name one = const_f32(h, 1.0);
  name neg = op1(h, "arith.negf", x, "f32");
  name e = call1(h, "tdm.exp", neg);
  name den = op2(h, "arith.addf", one, e, "f32");
  return op2(h, "arith.divf", one, den, "f32");
}

static name gelu(lw_helper *h, name x, int tanh_mode) {
  name half = const_f32(h, 0.5), one = const_f32(h, 1.0);
  name inner;
  if (tanh_mode) { /* tanh(sqrt(2/pi) * (x + 0.044715 x^3)) */
    name x3 = op2(h, "arith.mulf", op2(h, "arith.mulf", x, x, "f32"), x, "f32");
    name t = op2(h, "arith.addf", x, op2(h, "arith.mulf", const_f32(h, 0.044715), x3, "f32"), "f32");
    inner = call1(h, "tdm.tanh", op2(h, "arith.mulf", const_f32(h, 0.7978845608028654), t, "f32"));
  } else {
    inner = call1(h, "tdm.erf", op2(h, "arith.mulf", x, const_f32(h, 0.7071067811865476), "f32"));
  }
  name hx = op2(h, "arith.mulf", half, x, "f32");
  return op2(h, "arith.mulf", hx, op2(h, "arith.addf", one, inner, "f32"), "f32");
}

static name float_unary(lw_helper *h, const ew_ctx *c, name x) {
  switch (c->kind) {
    case TDM_OP_RELU: return op2(h, "arith.maximumf", x, const_f32(h, 0.0), "f32");
    case TDM_OP_SIGMOID: return sigmoid(h, x);
    case TDM_OP_TANH: return call1(h, "tdm.tanh", x);
    case TDM_OP_EXP: return call1(h, "tdm.exp", x);
    case TDM_OP_SQRT: return op1(h, "math.sqrt", x, "f32");
    case TDM_OP_GELU: return gelu(h, x, strcmp(c->attrs->approximation, "tanh") == 0);
    case TDM_OP_SWISH:
      return op2(h, "arith.mulf", x,
                 sigmoid(h, op2(h, "arith.mulf", const_f32(h, c->attrs->beta), x, "f32")), "f32");
    default: { /* clamp */
      name lo = const_f32(h, c->attrs->min), hi = const_f32(h, c->attrs->max);
      return op2(h, "arith.minimumf", op2(h, "arith.maximumf", x, lo, "f32"), hi, "f32");
    }
  }
}

static name int_unary(lw_helper *h, const ew_ctx *c, name x) {
  int32_t d = c->in_dtype;
  const char *ty = lw_elem(d);
  int u = d == TANDEM_DTYPE_U8;
  if (c->kind == TDM_OP_RELU)
    return u ? x : op2(h, "arith.maxsi", x, const_int(h, 0, ty), ty);
  /* clamp: integer bounds are ceil(min) and floor(max), limited to the type's range */
  double lim_lo = u ? 0 : d == TANDEM_DTYPE_I8 ? -128 : d == TANDEM_DTYPE_I32 ? -2147483648.0 : -9.2e18;
  double lim_hi = u ? 255 : d == TANDEM_DTYPE_I8 ? 127 : d == TANDEM_DTYPE_I32 ? 2147483647.0 : 9.2e18;
  double lo = fmax(ceil(c->attrs->min), lim_lo), hi = fmin(floor(c->attrs->max), lim_hi);
  name l = const_int(h, (long long)lo, ty), r = const_int(h, (long long)hi, ty);
  name t = op2(h, u ? "arith.maxui" : "arith.maxsi", x, l, ty);
  return op2(h, u ? "arith.minui" : "arith.minsi", t, r, ty);
}

static int int_width(int32_t d) {
  return d == TANDEM_DTYPE_I64 ? 64 : d == TANDEM_DTYPE_I32 ? 32 : d == TANDEM_DTYPE_BOOL ? 1 : 8;
}

/* Convert, with OpenVINO CPU semantics: float -> int truncates toward zero and
 * narrow integers wrap; int -> bool is x != 0. */
static name convert(lw_helper *h, name x, int32_t from, int32_t to) {
  if (from == to) return x;
  if (tdm_dtype_is_float(from) && tdm_dtype_is_float(to)) return narrow(h, widen(h, x, from), to);
  if (to == TANDEM_DTYPE_BOOL) {
    if (tdm_dtype_is_float(from))
      return cmp(h, "arith.cmpf", "une", widen(h, x, from), const_f32(h, 0.0), "f32");
    return cmp(h, "arith.cmpi", "ne", x, const_int(h, 0, lw_elem(from)), lw_elem(from));
  }
  if (tdm_dtype_is_float(to)) {
    int uns = from == TANDEM_DTYPE_U8 || from == TANDEM_DTYPE_BOOL;
    name f = cast(h, uns ? "arith.uitofp" : "arith.sitofp", x, lw_elem(from), "f32");
    return narrow(h, f, to);
  }
  name wide = x;
  const char *wty = lw_elem(from);
  if (tdm_dtype_is_float(from)) {
    wide = cast(h, "arith.fptosi", widen(h, x, from), "f32", "i64");
    wty = "i64";
  } else if (int_width(from) < 64) {
    int uns = from == TANDEM_DTYPE_U8 || from == TANDEM_DTYPE_BOOL;
    wide = cast(h, uns ? "arith.extui" : "arith.extsi", x, lw_elem(from), "i64");
    wty = "i64";
  }
  if (int_width(to) == 64) return wide;
  return cast(h, "arith.trunci", wide, wty, lw_elem(to));
}

static name ew_body(lw_helper *h, const name *args, const void *vctx) {
  const ew_ctx *c = vctx;
  if (c->kind == TDM_OP_CONVERT) return convert(h, args[0], c->in_dtype, c->out_dtype);
  if (tdm_op_is_elementwise_binary(c->kind)) {
    if (!tdm_dtype_is_float(c->in_dtype)) return int_binary(h, c->kind, args[0], args[1], c->in_dtype);
    name a = widen(h, args[0], c->in_dtype), b = widen(h, args[1], c->in_dtype);
    return narrow(h, float_binary(h, c->kind, a, b), c->out_dtype);
  }
  if (!tdm_dtype_is_float(c->in_dtype)) return int_unary(h, c, args[0]);
  return narrow(h, float_unary(h, c, widen(h, args[0], c->in_dtype)), c->out_dtype);
}

static name lower_elementwise(lw_helper *h, tdm_op_kind kind, const tdm_attrs *at) {
  ew_ctx c = {kind, at, h->args[0].dtype, h->result.dtype};
  generic_in ins[2];
  int n = tdm_op_is_elementwise_binary(kind) ? 2 : 1;
  for (int i = 0; i < n; i++) ins[i] = (generic_in){arg(i), &h->args[i], {0}, 0};
  name init = empty(h, &h->result);
  return generic(h, ins, n, &h->result, init, &h->result.shape, NULL, NULL, ew_body, &c);
}

/* ---- Reductions --------------------------------------------------------------------- */

static name body_add(lw_helper *h, const name *a, const void *c) {
  (void)c;
  return op2(h, "arith.addf", a[0], a[1], "f32");
}

static name body_max(lw_helper *h, const name *a, const void *c) {
  (void)c;
  return op2(h, "arith.maximumf", a[0], a[1], "f32");
}

static name body_widen(lw_helper *h, const name *a, const void *c) {
  return widen(h, a[0], *(const int32_t *)c);
}

/* `x` (compute type f32) summed (or maxed) over the loop dims flagged in `axes`. */
static name reduce_f32(lw_helper *h, name x, const tdm_type *xt, const int *axes, int use_max,
                       tdm_type *out_type) {
  out_type->dtype = TANDEM_DTYPE_F32;
  out_type->shape.rank = 0;
  for (int i = 0; i < xt->shape.rank; i++)
    if (!axes[i]) out_type->shape.dim[out_type->shape.rank++] = xt->shape.dim[i];
  name init = filled(h, out_type, use_max ? -INFINITY : 0.0);
  generic_in in = {x, xt, {0}, 0};
  return generic(h, &in, 1, out_type, init, &xt->shape, axes, axes, use_max ? body_max : body_add, NULL);
}

/* Input `a` as an f32 tensor (a no-op for f32). */
static name as_f32(lw_helper *h, name a, const tdm_type *t, tdm_type *out_t) {
  *out_t = *t;
  out_t->dtype = TANDEM_DTYPE_F32;
  if (t->dtype == TANDEM_DTYPE_F32) return a;
  generic_in in = {a, t, {0}, 0};
  return generic(h, &in, 1, out_t, empty(h, out_t), &t->shape, NULL, NULL, body_widen, &t->dtype);
}

typedef struct affine_ctx {
  double scale, shift; /* y = x * scale + shift  (used by reduce_mean's division) */
  int32_t out_dtype;
} affine_ctx;

static name body_scale(lw_helper *h, const name *a, const void *vc) {
  const affine_ctx *c = vc;
  return narrow(h, op2(h, "arith.mulf", a[0], const_f32(h, c->scale), "f32"), c->out_dtype);
}

static void reassoc_all(strbuf *sb, int rank) {
  sb_puts(sb, "[");
  if (rank) {
    sb_puts(sb, "[");
    for (int i = 0; i < rank; i++) sb_printf(sb, i ? ", %d" : "%d", i);
    sb_puts(sb, "]");
  }
  sb_puts(sb, "]");
}

/* collapse_shape of all dims into one (or into rank 0 when `to` is a scalar). */
static name collapse(lw_helper *h, name v, const tdm_type *from, const tdm_type *to) {
  name n = fresh(h);
  EMIT(h, "%s = tensor.collapse_shape %s ", n.s, v.s);
  reassoc_all(&h->body, to->shape.rank ? from->shape.rank : 0);
  sb_puts(&h->body, " : ");
  put_tensor(h, from);
  sb_puts(&h->body, " into ");
  put_tensor(h, to);
  sb_puts(&h->body, "\n");
  return n;
}

static name expand(lw_helper *h, name v, const tdm_type *from, const tdm_type *to) {
  name n = fresh(h);
  EMIT(h, "%s = tensor.expand_shape %s ", n.s, v.s);
  reassoc_all(&h->body, from->shape.rank ? to->shape.rank : 0);
  sb_puts(&h->body, " output_shape [");
  for (int i = 0; i < to->shape.rank; i++)
    sb_printf(&h->body, i ? ", %lld" : "%lld", (long long)to->shape.dim[i]);
  sb_puts(&h->body, "] : ");
  put_tensor(h, from);
  sb_puts(&h->body, " into ");
  put_tensor(h, to);
  sb_puts(&h->body, "\n");
  return n;
}

/* The same elements in another static shape: collapse to 1-D, then expand; both
 * are valid for any contiguous static tensor. Scalars use empty reassociations. */
static name expand_to(lw_helper *h, name v, const tdm_type *from, const tdm_type *to) {
  if (tdm_shape_equal(&from->shape, &to->shape)) return v;
  if (from->shape.rank == 0) return expand(h, v, from, to);
  if (to->shape.rank == 0) return collapse(h, v, from, to);
  int64_t numel = 1;
  for (int i = 0; i < from->shape.rank; i++) numel *= from->shape.dim[i];
  tdm_type flat = {from->dtype, {1, {numel}}};
  name f = from->shape.rank == 1 ? v : collapse(h, v, from, &flat);
  return to->shape.rank == 1 ? f : expand(h, f, &flat, to);
}

static name lower_reduce(lw_helper *h, tdm_op_kind kind, const tdm_attrs *at) {
  const tdm_type *in = &h->args[0];
  int axes[TDM_MAX_RANK] = {0};
  int64_t count = 1;
  for (int i = 0; i < at->naxes; i++) axes[at->axes[i]] = 1, count *= in->shape.dim[at->axes[i]];
  tdm_type xf, red;
  name x = as_f32(h, arg(0), in, &xf);
  name r = reduce_f32(h, x, &xf, axes, 0, &red);
  tdm_type scaled = red;
  scaled.dtype = h->result.dtype;
  affine_ctx c = {kind == TDM_OP_REDUCE_MEAN ? 1.0 / (double)count : 1.0, 0, h->result.dtype};
  generic_in gi = {r, &red, {0}, 0};
  name s = generic(h, &gi, 1, &scaled, empty(h, &scaled), &red.shape, NULL, NULL, body_scale, &c);
  return expand_to(h, s, &scaled, &h->result);
}

/* ---- Softmax and MVN ---------------------------------------------------------------- */

static name body_sub_exp(lw_helper *h, const name *a, const void *c) {
  (void)c;
  return call1(h, "tdm.exp", op2(h, "arith.subf", a[0], a[1], "f32"));
}

typedef struct div_ctx { int32_t out_dtype; } div_ctx;

static name body_div(lw_helper *h, const name *a, const void *vc) {
  const div_ctx *c = vc;
  return narrow(h, op2(h, "arith.divf", a[0], a[1], "f32"), c->out_dtype);
}

static name lower_softmax(lw_helper *h, const tdm_attrs *at) {
  const tdm_type *in = &h->args[0];
  int axes[TDM_MAX_RANK] = {0};
  axes[at->axis] = 1;
  tdm_type xf, red;
  name x = as_f32(h, arg(0), in, &xf);
  name mx = reduce_f32(h, x, &xf, axes, 1, &red);
  generic_in ins[2] = {{x, &xf, {0}, 0}, {mx, &red, {0}, 1}};
  memcpy(ins[1].drop, axes, sizeof axes);
  name e = generic(h, ins, 2, &xf, empty(h, &xf), &xf.shape, NULL, NULL, body_sub_exp, NULL);
  name sum = reduce_f32(h, e, &xf, axes, 0, &red);
  generic_in ins2[2] = {{e, &xf, {0}, 0}, {sum, &red, {0}, 1}};
  memcpy(ins2[1].drop, axes, sizeof axes);
  div_ctx c = {h->result.dtype};
  return generic(h, ins2, 2, &h->result, empty(h, &h->result), &xf.shape, NULL, NULL, body_div, &c);
}

typedef struct mvn_ctx {
  double inv_count, eps;
  int inside, normalize;
  int32_t out_dtype;
} mvn_ctx;

static name body_center(lw_helper *h, const name *a, const void *vc) {
  const mvn_ctx *c = vc;
  name mean = op2(h, "arith.mulf", a[1], const_f32(h, c->inv_count), "f32");
  return op2(h, "arith.subf", a[0], mean, "f32");
}

static name body_square(lw_helper *h, const name *a, const void *c) {
  (void)c;
  return op2(h, "arith.mulf", a[0], a[0], "f32");
}

static name body_normalize(lw_helper *h, const name *a, const void *vc) {
  const mvn_ctx *c = vc;
  if (!c->normalize) return narrow(h, a[0], c->out_dtype);
  name var = op2(h, "arith.mulf", a[1], const_f32(h, c->inv_count), "f32");
  name eps = const_f32(h, c->eps);
  name den = c->inside ? op1(h, "math.sqrt", op2(h, "arith.addf", var, eps, "f32"), "f32")
                       : op2(h, "arith.addf", op1(h, "math.sqrt", var, "f32"), eps, "f32");
  return narrow(h, op2(h, "arith.divf", a[0], den, "f32"), c->out_dtype);
}

static name lower_mvn(lw_helper *h, const tdm_attrs *at) {
  const tdm_type *in = &h->args[0];
  int axes[TDM_MAX_RANK] = {0};
  int64_t count = 1;
  for (int i = 0; i < at->naxes; i++) axes[at->axes[i]] = 1, count *= in->shape.dim[at->axes[i]];
  mvn_ctx c = {1.0 / (double)count, at->eps, strcmp(at->eps_mode, "inside_sqrt") == 0,
               at->normalize_variance, h->result.dtype};
  tdm_type xf, red;
  name x = as_f32(h, arg(0), in, &xf);
  name sum = reduce_f32(h, x, &xf, axes, 0, &red);
  generic_in ins[2] = {{x, &xf, {0}, 0}, {sum, &red, {0}, 1}};
  memcpy(ins[1].drop, axes, sizeof axes);
  name centered = generic(h, ins, 2, &xf, empty(h, &xf), &xf.shape, NULL, NULL, body_center, &c);
  name var_sum = centered;
  if (c.normalize) {
    generic_in sq = {centered, &xf, {0}, 0};
    name squares = generic(h, &sq, 1, &xf, empty(h, &xf), &xf.shape, NULL, NULL, body_square, NULL);
    var_sum = reduce_f32(h, squares, &xf, axes, 0, &red);
  }
  generic_in ins2[2] = {{centered, &xf, {0}, 0}, {var_sum, &red, {0}, 1}};
  memcpy(ins2[1].drop, axes, sizeof axes);
  return generic(h, ins2, c.normalize ? 2 : 1, &h->result, empty(h, &h->result), &xf.shape,
                 NULL, NULL, body_normalize, &c);
}

/* ---- Data movement -------------------------------------------------------------------- */

static name lower_reshape(lw_helper *h) { return expand_to(h, arg(0), &h->args[0], &h->result); }

static name lower_transpose(lw_helper *h, const tdm_attrs *at) {
  name init = empty(h, &h->result);
  name n = fresh(h);
  EMIT(h, "%s = linalg.transpose ins(%%a0 : ", n.s);
  put_tensor(h, &h->args[0]);
  sb_printf(&h->body, ") outs(%s : ", init.s);
  put_tensor(h, &h->result);
  sb_puts(&h->body, ") permutation = [");
  for (int i = 0; i < at->nperm; i++) sb_printf(&h->body, i ? ", %lld" : "%lld", (long long)at->perm[i]);
  sb_puts(&h->body, "]\n");
  return n;
}

static name lower_concat(lw_helper *h, const tdm_attrs *at) {
  name acc = empty(h, &h->result);
  int64_t offset = 0;
  for (int i = 0; i < h->nargs; i++) {
    const tdm_type *t = &h->args[i];
    name n = fresh(h);
    strbuf *sb = &h->body;
    EMIT(h, "%s = tensor.insert_slice %%a%d into %s[", n.s, i, acc.s);
    for (int d = 0; d < t->shape.rank; d++) sb_printf(sb, d ? ", %lld" : "%lld", (long long)(d == at->axis ? offset : 0));
    sb_puts(sb, "] [");
    for (int d = 0; d < t->shape.rank; d++) sb_printf(sb, d ? ", %lld" : "%lld", (long long)t->shape.dim[d]);
    sb_puts(sb, "] [");
    for (int d = 0; d < t->shape.rank; d++) sb_puts(sb, d ? ", 1" : "1");
    sb_puts(sb, "] : ");
    put_tensor(h, t);
    sb_puts(sb, " into ");
    put_tensor(h, &h->result);
    sb_puts(sb, "\n");
    offset += t->shape.dim[at->axis];
    acc = n;
  }
  return acc;
}

/* A contiguous range along one axis: tensor.extract_slice (a view once bufferized). */
static name lower_slice(lw_helper *h, const tdm_attrs *at) {
  const tdm_type *in = &h->args[0], *out = &h->result;
  name n = fresh(h);
  strbuf *sb = &h->body;
  EMIT(h, "%s = tensor.extract_slice %%a0[", n.s);
  for (int d = 0; d < in->shape.rank; d++) sb_printf(sb, d ? ", %lld" : "%lld", (long long)(d == at->axis ? at->start : 0));
  sb_puts(sb, "] [");
  for (int d = 0; d < out->shape.rank; d++) sb_printf(sb, d ? ", %lld" : "%lld", (long long)out->shape.dim[d]);
  sb_puts(sb, "] [");
  for (int d = 0; d < out->shape.rank; d++) sb_puts(sb, d ? ", 1" : "1");
  sb_puts(sb, "] : ");
  put_tensor(h, in);
  sb_puts(sb, " to ");
  put_tensor(h, out);
  sb_puts(sb, "\n");
  return n;
}

typedef struct gather_ctx {
  const tdm_attrs *at;
  const tdm_type *data, *idx, *out;
} gather_ctx;

/* out[d...] = data[d_0..d_{axis-1}, idx[...], d_rest...]; an index out of range
 * (after adding the axis size to a negative one) reads as zero. */
static name body_gather(lw_helper *h, const name *a, const void *vc) {
  const gather_ctx *c = vc;
  int64_t axis = c->at->axis, bd = c->at->batch_dims;
  int idx_rank = c->idx->shape.rank;
  const char *ity = lw_elem(c->idx->dtype);
  name size = const_int(h, c->data->shape.dim[axis], ity), zero = const_int(h, 0, ity);
  name neg = cmp(h, "arith.cmpi", "slt", a[0], zero, ity);
  name i = select_(h, neg, op2(h, "arith.addi", a[0], size, ity), a[0], ity);
  name ok = op2(h, "arith.andi", cmp(h, "arith.cmpi", "sge", i, zero, ity),
                cmp(h, "arith.cmpi", "slt", i, size, ity), "i1");
  name safe = select_(h, ok, i, zero, ity);
  name index = cast(h, "arith.index_cast", safe, ity, "index");
  name coords[TDM_MAX_RANK];
  for (int d = 0; d < c->data->shape.rank; d++) {
    if (d == axis) {
      coords[d] = index;
      continue;
    }
    int loop = d < axis ? d : d + (idx_rank - (int)bd) - 1;
    coords[d] = fresh(h);
    EMIT(h, "%s = linalg.index %d : index\n", coords[d].s, loop);
  }
  name v = fresh(h);
  EMIT(h, "%s = tensor.extract %%a0[", v.s);
  for (int d = 0; d < c->data->shape.rank; d++) sb_printf(&h->body, d ? ", %s" : "%s", coords[d].s);
  sb_puts(&h->body, "] : ");
  put_tensor(h, c->data);
  sb_puts(&h->body, "\n");
  const char *ety = lw_elem(c->out->dtype);
  name z = tdm_dtype_is_float(c->out->dtype) ? narrow(h, const_f32(h, 0.0), c->out->dtype)
                                             : const_int(h, 0, ety);
  return select_(h, ok, v, z, ety);
}

static name lower_gather(lw_helper *h, const tdm_attrs *at) {
  const tdm_type *data = &h->args[0], *idx = &h->args[1];
  gather_ctx c = {at, data, idx, &h->result};
  /* The index tensor is read at loop dims [0, bd) and [axis, axis + rank - bd). */
  generic_in in = {arg(1), idx, {0}, 1};
  int loops = h->result.shape.rank;
  for (int d = 0; d < loops; d++) {
    int is_batch = d < at->batch_dims;
    int is_idx = d >= at->axis && d < at->axis + (idx->shape.rank - at->batch_dims);
    in.drop[d] = !(is_batch || is_idx);
  }
  return generic(h, &in, 1, &h->result, empty(h, &h->result), &h->result.shape, NULL, NULL,
                 body_gather, &c);
}

/* ---- Contractions ---------------------------------------------------------------------- */

typedef struct mm_ctx { int32_t dtype; } mm_ctx;

static name body_mac(lw_helper *h, const name *a, const void *vc) {
  const mm_ctx *c = vc;
  if (!tdm_dtype_is_float(c->dtype)) {
    const char *ty = lw_elem(c->dtype);
    return op2(h, "arith.addi", a[2], op2(h, "arith.muli", a[0], a[1], ty), ty);
  }
  name x = widen(h, a[0], c->dtype), y = widen(h, a[1], c->dtype);
  return op2(h, "arith.addf", a[2], op2(h, "arith.mulf", x, y, "f32"), "f32");
}

static name body_narrow(lw_helper *h, const name *a, const void *c) {
  return narrow(h, a[0], *(const int32_t *)c);
}

/* Largest candidate that divides n (tiles must divide: no masking). */
static int64_t pick_tile(int64_t n, const int64_t *cands) {
  for (; *cands > 1; cands++)
    if (n % *cands == 0) return *cands;
  return 1;
}

/* The accumulator tile lives in registers across the k loop: rows x width must
 * leave room for a row of B and a broadcast. AVX-512 (32 zmm): 8 x 32 floats in
 * 16 registers; AVX2 (16 ymm): 6 x 16 floats in 12. */
static void tile_for(const lw_helpers *hs, int64_t M, int64_t N, int64_t *tm, int64_t *tn) {
  static const int64_t mt512[] = {8, 6, 4, 3, 2, 1}, nt512[] = {32, 16, 8, 4, 2, 1};
  static const int64_t mt256[] = {6, 4, 3, 2, 1}, nt256[] = {16, 8, 4, 2, 1};
  int wide = hs->vector_bits >= 512;
  *tm = pick_tile(M, wide ? mt512 : mt256);
  *tn = pick_tile(N, wide ? nt512 : nt256);
}

int lw_pack_width(const lw_helpers *hs, const tdm_type *a, const tdm_type *b, const tdm_attrs *at) {
  if (at->transpose_a || at->transpose_b || b->shape.rank != 2 || a->shape.rank < 2) return 0;
  if (a->dtype != TANDEM_DTYPE_F32 || b->dtype != TANDEM_DTYPE_F32) return 0;
  int64_t tm, tn;
  tile_for(hs, a->shape.dim[a->shape.rank - 2], b->shape.dim[1], &tm, &tn);
  return tn >= 8 ? (int)tn : 0;
}

/* A contraction over loops (b?, m, n, k): C[b,m,n] += A[b,m,k] * B[b,k,n] with
 * A/B possibly transposed. Operands are 2-D or 3-D (batch first). The generic is
 * tagged with tile sizes for the tile-and-vectorize pass. */
static name contraction(lw_helper *h, lw_helpers *hs, name a, const tdm_type *at, name b,
                        const tdm_type *bt, int ta, int tb, const tdm_type *out) {
  int batched = out->shape.rank == 3;
  int64_t M = out->shape.dim[batched], N = out->shape.dim[batched + 1];
  int64_t K = at->shape.dim[batched + (ta ? 0 : 1)];
  tdm_type acc = *out;
  acc.dtype = tdm_dtype_is_float(out->dtype) ? TANDEM_DTYPE_F32 : out->dtype;
  name init = filled(h, &acc, 0.0);
  strbuf *sb = &h->body;
  name r = fresh(h);
  const char *dims = batched ? "(b, m, n, k)" : "(m, n, k)";
  const char *bp = batched ? "b, " : "";
  EMIT(h, "%s = linalg.generic {indexing_maps = [affine_map<%s -> (%s%s)>, affine_map<%s -> (%s%s)>, "
       "affine_map<%s -> (%sm, n)>], iterator_types = [%s\"parallel\", \"parallel\", \"reduction\"]}",
       r.s, dims, bp, ta ? "k, m" : "m, k", dims, bp, tb ? "n, k" : "k, n", dims, bp,
       batched ? "\"parallel\", " : "");
  sb_printf(sb, " ins(%s, %s : ", a.s, b.s);
  put_tensor(h, at);
  sb_puts(sb, ", ");
  put_tensor(h, bt);
  sb_printf(sb, ") outs(%s : ", init.s);
  put_tensor(h, &acc);
  int64_t tm, tn;
  tile_for(hs, M, N, &tm, &tn);
  (void)K;
  /* Only tiles at least 8 wide are worth vectorising; narrower contractions stay
   * loops for LLVM (and the vector patterns do not terminate on 1x1 tiles). Column
   * tiles go outermost: one k x width strip of B stays in L1 while row tiles of A
   * stream past it. */
  sb_printf(sb, ") attrs = {tdm.contraction = %d : i64", hs->next_contraction++);
  if (tn >= 8)
    sb_printf(sb, ", tdm.tiles = array<i64: %s%lld, %lld, 1>, tdm.interchange = array<i64: %s>",
              batched ? "1, " : "", (long long)tm, (long long)tn, batched ? "0, 2, 1, 3" : "1, 0, 2");
  sb_puts(sb, "} {\n");
  name args[3] = {fresh(h), fresh(h), fresh(h)};
  sb_printf(sb, "    ^bb0(%s: %s, %s: %s, %s: %s):\n", args[0].s, lw_elem(at->dtype), args[1].s,
            lw_elem(bt->dtype), args[2].s, lw_elem(acc.dtype));
  mm_ctx c = {at->dtype};
  name y = body_mac(h, args, &c);
  EMIT(h, "  linalg.yield %s : %s\n", y.s, lw_elem(acc.dtype));
  EMIT(h, "} -> ");
  put_tensor(h, &acc);
  sb_puts(sb, "\n");
  if (acc.dtype == out->dtype) return r;
  generic_in gi = {r, &acc, {0}, 0};
  return generic(h, &gi, 1, out, empty(h, out), &out->shape, NULL, NULL, body_narrow, &out->dtype);
}

static tdm_type with_shape(const tdm_type *t, int rank, const int64_t *dims) {
  tdm_type r = {t->dtype, {rank, {0}}};
  memcpy(r.shape.dim, dims, sizeof(int64_t) * (size_t)rank);
  return r;
}

/* C[m, n] = A[m, k] * B[k, n] with B packed at compile time into column panels
 * Bp[n / w, k, w] (w = the tile width): the k loop then reads B contiguously
 * instead of one row every N floats (which also maps every row of a 4 KiB-strided
 * matrix to the same L1 set). Loops (m, nb, ni, k); C is seen as [M, N / w, w]. */
static name packed_contraction(lw_helper *h, lw_helpers *hs, name a, const tdm_type *at, name bp,
                               const tdm_type *bpt, const tdm_type *out) {
  int64_t M = out->shape.dim[0], w = bpt->shape.dim[2], nb = bpt->shape.dim[0];
  int64_t tm, tn;
  tile_for(hs, M, nb * w, &tm, &tn);
  tdm_type acc = {TANDEM_DTYPE_F32, {3, {M, nb, w}}};
  name init = filled(h, &acc, 0.0);
  strbuf *sb = &h->body;
  name r = fresh(h);
  EMIT(h, "%s = linalg.generic {indexing_maps = [affine_map<(m, nb, ni, k) -> (m, k)>, "
       "affine_map<(m, nb, ni, k) -> (nb, k, ni)>, affine_map<(m, nb, ni, k) -> (m, nb, ni)>], "
       "iterator_types = [\"parallel\", \"parallel\", \"parallel\", \"reduction\"]}", r.s);
  sb_printf(sb, " ins(%s, %s : ", a.s, bp.s);
  put_tensor(h, at);
  sb_puts(sb, ", ");
  put_tensor(h, bpt);
  sb_printf(sb, ") outs(%s : ", init.s);
  put_tensor(h, &acc);
  sb_printf(sb, ") attrs = {tdm.contraction = %d : i64, tdm.tiles = array<i64: %lld, 1, %lld, 1>, "
                "tdm.interchange = array<i64: 1, 0, 2, 3>} {\n",
            hs->next_contraction++, (long long)tm, (long long)w);
  name args[3] = {fresh(h), fresh(h), fresh(h)};
  sb_printf(sb, "    ^bb0(%s: f32, %s: f32, %s: f32):\n", args[0].s, args[1].s, args[2].s);
  mm_ctx c = {TANDEM_DTYPE_F32};
  name y = body_mac(h, args, &c);
  EMIT(h, "  linalg.yield %s : f32\n", y.s);
  EMIT(h, "} -> ");
  put_tensor(h, &acc);
  sb_puts(sb, "\n");
  name flat = fresh(h);
  EMIT(h, "%s = tensor.collapse_shape %s [[0], [1, 2]] : ", flat.s, r.s);
  put_tensor(h, &acc);
  sb_puts(sb, " into ");
  put_tensor(h, out);
  sb_puts(sb, "\n");
  return flat;
}

/* A matmul whose B (args[1]) arrives packed as [N / w, K, w]. */
static name lower_matmul_packed(lw_helper *h, lw_helpers *hs) {
  tdm_type a = h->args[0], bp = h->args[1];
  int64_t K = a.shape.dim[a.shape.rank - 1], rows = 1;
  for (int i = 0; i < a.shape.rank - 1; i++) rows *= a.shape.dim[i];
  tdm_type a2 = with_shape(&a, 2, (int64_t[]){rows, K});
  tdm_type flat = with_shape(&h->result, 2, (int64_t[]){rows, bp.shape.dim[0] * bp.shape.dim[2]});
  name av = expand_to(h, arg(0), &a, &a2);
  name r = packed_contraction(h, hs, av, &a2, arg(1), &bp, &flat);
  return expand_to(h, r, &flat, &h->result);
}

/* Materialises `v` broadcast to `to` (same rank) when shapes differ. */
static name broadcast_to(lw_helper *h, name v, const tdm_type *from, const tdm_type *to) {
  if (tdm_shape_equal(&from->shape, &to->shape)) return v;
  generic_in in = {v, from, {0}, 0};
  int32_t d = from->dtype;
  return generic(h, &in, 1, to, empty(h, to), &to->shape, NULL, NULL, body_narrow, &d);
}


/* OpenVINO MatMul -> a 2-D or batched 3-D contraction plus reshapes:
 * 1-D operands are promoted, batch dims broadcast and then collapsed into one. */
static name lower_matmul(lw_helper *h, lw_helpers *hs, const tdm_attrs *attr) {
  tdm_type a = h->args[0], b = h->args[1];
  int ta = attr->transpose_a, tb = attr->transpose_b;
  name av = arg(0), bv = arg(1);
  if (a.shape.rank == 1) {
    tdm_type a2 = with_shape(&a, 2, (int64_t[]){1, a.shape.dim[0]});
    av = expand_to(h, av, &a, &a2), a = a2, ta = 0;
  }
  if (b.shape.rank == 1) {
    tdm_type b2 = with_shape(&b, 2, (int64_t[]){b.shape.dim[0], 1});
    bv = expand_to(h, bv, &b, &b2), b = b2, tb = 0;
  }
  int64_t M = a.shape.dim[a.shape.rank - 2 + ta], K = a.shape.dim[a.shape.rank - 1 - ta];
  int64_t N = b.shape.dim[b.shape.rank - 1 - tb];
  /* batch dims of the result */
  tdm_type ba = with_shape(&a, a.shape.rank - 2, a.shape.dim), bb = with_shape(&b, b.shape.rank - 2, b.shape.dim);
  int brank = ba.shape.rank > bb.shape.rank ? ba.shape.rank : bb.shape.rank;
  int64_t batch[TDM_MAX_RANK], nbatch = 1;
  for (int i = 0; i < brank; i++) {
    int ia = i - (brank - ba.shape.rank), ib = i - (brank - bb.shape.rank);
    int64_t da = ia >= 0 ? ba.shape.dim[ia] : 1, db = ib >= 0 ? bb.shape.dim[ib] : 1;
    batch[i] = da == 1 ? db : da;
    nbatch *= batch[i];
  }
  int64_t b_batch = 1;
  for (int i = 0; i < bb.shape.rank; i++) b_batch *= bb.shape.dim[i];
  name r;
  tdm_type flat_out;
  if (b_batch == 1 && !ta) {
    /* B is one matrix: fold every batch dim of A into M. */
    int64_t rows = nbatch * M;
    int64_t a_numel = rows * K;
    (void)a_numel;
    tdm_type a2 = with_shape(&a, 2, (int64_t[]){rows, K});
    /* A's batch dims may be broadcast against B's size-1 ones: A holds them all. */
    tdm_type a_full = with_shape(&a, brank + 2, batch);
    a_full.shape.dim[brank] = M, a_full.shape.dim[brank + 1] = K;
    tdm_type a_r = with_shape(&a, brank + 2, a_full.shape.dim);
    for (int i = 0; i < brank; i++) {
      int ia = i - (brank - ba.shape.rank);
      a_r.shape.dim[i] = ia >= 0 ? ba.shape.dim[ia] : 1;
    }
    name a_v = expand_to(h, av, &a, &a_r);
    a_v = broadcast_to(h, a_v, &a_r, &a_full);
    a_v = expand_to(h, a_v, &a_full, &a2);
    tdm_type b2 = with_shape(&b, 2, &b.shape.dim[b.shape.rank - 2]);
    name b_v = expand_to(h, bv, &b, &b2);
    flat_out = with_shape(&h->result, 2, (int64_t[]){rows, N});
    r = contraction(h, hs, a_v, &a2, b_v, &b2, 0, tb, &flat_out);
  } else {
    tdm_type a_r = with_shape(&a, brank + 2, batch), b_r = with_shape(&b, brank + 2, batch);
    tdm_type a_full = a_r, b_full = b_r;
    for (int i = 0; i < brank; i++) {
      int ia = i - (brank - ba.shape.rank), ib = i - (brank - bb.shape.rank);
      a_r.shape.dim[i] = ia >= 0 ? ba.shape.dim[ia] : 1;
      b_r.shape.dim[i] = ib >= 0 ? bb.shape.dim[ib] : 1;
    }
    for (int j = 0; j < 2; j++) {
      a_r.shape.dim[brank + j] = a_full.shape.dim[brank + j] = a.shape.dim[a.shape.rank - 2 + j];
      b_r.shape.dim[brank + j] = b_full.shape.dim[brank + j] = b.shape.dim[b.shape.rank - 2 + j];
    }
    name a_v = broadcast_to(h, expand_to(h, av, &a, &a_r), &a_r, &a_full);
    name b_v = broadcast_to(h, expand_to(h, bv, &b, &b_r), &b_r, &b_full);
    tdm_type a3 = with_shape(&a, 3, (int64_t[]){nbatch, a_full.shape.dim[brank], a_full.shape.dim[brank + 1]});
    tdm_type b3 = with_shape(&b, 3, (int64_t[]){nbatch, b_full.shape.dim[brank], b_full.shape.dim[brank + 1]});
    a_v = expand_to(h, a_v, &a_full, &a3);
    b_v = expand_to(h, b_v, &b_full, &b3);
    flat_out = with_shape(&h->result, 3, (int64_t[]){nbatch, M, N});
    r = contraction(h, hs, a_v, &a3, b_v, &b3, ta, tb, &flat_out);
  }
  return expand_to(h, r, &flat_out, &h->result);
}

/* ---- Transformer ops ------------------------------------------------------------------- */


typedef struct rms_ctx {
  double inv_d, eps;
} rms_ctx;

static name body_rms(lw_helper *h, const name *a, const void *vc) {
  const rms_ctx *c = vc;
  name ms = op2(h, "arith.mulf", a[1], const_f32(h, c->inv_d), "f32");
  name den = op1(h, "math.sqrt", op2(h, "arith.addf", ms, const_f32(h, c->eps), "f32"), "f32");
  return op2(h, "arith.mulf", op2(h, "arith.divf", a[0], den, "f32"), a[2], "f32");
}

/* x / sqrt(mean(x^2) + eps) * w over the last dim. */
static name lower_rms_norm(lw_helper *h, const tdm_attrs *at) {
  const tdm_type *x = &h->args[0];
  int last = x->shape.rank - 1;
  int axes[TDM_MAX_RANK] = {0};
  axes[last] = 1;
  generic_in sq = {arg(0), x, {0}, 0};
  name squares = generic(h, &sq, 1, x, empty(h, x), &x->shape, NULL, NULL, body_square, NULL);
  tdm_type red;
  name ss = reduce_f32(h, squares, x, axes, 0, &red);
  rms_ctx c = {1.0 / (double)x->shape.dim[last], at->eps};
  generic_in ins[3] = {{arg(0), x, {0}, 0}, {ss, &red, {0}, 1}, {arg(1), &h->args[1], {0}, 0}};
  memcpy(ins[1].drop, axes, sizeof axes);
  return generic(h, ins, 3, &h->result, empty(h, &h->result), &x->shape, NULL, NULL, body_rms, &c);
}

typedef struct rope_ctx {
  const tdm_attrs *at;
  name pos;        /* f64 */
  name freqs;      /* tensor<P x f64>: base^(-2i/dims), evaluated at compile time */
  name cos, sin;   /* tensor<T x P x f32>: the rotation of pair i of token t */
  int64_t P;       /* pairs: (dims + 1) / 2 */
  int sine;        /* body_rope_table: the sine table, else the cosine */
} rope_ctx;

/* cos or sin of (pos + t) * freqs[i], in f64, rounded to f32: once per token and
 * pair, shared by every head. */
static name body_rope_table(lw_helper *h, const name *a, const void *vc) {
  (void)a;
  const rope_ctx *c = vc;
  name t = fresh(h), i = fresh(h), f = fresh(h);
  EMIT(h, "%s = linalg.index 0 : index\n", t.s);
  EMIT(h, "%s = linalg.index 1 : index\n", i.s);
  EMIT(h, "%s = tensor.extract %s[%s] : tensor<%lldxf64>\n", f.s, c->freqs.s, i.s, (long long)c->P);
  name p = op2(h, "arith.addf", c->pos, cast(h, "arith.uitofp", cast(h, "arith.index_cast", t, "index", "i64"), "i64", "f64"), "f64");
  name ang = op2(h, "arith.mulf", p, f, "f64");
  return cast(h, "arith.truncf", op1(h, c->sine ? "math.sin" : "math.cos", ang, "f64"), "f64", "f32");
}

/* Pair (2i, 2i+1) of token t rotates by the tables' angle for (t, i). */
static name body_rope(lw_helper *h, const name *a, const void *vc) {
  const rope_ctx *c = vc;
  name t = fresh(h), hd = fresh(h), i = fresh(h);
  EMIT(h, "%s = linalg.index 0 : index\n", t.s);
  EMIT(h, "%s = linalg.index 1 : index\n", hd.s);
  EMIT(h, "%s = linalg.index 2 : index\n", i.s);
  name one = const_int(h, 1, "index"), two = const_int(h, 2, "index");
  name pair = op2(h, "arith.divui", i, two, "index");
  name odd = op2(h, "arith.andi", i, one, "index");
  name partner = op2(h, "arith.xori", i, one, "index");
  name xp = fresh(h);
  EMIT(h, "%s = tensor.extract %%a0[%s, %s, %s] : ", xp.s, t.s, hd.s, partner.s);
  put_tensor(h, &h->args[0]);
  sb_puts(&h->body, "\n");
  /* features past `dims` read the last pair (and pass through below) */
  name row = op2(h, "arith.minui", pair, const_int(h, c->P - 1, "index"), "index");
  name cs = fresh(h), sn = fresh(h);
  long long T = (long long)h->result.shape.dim[0], P = (long long)c->P;
  EMIT(h, "%s = tensor.extract %s[%s, %s] : tensor<%lldx%lldxf32>\n", cs.s, c->cos.s, t.s, row.s, T, P);
  EMIT(h, "%s = tensor.extract %s[%s, %s] : tensor<%lldx%lldxf32>\n", sn.s, c->sin.s, t.s, row.s, T, P);
  name xs = op2(h, "arith.mulf", xp, sn, "f32");
  name is_odd = cmp(h, "arith.cmpi", "ne", odd, const_int(h, 0, "index"), "index");
  name signed_xs = select_(h, is_odd, xs, op1(h, "arith.negf", xs, "f32"), "f32");
  name rotated = op2(h, "arith.addf", op2(h, "arith.mulf", a[0], cs, "f32"), signed_xs, "f32");
  /* Features past `dims` pass through. */
  name in_range = cmp(h, "arith.cmpi", "ult", i, const_int(h, c->at->dims, "index"), "index");
  return select_(h, in_range, rotated, a[0], "f32");
}

/* RoPE: the frequencies are constants; a cosine and a sine table [T, P] per call
 * (the trigonometry once per token and pair, not per head and element); then the
 * rotation of x [T, H, D] reads them. */
static name lower_rope(lw_helper *h, const tdm_attrs *at) {
  name pos = fresh(h);
  EMIT(h, "%s = tensor.extract %%a1[] : tensor<i32>\n", pos.s);
  rope_ctx c = {at, cast(h, "arith.sitofp", pos, "i32", "f64"), fresh(h), {{0}}, {{0}}, (at->dims + 1) / 2, 0};
  if (c.P < 1) c.P = 1;
  EMIT(h, "%s = arith.constant dense<[", c.freqs.s);
  for (int64_t i = 0; i < c.P; i++)
    sb_printf(&h->body, "%s%.17e", i ? ", " : "", pow(at->freq_base, (double)i * (-2.0 / (double)at->dims)));
  sb_printf(&h->body, "]> : tensor<%lldxf64>\n", (long long)c.P);
  tdm_type table = {TANDEM_DTYPE_F32, {2, {h->result.shape.dim[0], c.P}}};
  c.cos = generic(h, NULL, 0, &table, empty(h, &table), &table.shape, NULL, NULL, body_rope_table, &c);
  c.sine = 1;
  c.sin = generic(h, NULL, 0, &table, empty(h, &table), &table.shape, NULL, NULL, body_rope_table, &c);
  generic_in in = {arg(0), &h->args[0], {0}, 0};
  return generic(h, &in, 1, &h->result, empty(h, &h->result), &h->result.shape, NULL, NULL, body_rope, &c);
}

/* ---- Helpers registry ------------------------------------------------------------------ */

void lw_helpers_free(lw_helpers *hs) {
  for (int i = 0; i < hs->n; i++) free(hs->texts[i]), free(hs->names[i]);
  free(hs->texts);
  free(hs->names);
  memset(hs, 0, sizeof *hs);
}

void lw_helpers_print(const lw_helpers *hs, strbuf *out) {
  for (int i = 0; i < hs->n; i++)
    sb_printf(out, "  func.func private @%s%s\n", hs->names[i], hs->texts[i]);
}

tdm_status lw_intern_text(lw_helpers *hs, const char *what, strbuf *text, const char **out_name) {
  for (int i = 0; i < hs->n; i++)
    if (strcmp(hs->texts[i], sb_str(text)) == 0) {
      *out_name = hs->names[i];
      return NULL;
    }
  if (hs->n == hs->cap) {
    int cap = hs->cap ? hs->cap * 2 : 64;
    char **t = realloc(hs->texts, (size_t)cap * sizeof *t);
    if (t) hs->texts = t;
    char **nm = realloc(hs->names, (size_t)cap * sizeof *nm);
    if (nm) hs->names = nm;
    if (!t || !nm) return TDM_INTERNAL("out of memory");
    hs->cap = cap;
  }
  char buf[64];
  snprintf(buf, sizeof buf, "tdm.%s.%d", what, hs->n);
  hs->names[hs->n] = strdup(buf);
  hs->texts[hs->n] = sb_take(text);
  if (!hs->names[hs->n]) return TDM_INTERNAL("out of memory");
  *out_name = hs->names[hs->n++];
  return NULL;
}

static tdm_status intern(lw_helpers *hs, tdm_op_kind kind, lw_helper *h, name result,
                         const char **out_name) {
  strbuf text;
  sb_init(&text);
  sb_puts(&text, "(");
  for (int i = 0; i < h->nargs; i++) {
    sb_printf(&text, i ? ", %%a%d: " : "%%a%d: ", i);
    lw_tensor_type(&text, &h->args[i]);
  }
  sb_puts(&text, ") -> ");
  lw_tensor_type(&text, &h->result);
  sb_printf(&text, " {\n%s    return %s : ", sb_str(&h->body), result.s);
  lw_tensor_type(&text, &h->result);
  sb_puts(&text, "\n  }");
  tdm_status st = sb_failed(&text) || sb_failed(&h->body) ? TDM_INTERNAL("out of memory")
                                                          : lw_intern_text(hs, tdm_op_infos[kind].name, &text, out_name);
  sb_free(&text);
  return st;
}

tdm_status lw_lower_op(lw_helpers *hs, tdm_op_kind kind, const tdm_type *operands, int n,
                       const tdm_attrs *attrs, const tdm_type *result, int packed_b,
                       const char **out_name) {
  lw_helper *h = calloc(1, sizeof *h);
  if (!h) return TDM_INTERNAL("out of memory");
  if (n > 256) n = 256;
  h->nargs = n;
  memcpy(h->args, operands, sizeof(tdm_type) * (size_t)n);
  h->result = *result;
  name r;
  switch (kind) {
    case TDM_OP_SOFTMAX: r = lower_softmax(h, attrs); break;
    case TDM_OP_MVN: r = lower_mvn(h, attrs); break;
    case TDM_OP_REDUCE_MEAN:
    case TDM_OP_REDUCE_SUM: r = lower_reduce(h, kind, attrs); break;
    case TDM_OP_RESHAPE: r = lower_reshape(h); break;
    case TDM_OP_TRANSPOSE: r = lower_transpose(h, attrs); break;
    case TDM_OP_CONCAT: r = lower_concat(h, attrs); break;
    case TDM_OP_SLICE: r = lower_slice(h, attrs); break;
    case TDM_OP_GATHER: r = lower_gather(h, attrs); break;
    case TDM_OP_MATMUL: r = packed_b ? lower_matmul_packed(h, hs) : lower_matmul(h, hs, attrs); break;
    case TDM_OP_RMS_NORM: r = lower_rms_norm(h, attrs); break;
    case TDM_OP_ROPE: r = lower_rope(h, attrs); break;
    default:
      if (!tdm_op_is_elementwise_binary(kind) && !tdm_op_is_elementwise_unary(kind)) {
        sb_free(&h->body);
        free(h);
        return TDM_INTERNAL("no lowering for tdm.%s", tdm_op_infos[kind].name);
      }
      r = lower_elementwise(h, kind, attrs);
  }
  tdm_status st = intern(hs, kind, h, r, out_name);
  sb_free(&h->body);
  free(h);
  return st;
}
