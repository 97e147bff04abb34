/* Opening weights files and running the fake model. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_model.h"
#include "test_util.h"

static const float t_x[FAKE_N] = {1, -2, 3, 0.5f, -0.25f, 8, 0, -1, 2, 2, 2, -3, 4, 5, -6, 7};
static const int32_t t_n = 3;

/* Writes `spec` as NAME in the scratch dir and opens fake_desc with it. */
static tandem_status t_open_with(const char *name, const fake_weights_file *spec, uint32_t flags,
                                 tandem_model **out) {
  const char *path = t_path(name);
  if (fake_weights_write(path, spec) != 0) t_fail(__FILE__, __LINE__, "write weights", path);
  tandem_open_options options = {path, flags};
  return tandem_model_open(&fake_desc, &options, NULL, out);
}

/* Opening must fail with `code` and `fragment`, leaving *out NULL. */
static void t_open_fails(const char *name, const fake_weights_file *spec, uint32_t flags,
                         tandem_status_code code, const char *fragment) {
  tandem_model *model = (tandem_model *)&model; /* not NULL, to see it reset */
  CHECK_STATUS(t_open_with(name, spec, flags, &model), code, fragment);
  CHECK(model == NULL);
}

static void test_weights_bad_files(void) {
  fake_weights_file spec = fake_weights_file_good();
  char expected[256];

  spec.data_hash ^= 1;
  snprintf(expected, sizeof expected,
           "other.weights: weights belong to another model (hash 0x%016llx, model expects "
           "0x%016llx)", (unsigned long long)(FAKE_WEIGHTS_HASH ^ 1),
           (unsigned long long)FAKE_WEIGHTS_HASH);
  t_open_fails("other.weights", &spec, 0, TANDEM_FAILED_PRECONDITION, expected);

  spec = fake_weights_file_good();
  spec.data_size = 64;
  t_open_fails("size.weights", &spec, 0, TANDEM_FAILED_PRECONDITION,
               "size.weights: weights belong to another model (64 bytes of data, model 'fake' "
               "expects 67)");

  spec = fake_weights_file_good();
  spec.truncate_to = TANDEM_WEIGHTS_DATA_OFFSET + 60;
  t_open_fails("trunc.weights", &spec, 0, TANDEM_DATA_LOSS,
               "trunc.weights: truncated: header says 67 bytes of data, file has 60");

  spec.truncate_to = 100;
  t_open_fails("short.weights", &spec, 0, TANDEM_DATA_LOSS,
               "short.weights: truncated: file has 100 bytes, less than the 4096-byte header");

  spec = fake_weights_file_good();
  spec.magic = "TNDMWGT0";
  t_open_fails("magic.weights", &spec, 0, TANDEM_INVALID_ARGUMENT,
               "magic.weights: not a tandem weights file");
  spec.truncate_to = 3;
  t_open_fails("tiny.weights", &spec, 0, TANDEM_INVALID_ARGUMENT, "not a tandem weights file");
  spec.truncate_to = 0;
  t_open_fails("empty.weights", &spec, 0, TANDEM_INVALID_ARGUMENT, "not a tandem weights file");

  spec = fake_weights_file_good();
  spec.version = 2;
  t_open_fails("v2.weights", &spec, 0, TANDEM_FAILED_PRECONDITION,
               "v2.weights: weights file version 2, this runtime reads version 1");
  spec = fake_weights_file_good();
  spec.data_offset = 64;
  t_open_fails("offset.weights", &spec, 0, TANDEM_DATA_LOSS, "data_offset 64, expected 4096");
}

static void test_weights_missing(void) {
  tandem_model *model = NULL;
  tandem_open_options options = {t_path("missing.weights"), 0};
  CHECK_STATUS(tandem_model_open(&fake_desc, &options, NULL, &model), TANDEM_NOT_FOUND,
               "missing.weights: cannot open: No such file or directory");
  CHECK(model == NULL);
  options.weights_path = t_path("");
  CHECK_STATUS(tandem_model_open(&fake_desc, &options, NULL, &model), TANDEM_INVALID_ARGUMENT,
               "not a regular file");
  CHECK_STATUS(tandem_model_open(&fake_desc, NULL, NULL, &model), TANDEM_INVALID_ARGUMENT,
               "model 'fake' needs a weights file, but no weights path was given");
}

