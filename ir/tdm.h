/* The graph dialect `tdm` from C: op kinds, types, shape rules, builders.
 *
 * The dialect itself is defined in ir/tdm.irdl.mlir (loaded at run time). This
 * header gives the rest of the compiler one vocabulary for it:
 *   - tdm_op_kind with a name table (TDM_OP_COUNT entries, checked at compile time);
 *   - tdm_type: a static shape and a dtype (the runtime's tandem_dtype);
 *   - tdm_attrs: every attribute any op has, so that building an op (frontends) and
 *     re-deriving its result type (verify-graph) run the same shape rule, tdm_infer.
 */
#ifndef TANDEM_IR_TDM_H
#define TANDEM_IR_TDM_H

#include <stdint.h>

#include "mlir-c/IR.h"
#include "support/status.h"
#include "support/strbuf.h"
#include "tandem/runtime.h"

#define TDM_MAX_RANK 8

/* X(kind, "name", min operands, max operands (-1: variadic), attribute set) */
#define TDM_OP_LIST(X)                                                        \
  X(WEIGHT, "weight", 0, 0, TDM_A_NAME | TDM_A_FILE | TDM_A_OFFSET)           \
  X(CONSTANT, "constant", 0, 0, TDM_A_VALUE)                                  \
  X(ADD, "add", 2, 2, 0)                                                      \
  X(SUB, "sub", 2, 2, 0)                                                      \
  X(MUL, "mul", 2, 2, 0)                                                      \
  X(DIV, "div", 2, 2, 0)                                                      \
  X(POW, "pow", 2, 2, 0)                                                      \
  X(MAX, "max", 2, 2, 0)                                                      \
  X(MIN, "min", 2, 2, 0)                                                      \
  X(RELU, "relu", 1, 1, 0)                                                    \
  X(SIGMOID, "sigmoid", 1, 1, 0)                                              \
  X(TANH, "tanh", 1, 1, 0)                                                    \
  X(EXP, "exp", 1, 1, 0)                                                      \
  X(SQRT, "sqrt", 1, 1, 0)                                                    \
  X(GELU, "gelu", 1, 1, TDM_A_APPROX)                                         \
  X(SWISH, "swish", 1, 1, TDM_A_BETA)                                         \
  X(CLAMP, "clamp", 1, 1, TDM_A_MIN | TDM_A_MAX)                              \
  X(CONVERT, "convert", 1, 1, 0)                                              \
  X(SOFTMAX, "softmax", 1, 1, TDM_A_AXIS)                                     \
  X(MVN, "mvn", 1, 1, TDM_A_AXES | TDM_A_EPS | TDM_A_NORM_VAR | TDM_A_EPS_MODE) \
  X(REDUCE_MEAN, "reduce_mean", 1, 1, TDM_A_AXES | TDM_A_KEEP_DIMS)           \
  X(REDUCE_SUM, "reduce_sum", 1, 1, TDM_A_AXES | TDM_A_KEEP_DIMS)             \
  X(RESHAPE, "reshape", 1, 1, 0)                                              \
  X(TRANSPOSE, "transpose", 1, 1, TDM_A_PERM)                                 \
  X(CONCAT, "concat", 2, 2, TDM_A_AXIS)                                      \
  X(SLICE, "slice", 1, 1, TDM_A_AXIS | TDM_A_START)                           \
  X(GATHER, "gather", 2, 2, TDM_A_AXIS | TDM_A_BATCH_DIMS)                    \
  X(MATMUL, "matmul", 2, 2, TDM_A_TRANSPOSE_A | TDM_A_TRANSPOSE_B)                \
  X(RMS_NORM, "rms_norm", 2, 2, TDM_A_EPS)                                    \
  X(ROPE, "rope", 2, 2, TDM_A_FREQ_BASE | TDM_A_DIMS)                         \
  X(ATTENTION, "attention", 6, 6, TDM_A_LAYER | TDM_A_SCALE)

typedef enum tdm_op_kind {
#define X(k, n, lo, hi, a) TDM_OP_##k,
  TDM_OP_LIST(X)
#undef X
  TDM_OP_COUNT,
  TDM_OP_NONE = -1, /* not a tdm op */
} tdm_op_kind;

