/* Attributes of graph ops: tdm_attrs <-> MLIR attributes, and tdm_build. */
#include <stdio.h>
#include <string.h>

#include "ir/tdm.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

MlirStringRef tdm_str(const char *s) { return mlirStringRefCreateFromCString(s); }

void tdm_sb_put_ref(strbuf *sb, MlirStringRef ref) { sb_append(sb, ref.data, ref.length); }

enum attr_kind { K_STRING, K_INT, K_BOOL, K_FLOAT, K_ARRAY, K_DENSE };

static enum attr_kind kind_of_bit(unsigned bit) {
  switch (bit) {
    case TDM_A_NAME: case TDM_A_APPROX: case TDM_A_EPS_MODE: return K_STRING;
    case TDM_A_FILE: case TDM_A_OFFSET: case TDM_A_AXIS: case TDM_A_BATCH_DIMS:
    case TDM_A_DIMS: case TDM_A_LAYER: case TDM_A_START: return K_INT;
    case TDM_A_NORM_VAR: case TDM_A_KEEP_DIMS: case TDM_A_TRANSPOSE_A:
    case TDM_A_TRANSPOSE_B: return K_BOOL;
    case TDM_A_BETA: case TDM_A_MIN: case TDM_A_MAX: case TDM_A_EPS:
    case TDM_A_FREQ_BASE: case TDM_A_SCALE: return K_FLOAT;
    case TDM_A_AXES: case TDM_A_PERM: return K_ARRAY;
    default: return K_DENSE;
  }
}

/* Where each attribute lives in tdm_attrs. */
typedef struct slot {
  const char **str;
  int64_t *i64;
  int *flag;
  double *f64;
  int64_t *arr;
  int *arr_n;
  MlirAttribute *dense;
} slot;

static slot slot_of(tdm_attrs *a, unsigned bit) {
  slot s = {0};
  switch (bit) {
    case TDM_A_NAME: s.str = &a->name; break;
    case TDM_A_APPROX: s.str = &a->approximation; break;
    case TDM_A_EPS_MODE: s.str = &a->eps_mode; break;
    case TDM_A_FILE: s.i64 = &a->file; break;
    case TDM_A_OFFSET: s.i64 = &a->offset; break;
    case TDM_A_AXIS: s.i64 = &a->axis; break;
    case TDM_A_BATCH_DIMS: s.i64 = &a->batch_dims; break;
    case TDM_A_NORM_VAR: s.flag = &a->normalize_variance; break;
    case TDM_A_KEEP_DIMS: s.flag = &a->keep_dims; break;
    case TDM_A_TRANSPOSE_A: s.flag = &a->transpose_a; break;
    case TDM_A_TRANSPOSE_B: s.flag = &a->transpose_b; break;
    case TDM_A_BETA: s.f64 = &a->beta; break;
    case TDM_A_MIN: s.f64 = &a->min; break;
    case TDM_A_MAX: s.f64 = &a->max; break;
    case TDM_A_EPS: s.f64 = &a->eps; break;
    case TDM_A_AXES: s.arr = a->axes, s.arr_n = &a->naxes; break;
    case TDM_A_PERM: s.arr = a->perm, s.arr_n = &a->nperm; break;
    case TDM_A_VALUE: s.dense = &a->value; break;
    case TDM_A_FREQ_BASE: s.f64 = &a->freq_base; break;
    case TDM_A_SCALE: s.f64 = &a->scale; break;
    case TDM_A_DIMS: s.i64 = &a->dims; break;
    case TDM_A_LAYER: s.i64 = &a->layer; break;
    case TDM_A_START: s.i64 = &a->start; break;
  }
  return s;
}

static int bit_index(unsigned bit) {
  int i = 0;
  while ((1u << i) != bit) i++;
  return i;
}

static tdm_status read_one(MlirAttribute attr, unsigned bit, slot s, const char *name) {
  switch (kind_of_bit(bit)) {
    case K_STRING:
      if (!mlirAttributeIsAString(attr)) break;
      {
        /* MLIR's uniquer stores strings NUL-terminated; an empty one has no data. */
        MlirStringRef r = mlirStringAttrGetValue(attr);
        *s.str = r.length ? r.data : "";
      }
      return NULL;
    case K_INT:
      if (!mlirAttributeIsAInteger(attr)) break;
      *s.i64 = mlirIntegerAttrGetValueInt(attr);
      return NULL;
    case K_BOOL:
      if (!mlirAttributeIsAInteger(attr)) break;
      *s.flag = mlirIntegerAttrGetValueInt(attr) != 0;
      return NULL;
    case K_FLOAT:
      if (!mlirAttributeIsAFloat(attr)) break;
      *s.f64 = mlirFloatAttrGetValueDouble(attr);
      return NULL;
    case K_ARRAY: {
      if (!mlirAttributeIsADenseI64Array(attr)) break;
      intptr_t n = mlirDenseArrayGetNumElements(attr);
      if (n > TDM_MAX_RANK) return TDM_BAD("attribute '%s' has too many entries", name);
      for (intptr_t i = 0; i < n; i++) s.arr[i] = mlirDenseI64ArrayGetElement(attr, i);
      *s.arr_n = (int)n;
      return NULL;
    }
    case K_DENSE:
      if (!mlirAttributeIsADenseElements(attr)) break;
      *s.dense = attr;
      return NULL;
  }
  return TDM_BAD("attribute '%s' has the wrong kind", name);
}

