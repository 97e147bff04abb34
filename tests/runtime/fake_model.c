/* The fake model: descriptors laid out exactly as tandemc emits them. */
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

#include "fake_model.h"

/* The data section: 16 floats w[i] = (i - 8) / 4, then "abc". */
static const struct {
  alignas(64) float w[FAKE_N];
  char tail[3];
} fake_data = {
    {-2, -1.75, -1.5, -1.25, -1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75},
    {'a', 'b', 'c'},
};

const void *fake_weights(void) { return &fake_data; }

void fake_reference(const float *x, int32_t n, float *y, int64_t *z) {
  z[0] = 2 * (int64_t)n;
  z[1] = 0;
  for (int i = 0; i < FAKE_N; i++) {
    y[i] = x[i] * fake_data.w[i] + 1.0f + (float)n;
    z[1] += x[i] > 0;
  }
}

static void fake_entry(const void *weights, const void *const *inputs, void *const *outputs) {
  const float *w = weights;
  const float *x = inputs[0];
  const int32_t *n = inputs[1];
  float *y = outputs[0];
  int64_t *z = outputs[1];
  z[0] = 2 * (int64_t)n[0];
  z[1] = 0;
  for (int i = 0; i < FAKE_N; i++) {
    y[i] = x[i] * w[i] + 1.0f + (float)n[0];
    z[1] += x[i] > 0;
  }
}

static const int64_t fake_shape_x[] = {1, FAKE_N};
static const int64_t fake_shape_n[] = {1};
static const int64_t fake_shape_z[] = {2};
static const tandem_tensor_desc fake_inputs[] = {
    {"x", TANDEM_DTYPE_F32, 2, fake_shape_x, 4 * FAKE_N},
    {"n", TANDEM_DTYPE_I32, 1, fake_shape_n, 4},
};
static const tandem_tensor_desc fake_outputs[] = {
    {"y", TANDEM_DTYPE_F32, 2, fake_shape_x, 4 * FAKE_N},
    {"z", TANDEM_DTYPE_I64, 1, fake_shape_z, 16},
};

const tandem_model_desc fake_desc = {
    TANDEM_ABI_VERSION, 2, 2, 0, "fake", fake_inputs, fake_outputs,
    FAKE_WEIGHTS_SIZE,  FAKE_WEIGHTS_HASH, NULL, fake_entry,
};

const tandem_model_desc fake_desc_embedded = {
    TANDEM_ABI_VERSION, 2, 2, 0, "fake_embedded", fake_inputs, fake_outputs,
    FAKE_WEIGHTS_SIZE,  FAKE_WEIGHTS_HASH, &fake_data, fake_entry,
};

static void fake_bare_entry(const void *weights, const void *const *inputs,
                            void *const *outputs) {
  const float *x = inputs[0];
  float *y = outputs[0];
  for (int i = 0; i < 4; i++) y[i] = 2 * x[i];
}

static const int64_t fake_shape_4[] = {4};
static const tandem_tensor_desc fake_bare_io[] = {{"v", TANDEM_DTYPE_F32, 1, fake_shape_4, 16}};
const tandem_model_desc fake_desc_bare = {
    TANDEM_ABI_VERSION, 1, 1, 0, "bare", fake_bare_io, fake_bare_io, 0, 0, NULL, fake_bare_entry,
};

/* For the driver test executables: tandemc --emit=exe emits this alias of NAME_desc. */
#if defined(FAKE_MAIN_EMBEDDED)
extern const tandem_model_desc tandem_main_model __attribute__((alias("fake_desc_embedded")));
#elif defined(FAKE_MAIN)
extern const tandem_model_desc tandem_main_model __attribute__((alias("fake_desc")));
#endif

fake_weights_file fake_weights_file_good(void) {
  return (fake_weights_file){TANDEM_WEIGHTS_MAGIC, TANDEM_WEIGHTS_VERSION,
                             TANDEM_WEIGHTS_DATA_OFFSET, FAKE_WEIGHTS_SIZE, FAKE_WEIGHTS_HASH,
                             -1, -1};
}

static void fake_put_le(unsigned char *p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}

int fake_weights_write(const char *path, const fake_weights_file *spec) {
  unsigned char file[TANDEM_WEIGHTS_DATA_OFFSET + FAKE_WEIGHTS_SIZE] = {0};
  memcpy(file, spec->magic, 8);
  fake_put_le(file + 8, spec->version, 4);
  fake_put_le(file + 12, spec->data_offset, 4);
  fake_put_le(file + 16, spec->data_size, 8);
  fake_put_le(file + 24, spec->data_hash, 8);
  memcpy(file + TANDEM_WEIGHTS_DATA_OFFSET, &fake_data, FAKE_WEIGHTS_SIZE);
  if (spec->flip_byte >= 0) file[TANDEM_WEIGHTS_DATA_OFFSET + spec->flip_byte] ^= 0xff;
  size_t size = spec->truncate_to >= 0 ? (size_t)spec->truncate_to : sizeof file;
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t written = fwrite(file, 1, size, f);
  return fclose(f) == 0 && written == size ? 0 : -1;
}
