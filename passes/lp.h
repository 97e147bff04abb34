/* Layer parallelism outside the pass manager: listing what the passes would see,
 * and the calibration graph --lp=auto measures pairs with. */
#ifndef TANDEM_PASSES_LP_H
#define TANDEM_PASSES_LP_H

#include <stdio.h>

#include "ir/session.h"

/* Prints each graph function's residual layers, which adjacent pairs can run in
 * parallel, and why the others and any residual add off the stream were rejected
 * (tandemc --lp-list). */
tdm_status tdm_layer_parallel_list(MlirOperation module, FILE *out);

/* Turns graph function `function` of `module` into the calibration graph described
 * in passes/lp_calibration.c and removes the other functions; *out_nlayers is the
 * number of residual layers L (inputs lp_switch_1..L-1; outputs stream_in,
 * seq_0..L-1, par_1..L-1 after the model's). */
tdm_status tdm_lp_calibration_graph(MlirModule module, const char *function, int *out_nlayers);

#endif