/* Attribute bits; the attribute names are in tdm_attr_names. */
enum {
  TDM_A_NAME = 1u << 0,        /* string */
  TDM_A_FILE = 1u << 1,        /* i64: index into the module's tdm.weight_files */
  TDM_A_OFFSET = 1u << 2,      /* i64: byte offset in that file */
  TDM_A_VALUE = 1u << 3,       /* dense elements */
  TDM_A_APPROX = 1u << 4,      /* string: "erf" | "tanh" */
  TDM_A_BETA = 1u << 5,        /* f32 */
  TDM_A_MIN = 1u << 6,         /* f32 */
  TDM_A_MAX = 1u << 7,         /* f32 */
  TDM_A_AXIS = 1u << 8,        /* i64, non-negative */
  TDM_A_AXES = 1u << 9,        /* array<i64>, sorted, unique, non-negative */
  TDM_A_EPS = 1u << 10,        /* f32 */
  TDM_A_NORM_VAR = 1u << 11,   /* i1 */
  TDM_A_EPS_MODE = 1u << 12,   /* string: "inside_sqrt" | "outside_sqrt" */
  TDM_A_KEEP_DIMS = 1u << 13,  /* i1 */
  TDM_A_PERM = 1u << 14,       /* array<i64> */
  TDM_A_BATCH_DIMS = 1u << 15, /* i64 */
  TDM_A_TRANSPOSE_A = 1u << 16,/* i1 */
  TDM_A_TRANSPOSE_B = 1u << 17,/* i1 */
  TDM_A_FREQ_BASE = 1u << 18,  /* f32 */
  TDM_A_DIMS = 1u << 19,       /* i64 */
  TDM_A_LAYER = 1u << 20,      /* i64 */
  TDM_A_SCALE = 1u << 21,      /* f32 */
  TDM_A_START = 1u << 22,      /* i64 */
  TDM_A_COUNT = 23
};

typedef struct tdm_op_info {
  const char *name;  /* without the "tdm." prefix */
  int min_operands;
  int max_operands;  /* -1: variadic */
  unsigned attrs;    /* TDM_A_* */
} tdm_op_info;

extern const tdm_op_info tdm_op_infos[TDM_OP_COUNT];
extern const char *const tdm_attr_names[TDM_A_COUNT];

tdm_op_kind tdm_op_kind_of(MlirOperation op);
tdm_op_kind tdm_op_kind_from_name(const char *name); /* "add" or "tdm.add" */
int tdm_op_is_elementwise_binary(tdm_op_kind k);
int tdm_op_is_elementwise_unary(tdm_op_kind k);

/* ---- Types ------------------------------------------------------------------------ */

typedef struct tdm_shape {
  int rank;
  int64_t dim[TDM_MAX_RANK];
} tdm_shape;

typedef struct tdm_type {
  int32_t dtype; /* tandem_dtype */
  tdm_shape shape;
} tdm_type;

/* Largest tensor we accept (elements); keeps every byte count inside int64. */
#define TDM_MAX_ELEMENTS (INT64_C(1) << 40)

tdm_status tdm_shape_numel(const tdm_shape *s, int64_t *out);
int tdm_shape_equal(const tdm_shape *a, const tdm_shape *b);
int tdm_type_equal(const tdm_type *a, const tdm_type *b);
void tdm_shape_print(const tdm_shape *s, strbuf *sb);         /* [1,16] */
void tdm_type_print(const tdm_type *t, strbuf *sb);           /* f32[1,16] */
int tdm_dtype_is_float(int32_t dtype);
int tdm_dtype_is_int(int32_t dtype);

/* IEEE half and bfloat16 <-> float (round to nearest even). */
float tdm_f16_to_f32(uint16_t h);
float tdm_bf16_to_f32(uint16_t h);
uint16_t tdm_f32_to_f16(float f);
uint16_t tdm_f32_to_bf16(float f);

MlirType tdm_dtype_to_mlir(MlirContext ctx, int32_t dtype);
MlirType tdm_type_to_mlir(MlirContext ctx, const tdm_type *t);
/* Fails for unranked/dynamic tensors and element types tandem does not support. */
tdm_status tdm_type_from_mlir(MlirType t, tdm_type *out);
/* MLIR spelling of a dtype: "f32", "ui8", "i1"... */
const char *tdm_dtype_mlir_name(int32_t dtype);

/* ---- Attributes and shape rules -------------------------------------------------- */

typedef struct tdm_attrs {
  const char *name;        /* TDM_A_NAME (borrowed) */
  int64_t file, offset;
  MlirAttribute value;     /* TDM_A_VALUE */
  const char *approximation, *eps_mode;
  double beta, min, max, eps;
  int64_t axis, batch_dims;
  int64_t axes[TDM_MAX_RANK];
  int naxes;
  int64_t perm[TDM_MAX_RANK];
  int nperm;
  int normalize_variance, keep_dims, transpose_a, transpose_b;
  double freq_base, scale;
  int64_t dims, layer, start;
} tdm_attrs;