static void test_weights_verify(void) {
  fake_weights_file spec = fake_weights_file_good();
  tandem_model *model = NULL;
  spec.flip_byte = 66; /* in the tail, past the floats */
  /* The header still matches the model, so only hashing the content notices. */
  CHECK_OK(t_open_with("flipped.weights", &spec, 0, &model));
  tandem_model_close(model);
  CHECK_STATUS(t_open_with("flipped.weights", &spec, TANDEM_OPEN_VERIFY_WEIGHTS, &model),
               TANDEM_DATA_LOSS, "flipped.weights: weights are corrupt: content hash 0x");
  CHECK(model == NULL);
  spec = fake_weights_file_good();
  CHECK_OK(t_open_with("good.weights", &spec, TANDEM_OPEN_VERIFY_WEIGHTS, &model));
  tandem_model_close(model);
}

void test_weights(void) {
  test_weights_bad_files();
  test_weights_missing();
  test_weights_verify();
}

/* Runs `model` with caller buffers and with its own, comparing with the reference. */
static void t_run_and_check(tandem_model *model) {
  float y[FAKE_N], y_ref[FAKE_N];
  int64_t z[2], z_ref[2];
  const void *inputs[] = {t_x, &t_n};
  fake_reference(t_x, t_n, y_ref, z_ref);

  void *outputs[] = {y, z};
  CHECK_OK(tandem_model_run(model, inputs, outputs));
  CHECK(memcmp(y, y_ref, sizeof y) == 0 && memcmp(z, z_ref, sizeof z) == 0);

  CHECK_OK(tandem_model_run(model, inputs, NULL));
  const float *own_y = tandem_model_output(model, 0);
  const int64_t *own_z = tandem_model_output(model, 1);
  CHECK(own_y && own_z && (uintptr_t)own_y % 64 == 0 && (uintptr_t)own_z % 64 == 0);
  CHECK(memcmp(own_y, y_ref, sizeof y) == 0 && memcmp(own_z, z_ref, sizeof z) == 0);
  CHECK(tandem_model_output(model, 2) == NULL);

  /* A NULL entry: that output only goes to the model's buffer. */
  memset(y, 0, sizeof y);
  void *mixed[] = {y, NULL};
  CHECK_OK(tandem_model_run(model, inputs, mixed));
  CHECK(memcmp(y, y_ref, sizeof y) == 0 && memcmp(own_z, z_ref, sizeof z) == 0);
}

static void test_model_file_and_embedded(void) {
  fake_weights_file spec = fake_weights_file_good();
  tandem_model *model = NULL;
  CHECK_OK(t_open_with("model.weights", &spec, 0, &model));
  if (model) t_run_and_check(model);
  CHECK(tandem_model_describe(model) == &fake_desc);
  tandem_model_close(model);

  /* Embedded weights: no file, the path is ignored. */
  tandem_open_options options = {"/nonexistent/model.weights", TANDEM_OPEN_VERIFY_WEIGHTS};
  model = NULL;
  CHECK_OK(tandem_model_open(&fake_desc_embedded, &options, NULL, &model));
  if (model) t_run_and_check(model);
  tandem_model_close(model);

  /* A model without weights needs no file either. */
  model = NULL;
  CHECK_OK(tandem_model_open(&fake_desc_bare, NULL, NULL, &model));
  float v[4] = {1, 2, 3, 4}, w[4];
  const void *in[] = {v};
  void *out[] = {w};
  CHECK_OK(tandem_model_run(model, in, out));
  CHECK(w[0] == 2 && w[3] == 8);
  tandem_model_close(model);
  tandem_model_close(NULL);
}

static void test_model_bad_args(void) {
  tandem_model *model = NULL;
  CHECK_OK(tandem_model_open(&fake_desc_embedded, NULL, NULL, &model));
  const void *missing[] = {t_x, NULL};
  CHECK_STATUS(tandem_model_run(model, missing, NULL), TANDEM_INVALID_ARGUMENT,
               "model 'fake_embedded': input 1 ('n') is NULL");
  CHECK_STATUS(tandem_model_run(model, NULL, NULL), TANDEM_INVALID_ARGUMENT,
               "inputs is NULL, expected 2 buffers");
  CHECK_STATUS(tandem_model_run(NULL, missing, NULL), TANDEM_INVALID_ARGUMENT, "model is NULL");
  CHECK(tandem_model_output(NULL, 0) == NULL);
  tandem_model_close(model);
  CHECK_STATUS(tandem_model_open(NULL, NULL, NULL, &model), TANDEM_INVALID_ARGUMENT, "desc");
  CHECK_STATUS(tandem_model_open(&fake_desc, NULL, NULL, NULL), TANDEM_INVALID_ARGUMENT,
               "out_model");
}