tdm_status tdm_attrs_from_op(MlirOperation op, tdm_op_kind kind, tdm_attrs *out) {
  memset(out, 0, sizeof *out);
  out->name = out->approximation = out->eps_mode = "";
  unsigned want = tdm_op_infos[kind].attrs;
  for (unsigned bit = 1; bit && bit <= want; bit <<= 1) {
    if (!(want & bit)) continue;
    const char *name = tdm_attr_names[bit_index(bit)];
    MlirAttribute a = mlirOperationGetAttributeByName(op, tdm_str(name));
    if (mlirAttributeIsNull(a)) return TDM_BAD("missing attribute '%s'", name);
    TDM_TRY(read_one(a, bit, slot_of(out, bit), name));
  }
  return NULL;
}

static MlirAttribute make_one(MlirContext ctx, unsigned bit, tdm_attrs *a) {
  slot s = slot_of(a, bit);
  switch (kind_of_bit(bit)) {
    case K_STRING: return mlirStringAttrGet(ctx, tdm_str(*s.str ? *s.str : ""));
    case K_INT: return mlirIntegerAttrGet(mlirIntegerTypeGet(ctx, 64), *s.i64);
    case K_BOOL: return mlirBoolAttrGet(ctx, *s.flag);
    case K_FLOAT: return mlirFloatAttrDoubleGet(ctx, mlirF32TypeGet(ctx), *s.f64);
    case K_ARRAY: return mlirDenseI64ArrayGet(ctx, *s.arr_n, s.arr);
    case K_DENSE: return *s.dense;
  }
  return mlirAttributeGetNull();
}

tdm_status tdm_build(MlirBlock block, MlirLocation loc, tdm_op_kind kind,
                     const MlirValue *operands, int n, const tdm_attrs *attrs,
                     tdm_type *inout_type, MlirValue *out_result) {
  return tdm_build_before(block, (MlirOperation){NULL}, loc, kind, operands, n, attrs,
                          inout_type, out_result);
}

tdm_status tdm_build_before(MlirBlock block, MlirOperation before, MlirLocation loc,
                            tdm_op_kind kind, const MlirValue *operands, int n,
                            const tdm_attrs *attrs, tdm_type *inout_type,
                            MlirValue *out_result) {
  MlirContext ctx = mlirLocationGetContext(loc);
  enum { MAX_OPERANDS = 256 };
  tdm_type types[MAX_OPERANDS];
  if (n > MAX_OPERANDS) return TDM_BAD("more than %d operands", MAX_OPERANDS);
  for (int i = 0; i < n; i++)
    TDM_TRY(tdm_type_from_mlir(mlirValueGetType(operands[i]), &types[i]));
  tdm_attrs a = *attrs;
  if (!a.name) a.name = "";
  if (!a.approximation) a.approximation = "";
  if (!a.eps_mode) a.eps_mode = "";
  TDM_TRY(tdm_infer(kind, types, n, &a, inout_type));

  char opname[48];
  snprintf(opname, sizeof opname, "tdm.%s", tdm_op_infos[kind].name);
  MlirOperationState st = mlirOperationStateGet(tdm_str(opname), loc);
  mlirOperationStateAddOperands(&st, n, operands);
  MlirType rt = tdm_type_to_mlir(ctx, inout_type);
  mlirOperationStateAddResults(&st, 1, &rt);
  MlirNamedAttribute named[TDM_A_COUNT];
  int nnamed = 0;
  for (unsigned bit = 1; bit < (1u << TDM_A_COUNT); bit <<= 1) {
    if (!(tdm_op_infos[kind].attrs & bit)) continue;
    MlirIdentifier id = mlirIdentifierGet(ctx, tdm_str(tdm_attr_names[bit_index(bit)]));
    named[nnamed++] = mlirNamedAttributeGet(id, make_one(ctx, bit, &a));
  }
  mlirOperationStateAddAttributes(&st, nnamed, named);
  MlirOperation op = mlirOperationCreate(&st);
  if (mlirOperationIsNull(op)) return TDM_INTERNAL("could not create %s", opname);
  if (mlirOperationIsNull(before)) mlirBlockAppendOwnedOperation(block, op);
  else mlirBlockInsertOwnedOperationBefore(block, before, op);
  *out_result = mlirOperationGetResult(op, 0);
  return NULL;
}
