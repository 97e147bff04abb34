/* app: runs the model tandem_add_model compiled (target mlp) on .npy inputs.
 *   app INPUT.npy... [OUTPUT.npy...]
 * One INPUT per model input; with OUTPUTs (one per model output) writes them as .npy,
 * without prints each output's first values. Reads mlp.weights from beside the
 * executable. Nothing here knows the model: its interface comes from mlp_desc. */
#define _POSIX_C_SOURCE 200809L /* readlink */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mlp.h"

#define MAX_TENSORS 16

/* This executable's folder + "/mlp.weights" (argv[0]'s folder without /proc). */
static void weights_beside_exe(const char *argv0, char *path, size_t size) {
  char self[PATH_MAX] = "";
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len > 0) self[len] = 0;
  else snprintf(self, sizeof self, "%s", argv0);
  char *slash = strrchr(self, '/');
  if (slash) *slash = 0;
  snprintf(path, size, "%s/mlp.weights", slash ? self : ".");
}

static void print_output(const tandem_tensor_desc *t, const void *data) {
  printf("%s: %s[", t->name, tandem_dtype_name(t->dtype));
  for (int32_t d = 0; d < t->rank; d++) printf("%s%lld", d ? "," : "", (long long)t->shape[d]);
  printf("]");
  uint64_t count = t->dtype == TANDEM_DTYPE_F32 ? t->byte_size / sizeof(float) : 0;
  for (uint64_t i = 0; i < count && i < 8; i++) printf(" %g", ((const float *)data)[i]);
  printf("%s\n", count > 8 ? " ..." : "");
}

int main(int argc, char **argv) {
  uint32_t n_in = mlp_desc.input_count, n_out = mlp_desc.output_count;
  int n_args = argc - 1;
  if (n_in > MAX_TENSORS || (n_args != (int)n_in && n_args != (int)(n_in + n_out))) {
    fprintf(stderr, "usage: %s INPUT.npy... [OUTPUT.npy...]  (model %s: %u inputs, %u outputs)\n",
            argv[0], mlp_desc.name, n_in, n_out);
    return 2;
  }
  char weights[PATH_MAX + 16];
  weights_beside_exe(argv[0], weights, sizeof weights);
  tandem_open_options options = {.weights_path = MLP_WEIGHTS_EMBEDDED ? NULL : weights};
  tandem_model *model = NULL;
  tandem_array arrays[MAX_TENSORS] = {0};
  const void *inputs[MAX_TENSORS] = {0};

  tandem_status st = tandem_model_open(&mlp_desc, &options, NULL, &model);
  for (uint32_t i = 0; !st && i < n_in; i++) {
    st = tandem_npy_read_expect(argv[1 + i], &mlp_desc.inputs[i], NULL, &arrays[i]);
    inputs[i] = arrays[i].data;
  }
  if (!st) st = tandem_model_run(model, inputs, NULL);
  for (uint32_t i = 0; !st && i < n_out; i++) {
    const void *y = tandem_model_output(model, i);
    if (n_args == (int)n_in) print_output(&mlp_desc.outputs[i], y);
    else st = tandem_npy_write(argv[1 + n_in + i], &mlp_desc.outputs[i], y);
  }

  for (uint32_t i = 0; i < n_in; i++) tandem_array_free(&arrays[i], NULL);
  tandem_model_close(model);
  if (st) {
    fprintf(stderr, "app: %s\n", tandem_status_message(st));
    tandem_status_free(st);
    return 1;
  }
  return 0;
}
