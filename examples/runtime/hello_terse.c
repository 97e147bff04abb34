/* hello_terse: the shortest correct use of the runtime API (hello_explained.c is the
 * same program with every step explained).
 *   hello_terse MODEL.weights INPUT.npy OUTPUT.npy
 * mlp.h and libmlp.a come from `tandemc model.xml -o libmlp.a` (here tandem_add_model). */
#include <stdio.h>

#include "mlp.h"

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s MODEL.weights INPUT.npy OUTPUT.npy\n", argv[0]);
    return 2;
  }
  tandem_open_options options = {.weights_path = argv[1]};
  tandem_model *model = NULL;
  tandem_array x = {0};
  tandem_status st = tandem_model_open(&mlp_desc, &options, NULL, &model);
  if (!st) st = tandem_npy_read_expect(argv[2], &mlp_desc.inputs[0], NULL, &x);
  if (!st) st = tandem_model_run(model, (const void *[]){x.data}, NULL);
  if (!st) {
    const float *y = tandem_model_output(model, 0);
    printf("%s: %g %g %g ...\n", mlp_desc.outputs[0].name, y[0], y[1], y[2]);
    st = tandem_npy_write(argv[3], &mlp_desc.outputs[0], y);
  }
  tandem_array_free(&x, NULL);
  tandem_model_close(model);
  if (st) {
    fprintf(stderr, "hello_terse: %s\n", tandem_status_message(st));
    tandem_status_free(st);
    return 1;
  }
  return 0;
}
