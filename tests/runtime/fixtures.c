/* rt-fixtures DIR: writes the files the shell tests use (weights and .npy inputs,
 * references, and arrays for tandem-npycmp) into DIR. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fake_model.h"

static const char *dir;

static const char *fx_path(const char *name) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

static void fx_npy(const char *name, int32_t dtype, int32_t rank, const int64_t *shape,
                   const void *data) {
  uint64_t bytes = tandem_dtype_size(dtype);
  for (int32_t i = 0; i < rank; i++) bytes *= (uint64_t)shape[i];
  tandem_tensor_desc desc = {name, dtype, rank, shape, bytes};
  tandem_status status = tandem_npy_write(fx_path(name), &desc, data);
  if (status) {
    fprintf(stderr, "rt-fixtures: %s\n", tandem_status_message(status));
    exit(1);
  }
}

static void fx_weights(const char *name, uint64_t hash_xor) {
  fake_weights_file spec = fake_weights_file_good();
  spec.data_hash ^= hash_xor;
  if (fake_weights_write(fx_path(name), &spec) != 0) {
    fprintf(stderr, "rt-fixtures: cannot write %s\n", fx_path(name));
    exit(1);
  }
}

static void fx_model_files(void) {
  static const float x[FAKE_N] = {1, -2, 3, 0.5f, -0.25f, 8, 0, -1, 2, 2, 2, -3, 4, 5, -6, 7};
  static const int32_t n = 3;
  float y[FAKE_N];
  int64_t z[2];
  fake_reference(x, n, y, z);
  fx_weights("model.weights", 0);
  fx_weights("other.weights", 1);
  fx_npy("x.npy", TANDEM_DTYPE_F32, 2, (int64_t[]){1, FAKE_N}, x);
  fx_npy("n.npy", TANDEM_DTYPE_I32, 1, (int64_t[]){1}, &n);
  fx_npy("x_short.npy", TANDEM_DTYPE_F32, 2, (int64_t[]){1, FAKE_N - 1}, x);
  fx_npy("x_i32.npy", TANDEM_DTYPE_I32, 2, (int64_t[]){1, FAKE_N}, x);
  fx_npy("x_trunc.npy", TANDEM_DTYPE_F32, 2, (int64_t[]){1, FAKE_N}, x);
  if (truncate(fx_path("x_trunc.npy"), 128 + 10) != 0) exit(1);
  fx_npy("y_ref.npy", TANDEM_DTYPE_F32, 2, (int64_t[]){1, FAKE_N}, y);
  fx_npy("z_ref.npy", TANDEM_DTYPE_I64, 1, (int64_t[]){2}, z);
}

static void fx_compare_files(void) {
  static const int64_t four[] = {4}, three[] = {3};
  fx_npy("a.npy", TANDEM_DTYPE_F32, 1, four, (float[]){1, 2, -0.5f, 0.25f});
  fx_npy("a_close.npy", TANDEM_DTYPE_F32, 1, four, (float[]){1.00001f, 2, -0.5f, 0.25f});
  fx_npy("a_far.npy", TANDEM_DTYPE_F32, 1, four, (float[]){1.01f, 2, -0.5f, 0.25f});
  fx_npy("a_f16.npy", TANDEM_DTYPE_F16, 1, four, (uint16_t[]){0x3c00, 0x4000, 0xb800, 0x3400});
  fx_npy("a_i32.npy", TANDEM_DTYPE_I32, 1, four, (int32_t[]){1, 2, 0, 0});
  fx_npy("a_short.npy", TANDEM_DTYPE_F32, 1, three, (float[]){1, 2, -0.5f});
  fx_npy("nan.npy", TANDEM_DTYPE_F32, 1, four, (float[]){NAN, 2, -0.5f, 0.25f});
  fx_npy("big.npy", TANDEM_DTYPE_F32, 1, four, (float[]){1000, 0.001f, 2, 3});
  fx_npy("big_close.npy", TANDEM_DTYPE_F32, 1, four, (float[]){1000, 0.002f, 2, 3});
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: rt-fixtures DIR\n");
    return 2;
  }
  dir = argv[1];
  fx_model_files();
  fx_compare_files();
  return 0;
}