/* Derives the result type of `kind` from its operands and attributes. For ops whose
 * result is not a function of the operands (weight, constant, reshape, convert),
 * `*out` must hold the requested result type on entry; it is checked instead.
 * Errors describe the problem without location (the caller adds it). */
tdm_status tdm_infer(tdm_op_kind kind, const tdm_type *operands, int n,
                     const tdm_attrs *attrs, tdm_type *out);

/* Reads the attributes of `op` (of kind `kind`) into *out; fails naming the first
 * missing or ill-typed one. Strings are borrowed from the op. */
tdm_status tdm_attrs_from_op(MlirOperation op, tdm_op_kind kind, tdm_attrs *out);

/* ---- Building -------------------------------------------------------------------- */

/* Appends a tdm op to `block` (at its end). On a shape or type error returns the
 * error and builds nothing. `*inout_type` is the result (see tdm_infer). */
tdm_status tdm_build(MlirBlock block, MlirLocation loc, tdm_op_kind kind,
                     const MlirValue *operands, int n, const tdm_attrs *attrs,
                     tdm_type *inout_type, MlirValue *out_result);

/* The same, inserting before `before` (a null op appends). */
tdm_status tdm_build_before(MlirBlock block, MlirOperation before, MlirLocation loc,
                            tdm_op_kind kind, const MlirValue *operands, int n,
                            const tdm_attrs *attrs, tdm_type *inout_type,
                            MlirValue *out_result);

/* Loads the tdm dialect (IRDL) into `ctx`. */
tdm_status tdm_dialect_load(MlirContext ctx);

/* ---- Locations ------------------------------------------------------------------- */

/* Frontends name an op's origin as NameLoc("layer 'fc1' (id 7)", file:line:col). */
MlirLocation tdm_loc_layer(MlirContext ctx, const char *file, unsigned line,
                           const char *layer_name, const char *layer_id);
/* "model.xml: layer 'fc1' (id 7)" or "model.mlir:12:5" or "<unknown>". */
void tdm_loc_describe(MlirLocation loc, strbuf *sb);
/* Prefixes `st` with the location of `op`. */
tdm_status tdm_op_error(MlirOperation op, tdm_status st);

/* Block-quantised weights: tdm.weight's optional `encoding` names the format its
 * bytes are in ("q4_0", "q4_1", "q8_0", "f16", "bf16", "f32"); the result is f32. NULL
 * when the op has none (the bytes are the result type's). */
const char *tdm_weight_encoding(MlirOperation weight_op);
/* The encoding the weight takes in the compiled model's weights blob: its optional
 * `storage` attribute (tandemc --weights-type), else its encoding; NULL for none. */
const char *tdm_weight_storage(MlirOperation weight_op);
/* True when the weight is a matrix [N, K] stored in a format the block-weight kernels
 * read (q8_0, q4_0, q4_1, f16, bf16; K a multiple of 32): a matmul by its transpose
 * stays one (matmul-layout) and runs in a kernel (lower-graph), as does a gather of
 * its rows. */
int tdm_weight_is_blocked(MlirOperation weight_op);
/* Bytes `numel` elements take in `encoding` (whole blocks); 0 if unknown or ragged. */
uint64_t tdm_encoding_bytes(const char *encoding, int64_t numel);

/* Removes tdm ops whose result is unused (last to first, so chains go at once). */
tdm_status tdm_block_remove_dead(MlirBlock block);
/* Reorders the block's ops so that every op follows its operands' definitions,
 * keeping the existing order wherever it already is one (the terminator stays last). */
tdm_status tdm_block_sort(MlirBlock block);

/* The bodies of the module's func.funcs (the graph's entry points), in order;
 * returns how many (at most `max`). */
int tdm_graph_blocks(MlirOperation module, MlirBlock *out, int max);
/* The same with each function's name (borrowed from the IR). */
int tdm_graph_functions(MlirOperation module, MlirBlock *blocks, const char **names, int max);

/* Small helpers over the C API. */
MlirStringRef tdm_str(const char *s);
/* Copies an MlirStringRef into a strbuf-owned C string. */
void tdm_sb_put_ref(strbuf *sb, MlirStringRef ref);

#endif
