/* Status values, dtypes and the weights hash. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_dtype.h"
#include "rt_status.h"
#include "test_util.h"

void test_status(void) {
  CHECK(tandem_status_code_of(NULL) == TANDEM_OK);
  CHECK(strcmp(tandem_status_message(NULL), "") == 0);
  tandem_status_free(NULL);
  CHECK(strcmp(tandem_status_code_name(TANDEM_DATA_LOSS), "DATA_LOSS") == 0);
  CHECK(strcmp(tandem_status_code_name(TANDEM_INTERNAL), "INTERNAL") == 0);
  CHECK(strcmp(tandem_status_code_name(TANDEM_STATUS_CODE_COUNT), "?") == 0);
  CHECK(strcmp(tandem_status_code_name((tandem_status_code)-1), "?") == 0);

  tandem_status s = rt_status_make(TANDEM_NOT_FOUND, "%s: %d items", "file.npy", 3);
  CHECK(tandem_status_code_of(s) == TANDEM_NOT_FOUND);
  CHECK(strcmp(tandem_status_message(s), "file.npy: 3 items") == 0);
  tandem_status_free(s);

  /* A long message is kept whole. */
  char big[5000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  s = rt_status_make(TANDEM_INTERNAL, "%s", big);
  CHECK(strlen(tandem_status_message(s)) == sizeof big - 1);
  tandem_status_free(s);

  CHECK_STATUS(rt_status_errno(ENOENT, "a/b"), TANDEM_NOT_FOUND, "a/b: ");
}

static void test_f16_cases(void) {
  static const struct {
    uint16_t bits;
    float value;
  } cases[] = {
      {0x3c00, 1.0f},    {0xc000, -2.0f},           {0x7bff, 65504.0f}, {0x0001, 0x1p-24f},
      {0x03ff, 0x1.ff8p-15f}, {0x0400, 0x1p-14f}, {0x3555, 0x1.554p-2f}, {0x8000, -0.0f},
      {0x7c00, INFINITY}, {0xfc00, -INFINITY},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    float got = rt_f16_to_f32(cases[i].bits);
    if (got != cases[i].value || signbit(got) != signbit(cases[i].value)) {
      char detail[128];
      snprintf(detail, sizeof detail, "f16 0x%04x -> %a, expected %a", cases[i].bits, got,
               cases[i].value);
      t_fail(__FILE__, __LINE__, "rt_f16_to_f32", detail);
    }
  }
  CHECK(isnan(rt_f16_to_f32(0x7e00)));
  CHECK(rt_bf16_to_f32(0x3f80) == 1.0f);
  CHECK(rt_bf16_to_f32(0xc0a0) == -5.0f);
}

void test_dtype(void) {
  static const char *names[] = {"f32", "f16", "bf16", "i8", "u8", "i32", "i64", "bool"};
  static const size_t sizes[] = {4, 2, 2, 1, 1, 4, 8, 1};
  for (int32_t d = 0; d < TANDEM_DTYPE_COUNT; d++) {
    CHECK(strcmp(tandem_dtype_name(d), names[d]) == 0);
    CHECK(tandem_dtype_size(d) == sizes[d]);
  }
  CHECK(strcmp(tandem_dtype_name(TANDEM_DTYPE_COUNT), "?") == 0);
  CHECK(strcmp(tandem_dtype_name(-1), "?") == 0);
  CHECK(tandem_dtype_size(99) == 0);

  char text[RT_SHAPE_TEXT_MAX];
  int64_t shape[] = {1, 16};
  CHECK(strcmp(rt_shape_format(text, sizeof text, TANDEM_DTYPE_F32, 2, shape), "f32[1,16]") == 0);
  CHECK(strcmp(rt_shape_format(text, sizeof text, TANDEM_DTYPE_BOOL, 0, NULL), "bool[]") == 0);
  CHECK(strcmp(rt_shape_format(text, 8, TANDEM_DTYPE_F32, 2, shape), "f32[...") == 0);

  uint64_t n;
  int64_t huge[] = {INT64_MAX, 3};
  int64_t empty_huge[] = {0, INT64_MAX, INT64_MAX};
  CHECK(rt_shape_count(2, shape, &n) && n == 16);
  CHECK(rt_shape_count(0, NULL, &n) && n == 1);
  CHECK(!rt_shape_count(2, huge, &n));
  CHECK(!rt_shape_count(3, empty_huge, &n));
  CHECK(!rt_shape_bytes(TANDEM_DTYPE_I64, 1, (int64_t[]){INT64_MAX}, &n));

  int64_t i64 = -1234567890123ll;
  CHECK(rt_dtype_load_f64(TANDEM_DTYPE_I64, &i64, 0) == -1234567890123.0);
  int8_t i8[] = {0, -5};
  CHECK(rt_dtype_load_f64(TANDEM_DTYPE_I8, i8, 1) == -5.0);
  uint8_t u8[] = {0, 250};
  CHECK(rt_dtype_load_f64(TANDEM_DTYPE_U8, u8, 1) == 250.0);
  test_f16_cases();
}

