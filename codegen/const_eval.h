/* Compile-time evaluation of weight-only subgraphs (see const_eval.c). */
#ifndef TANDEM_CODEGEN_CONST_EVAL_H
#define TANDEM_CODEGEN_CONST_EVAL_H

#include <stddef.h>
#include "ir/tdm.h"

/* Ops ce_eval can evaluate. */
int ce_can_fold(tdm_op_kind kind);

/* Evaluates `kind` on `n` dense row-major operands; *out_data is malloc'd (caller
 * frees) and holds *out_size bytes of `out_type`. */
tdm_status ce_eval(tdm_op_kind kind, const tdm_attrs *attrs, const uint8_t *const *ins,
                   const tdm_type *in_types, int n, const tdm_type *out_type,
                   uint8_t **out_data, size_t *out_size);

#endif
