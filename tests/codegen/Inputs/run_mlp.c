/* Runs the mlp test model through the runtime API: open, run on runtime-owned
 * output buffers, write the output as .npy, close.
 *   run_mlp WEIGHTS|- INPUT.npy OUTPUT.npy */
#include <stdio.h>
#include <string.h>

#include "mlp.h"

static int fail(tandem_status st) {
  fprintf(stderr, "run_mlp: %s\n", tandem_status_message(st));
  tandem_status_free(st);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  tandem_open_options opts = {.weights_path = strcmp(argv[1], "-") ? argv[1] : NULL};
  tandem_model *model;
  tandem_status st = tandem_model_open(&mlp_desc, &opts, NULL, &model);
  if (st) return fail(st);
  tandem_array x;
  st = tandem_npy_read_expect(argv[2], &mlp_desc.inputs[0], NULL, &x);
  if (!st) {
    const void *ins[1] = {x.data};
    st = tandem_model_run(model, ins, NULL);
    if (!st) st = tandem_npy_write(argv[3], &mlp_desc.outputs[0], tandem_model_output(model, 0));
    tandem_array_free(&x, NULL);
  }
  tandem_model_close(model);
  return st ? fail(st) : 0;
}
