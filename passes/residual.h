/* The residual stream of a graph: what layer parallelism works on.
 *
 * A residual block is an add s' = s + b where the branch b is computed from s
 * (s is an ancestor of b). Blocks chain when one's output is the next's input: the
 * longest such chain is the model's residual stream s_0 -> s_1 -> ... -> s_n. A
 * branch that contains attention (tdm.attention, or a softmax in a decomposed
 * graph) followed by one that does not make a transformer layer; any other block
 * is a layer on its own. Found from the graph's structure alone, so an OpenVINO IR
 * transformer stack and a GGUF llama are found alike. */
#ifndef TANDEM_PASSES_RESIDUAL_H
#define TANDEM_PASSES_RESIDUAL_H

#include "ir/tdm.h"

typedef struct tdm_branch {
  MlirValue in;       /* s_k: the stream value the branch reads */
  MlirValue out;      /* b_k: the branch's result */
  MlirOperation add;  /* s_{k+1} = add(s_k, b_k) */
  int is_attention;
  int nops;           /* ops on paths from s_k to b_k */
} tdm_branch;

enum { TDM_LAYER_TRANSFORMER = 0, TDM_LAYER_RESIDUAL = 1 };

typedef struct tdm_layer {
  int kind;           /* TDM_LAYER_* */
  int branch;         /* its first branch; a transformer layer has two (attention, MLP) */
  int nbranches;
} tdm_layer;

typedef struct tdm_residual {
  tdm_branch *branches;
  int nbranches;
  tdm_layer *layers;
  int nlayers;
  strbuf rejected;    /* one line per residual-looking add left out, with the reason */
} tdm_residual;

/* Analyses one graph function's body. */
tdm_status tdm_residual_analyze(MlirBlock block, tdm_residual *out);
void tdm_residual_free(tdm_residual *r);

/* The ops of a branch (on paths from its input to its output), in block order;
 * *out is malloc'd. */
tdm_status tdm_branch_ops(MlirBlock block, const tdm_branch *b, MlirOperation **out, int *n);

/* Why layers (i, i+1) cannot run as a pair, or NULL if they can: both must be
 * transformer layers or both plain residual blocks, and no value between them may be
 * used outside the pair. */
const char *tdm_residual_pair_problem(const tdm_residual *r, MlirBlock block, int i);

/* tdm.matmul ops in the block. */
int tdm_count_gemms(MlirBlock block);
/* Which of the graph functions runs once per token: @decode when there is one. */
int tdm_lp_counted_function(const char **names, int n);

#endif
