/* Whole-block utilities for graph passes: dead-op removal and re-sorting after a
 * rewrite moved data dependences around. */
#include <stdlib.h>

#include "ir/tdm.h"
#include "support/ptrmap.h"

static tdm_status block_ops(MlirBlock block, MlirOperation **out, int *n) {
  int cap = 256;
  *n = 0;
  *out = malloc(sizeof **out * (size_t)cap);
  if (!*out) return TDM_INTERNAL("out of memory");
  for (MlirOperation op = mlirBlockGetFirstOperation(block); !mlirOperationIsNull(op);
       op = mlirOperationGetNextInBlock(op)) {
    if (*n == cap) {
      MlirOperation *grown = realloc(*out, sizeof **out * (size_t)(cap *= 2));
      if (!grown) {
        free(*out);
        return TDM_INTERNAL("out of memory");
      }
      *out = grown;
    }
    (*out)[(*n)++] = op;
  }
  return NULL;
}

tdm_status tdm_block_remove_dead(MlirBlock block) {
  MlirOperation *ops;
  int n;
  TDM_TRY(block_ops(block, &ops, &n));
  for (int i = n - 1; i >= 0; i--)
    if (tdm_op_kind_of(ops[i]) != TDM_OP_NONE && tdm_op_kind_of(ops[i]) != TDM_OP_ATTENTION &&
        mlirOpOperandIsNull(mlirValueGetFirstUse(mlirOperationGetResult(ops[i], 0))))
      mlirOperationDestroy(ops[i]);
  free(ops);
  return NULL;
}

/* Kahn's algorithm, always taking the earliest ready op in the current order, so
 * an already-sorted block is left as it is. O(n^2) in the worst case; graphs have
 * thousands of ops, not millions. */
tdm_status tdm_block_sort(MlirBlock block) {
  MlirOperation *ops;
  int n;
  TDM_TRY(block_ops(block, &ops, &n));
  ptrmap index;
  ptrmap_init(&index);
  int *pending = calloc((size_t)n + 1, sizeof *pending), *placed = calloc((size_t)n + 1, sizeof *placed);
  tdm_status st = pending && placed ? NULL : TDM_INTERNAL("out of memory");
  for (int i = 0; i < n && !st; i++)
    if (!ptrmap_put(&index, ops[i].ptr, i)) st = TDM_INTERNAL("out of memory");
  /* pending[i]: operands of op i defined by ops of this block not yet placed. */
  for (int i = 0; i < n && !st; i++)
    for (intptr_t k = 0; k < mlirOperationGetNumOperands(ops[i]); k++) {
      MlirValue v = mlirOperationGetOperand(ops[i], k);
      if (mlirValueIsAOpResult(v) && ptrmap_get(&index, mlirOpResultGetOwner(v).ptr) >= 0) pending[i]++;
    }
  MlirOperation last = {NULL};
  for (int done = 0; done < n && !st;) {
    int pick = -1;
    for (int i = 0; i < n && pick < 0; i++) {
      if (i == n - 1 && done < n - 1) continue; /* the terminator goes last */
      if (!placed[i] && pending[i] == 0) pick = i;
    }
    if (pick < 0) {
      st = TDM_INTERNAL("the graph has a cycle after a rewrite");
      break;
    }
    placed[pick] = 1;
    done++;
    if (mlirOperationIsNull(last)) mlirOperationMoveBefore(ops[pick], mlirBlockGetFirstOperation(block));
    else mlirOperationMoveAfter(ops[pick], last);
    last = ops[pick];
    for (intptr_t r = 0; r < mlirOperationGetNumResults(ops[pick]); r++)
      for (MlirOpOperand u = mlirValueGetFirstUse(mlirOperationGetResult(ops[pick], r)); !mlirOpOperandIsNull(u);
           u = mlirOpOperandGetNextUse(u)) {
        int user = ptrmap_get(&index, mlirOpOperandGetOwner(u).ptr);
        if (user >= 0) pending[user]--;
      }
  }
  ptrmap_free(&index);
  free(pending);
  free(placed);
  free(ops);
  return st;
}