static void t_pattern(unsigned char *buf, size_t n) {
  for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)(i * 7 + 3);
}

/* Golden values from an independent (Python) implementation of the algorithm as
 * documented in runtime/hash.c; they pin the file format. */
static void test_hash_golden(void) {
  static const struct {
    size_t size;
    uint64_t hash;
  } golden[] = {
      {0, 0xd6711fe8cf94a91cull},  {1, 0x0a3321a8760b76cfull},  {3, 0x5930f57d98946e8aull},
      {7, 0xd0e910edc22c4854ull},  {8, 0x748211ea4d418636ull},  {9, 0xc0833f4cfe243386ull},
      {31, 0x754e84c702723ef0ull}, {32, 0x6986d4b614be6b42ull}, {33, 0x39dd561105eee79bull},
      {100, 0x65be98838dac475bull}, {1000, 0x630637d515f0f0edull},
  };
  unsigned char buf[1000 + 1];
  for (size_t i = 0; i < sizeof golden / sizeof golden[0]; i++) {
    t_pattern(buf, golden[i].size);
    uint64_t got = tandem_weights_hash(buf, golden[i].size);
    if (got != golden[i].hash) {
      char detail[128];
      snprintf(detail, sizeof detail, "size %zu: 0x%016llx, expected 0x%016llx", golden[i].size,
               (unsigned long long)got, (unsigned long long)golden[i].hash);
      t_fail(__FILE__, __LINE__, "golden hash", detail);
    }
    /* The same bytes at an odd address hash the same. */
    memmove(buf + 1, buf, golden[i].size);
    CHECK(tandem_weights_hash(buf + 1, golden[i].size) == golden[i].hash);
  }
}

static int t_compare_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

void test_hash(void) {
  test_hash_golden();
  /* Every single-bit flip of a 67-byte buffer, and every prefix length, gives a
   * distinct hash (tail bytes and sizes count). */
  enum { N = 67 };
  unsigned char buf[N];
  uint64_t hashes[N * 8 + N + 1];
  size_t count = 0;
  t_pattern(buf, N);
  hashes[count++] = tandem_weights_hash(buf, N);
  for (size_t bit = 0; bit < N * 8; bit++) {
    buf[bit / 8] ^= (unsigned char)(1u << bit % 8);
    hashes[count++] = tandem_weights_hash(buf, N);
    buf[bit / 8] ^= (unsigned char)(1u << bit % 8);
  }
  for (size_t len = 0; len < N; len++) hashes[count++] = tandem_weights_hash(buf, len);
  qsort(hashes, count, sizeof hashes[0], t_compare_u64);
  for (size_t i = 1; i < count; i++) CHECK(hashes[i] != hashes[i - 1]);
  /* Zero words are not ignored: "\0" * 8 and "\0" * 16 differ from each other. */
  unsigned char zeros[16] = {0};
  CHECK(tandem_weights_hash(zeros, 8) != tandem_weights_hash(zeros, 16));
}
