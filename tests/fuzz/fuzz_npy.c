/* Fuzz target: the .npy reader of compiled executables (runtime/npy.c).
 *
 * The input is a .npy file. tandem_npy_read reads it, and tandem_npy_read_expect
 * against an f32[2,3] input as a model's driver does; an array that reads must write
 * back (tandem_npy_write) and read again to the same dtype, shape and bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "tandem/runtime.h"

static void fail(const char *what, tandem_status st) {
  fprintf(stderr, "fuzz: %s%s%s\n", what, st ? ": " : "", st ? tandem_status_message(st) : "");
  abort();
}

/* The message of a status on a bad file: one line, not empty. */
static void check_message(tandem_status st) {
  const char *msg = tandem_status_message(st);
  if (!*msg || strchr(msg, '\n')) fail("an error message is empty or has several lines", NULL);
  if (tandem_status_code_of(st) == TANDEM_INTERNAL) fail("an input gave an internal error", st);
}

static void round_trip(const tandem_array *a) {
  tandem_tensor_desc desc = {"x", a->dtype, a->rank, a->shape, a->byte_size};
  char path[512];
  snprintf(path, sizeof path, "%s/out.npy", fuzz_dir());
  tandem_status st = tandem_npy_write(path, &desc, a->data);
  if (st) fail("an array that reads does not write", st);
  tandem_array b;
  st = tandem_npy_read(path, NULL, &b);
  if (st) fail("a written array does not read back", st);
  if (b.dtype != a->dtype || b.rank != a->rank || b.byte_size != a->byte_size ||
      memcmp(b.shape, a->shape, sizeof a->shape) != 0 ||
      (a->byte_size && memcmp(b.data, a->data, (size_t)a->byte_size) != 0))
    fail("an array read back differs from the one written", NULL);
  tandem_array_free(&b, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_write("in.npy", data, size);
  tandem_array a;
  tandem_status st = tandem_npy_read(path, NULL, &a);
  if (!st) {
    round_trip(&a);
    tandem_array_free(&a, NULL);
  } else {
    check_message(st);
    tandem_status_free(st);
  }
  static const int64_t shape[2] = {2, 3};
  const tandem_tensor_desc expect = {"x", TANDEM_DTYPE_F32, 2, shape, 24};
  st = tandem_npy_read_expect(path, &expect, NULL, &a);
  if (!st) {
    if (a.dtype != TANDEM_DTYPE_F32 || a.rank != 2 || a.byte_size != 24) fail("read_expect let another array through", NULL);
    tandem_array_free(&a, NULL);
  } else {
    check_message(st);
    tandem_status_free(st);
  }
  return 0;
}
