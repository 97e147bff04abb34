/* The op and attribute name tables of the graph dialect. */
#include <string.h>

#include "ir/tdm.h"

const tdm_op_info tdm_op_infos[TDM_OP_COUNT] = {
#define X(k, n, lo, hi, a) [TDM_OP_##k] = {n, lo, hi, a},
    TDM_OP_LIST(X)
#undef X
};

const char *const tdm_attr_names[TDM_A_COUNT] = {
    "name", "file", "offset", "value", "approximation", "beta", "min", "max", "axis",
    "axes", "eps", "normalize_variance", "eps_mode", "keep_dims", "perm", "batch_dims",
    "transpose_a", "transpose_b", "freq_base", "dims", "layer", "scale", "start",
};

_Static_assert(sizeof tdm_attr_names / sizeof tdm_attr_names[0] == TDM_A_COUNT,
               "one name per attribute bit");
_Static_assert(TDM_A_START == 1u << (TDM_A_COUNT - 1), "attribute bits are dense");

tdm_op_kind tdm_op_kind_from_name(const char *name) {
  if (strncmp(name, "tdm.", 4) == 0) name += 4;
  for (int k = 0; k < TDM_OP_COUNT; k++)
    if (strcmp(tdm_op_infos[k].name, name) == 0) return (tdm_op_kind)k;
  return TDM_OP_NONE;
}

tdm_op_kind tdm_op_kind_of(MlirOperation op) {
  MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
  if (name.length < 5 || name.length > 40 || memcmp(name.data, "tdm.", 4) != 0)
    return TDM_OP_NONE;
  char buf[48];
  memcpy(buf, name.data, name.length);
  buf[name.length] = 0;
  return tdm_op_kind_from_name(buf);
}

int tdm_op_is_elementwise_binary(tdm_op_kind k) {
  return k >= TDM_OP_ADD && k <= TDM_OP_MIN;
}

int tdm_op_is_elementwise_unary(tdm_op_kind k) {
  return k >= TDM_OP_RELU && k <= TDM_OP_CONVERT;
}