/* Descriptors as a buggy or mismatched compiler might emit them. */
static void test_model_bad_desc(void) {
  tandem_model *model = NULL;
  tandem_model_desc desc = fake_desc_embedded;
  desc.abi_version = 2;
  CHECK_STATUS(tandem_model_open(&desc, NULL, NULL, &model), TANDEM_FAILED_PRECONDITION,
               "model 'fake_embedded' was compiled for runtime ABI 2, this runtime is ABI 1");
  desc = fake_desc_embedded;
  desc.entry = NULL;
  CHECK_STATUS(tandem_model_open(&desc, NULL, NULL, &model), TANDEM_INVALID_ARGUMENT, "entry");
  tandem_tensor_desc outputs[2] = {fake_desc.outputs[0], fake_desc.outputs[1]};
  outputs[1].byte_size = 12;
  desc = fake_desc_embedded;
  desc.outputs = outputs;
  CHECK_STATUS(tandem_model_open(&desc, NULL, NULL, &model), TANDEM_INVALID_ARGUMENT,
               "output 1 ('z'): byte_size 12 does not match i64[2] (16 bytes)");
  outputs[1].dtype = 42;
  CHECK_STATUS(tandem_model_open(&desc, NULL, NULL, &model), TANDEM_INVALID_ARGUMENT,
               "bad dtype 42");
  desc = fake_desc_embedded;
  desc.embedded_weights = (const char *)fake_weights() + 4;
  CHECK_STATUS(tandem_model_open(&desc, NULL, NULL, &model), TANDEM_INVALID_ARGUMENT,
               "not 64-byte aligned");
  desc = fake_desc_embedded;
  desc.weights_hash ^= 1;
  CHECK_OK(tandem_model_open(&desc, NULL, NULL, &model));
  tandem_model_close(model);
  tandem_open_options verify = {NULL, TANDEM_OPEN_VERIFY_WEIGHTS};
  CHECK_STATUS(tandem_model_open(&desc, &verify, NULL, &model), TANDEM_DATA_LOSS,
               "model 'fake_embedded': embedded weights are corrupt");
  CHECK(model == NULL);
}

/* An allocator that counts, checks alignment, and can be told to fail. */
typedef struct t_counting {
  int live, total, fail_after; /* fail_after < 0: never */
} t_counting;

static void *t_counting_alloc(void *self, size_t size, size_t alignment) {
  t_counting *c = self;
  if (c->fail_after >= 0 && c->total >= c->fail_after) return NULL;
  void *p = NULL;
  if (size % alignment != 0 || posix_memalign(&p, alignment, size) != 0) return NULL;
  c->live++;
  c->total++;
  return p;
}

static void t_counting_free(void *self, void *ptr) {
  ((t_counting *)self)->live--;
  free(ptr);
}

static void test_model_allocator(void) {
  t_counting counts = {0, 0, -1};
  tandem_allocator allocator = {&counts, t_counting_alloc, t_counting_free};
  tandem_model *model = NULL;
  CHECK_OK(tandem_model_open(&fake_desc_embedded, NULL, &allocator, &model));
  CHECK(counts.live == 4); /* the model, the output table, two outputs */
  if (model) t_run_and_check(model);
  tandem_model_close(model);
  CHECK(counts.live == 0);
  /* Failing at each allocation in turn: an error, nothing leaked, *out NULL. */
  for (int n = 0; n < 4; n++) {
    counts = (t_counting){0, 0, n};
    model = (tandem_model *)&model;
    CHECK_STATUS(tandem_model_open(&fake_desc_embedded, NULL, &allocator, &model),
                 TANDEM_OUT_OF_MEMORY, "model 'fake_embedded': cannot allocate");
    CHECK(model == NULL && counts.live == 0);
  }
}

void test_model(void) {
  test_model_file_and_embedded();
  test_model_bad_args();
  test_model_bad_desc();
  test_model_allocator();
}
