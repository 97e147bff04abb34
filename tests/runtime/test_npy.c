/* .npy reading and writing: round trips, headers as numpy and other writers produce
 * them, and broken files. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test_util.h"

/* A .npy file with the given version and dict text (written as is) and data. */
static const char *t_npy_raw_n(const char *name, int major, const char *dict, size_t dict_len,
                               const void *data, size_t data_size) {
  size_t pre = major == 1 ? 10 : 12;
  unsigned char *buf = malloc(pre + dict_len + data_size + 1);
  memcpy(buf, "\x93NUMPY", 6);
  buf[6] = (unsigned char)major;
  buf[7] = 0;
  for (size_t i = 0; i < pre - 8; i++) buf[8 + i] = (unsigned char)(dict_len >> (8 * i));
  memcpy(buf + pre, dict, dict_len);
  if (data_size) memcpy(buf + pre + dict_len, data, data_size);
  const char *path = t_path(name);
  if (t_write_file(path, buf, pre + dict_len + data_size) != 0)
    t_fail(__FILE__, __LINE__, "write", path);
  free(buf);
  return path;
}

static const char *t_npy_raw(const char *name, int major, const char *dict, const void *data,
                             size_t data_size) {
  return t_npy_raw_n(name, major, dict, strlen(dict), data, data_size);
}

static const float t_six[6] = {1, -2, 3.5f, 0, 1e-3f, -1e30f};

/* Reads `path` and expects f32[2,3] holding t_six. */
static void t_expect_six(const char *path, int line) {
  tandem_array a;
  tandem_status status = tandem_npy_read(path, NULL, &a);
  if (status) {
    t_fail(__FILE__, line, path, tandem_status_message(status));
    tandem_status_free(status);
    return;
  }
  if (a.dtype != TANDEM_DTYPE_F32 || a.rank != 2 || a.shape[0] != 2 || a.shape[1] != 3 ||
      a.byte_size != 24 || memcmp(a.data, t_six, 24) != 0 || (uintptr_t)a.data % 64)
    t_fail(__FILE__, line, path, "wrong array");
  tandem_array_free(&a, NULL);
}

/* Headers as numpy writes them (v1, v2, v3) and as other writers might. */
static void test_npy_headers_ok(void) {
  static const char *const dicts[] = {
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }          \n",
      "{\"shape\": (2,3), \"descr\": \"<f4\", \"fortran_order\": False}\n",
      "{ 'fortran_order' : False ,'descr':'<f4','shape':( 2 , 3 , ) }",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }\n",
  };
  char name[32];
  for (size_t i = 0; i < sizeof dicts / sizeof dicts[0]; i++)
    for (int major = 1; major <= 3; major++) {
      snprintf(name, sizeof name, "ok%zu_v%d.npy", i, major);
      t_expect_six(t_npy_raw(name, major, dicts[i], t_six, sizeof t_six), __LINE__);
    }
  /* Fortran order is accepted where it is the same layout (one dimension > 1). */
  tandem_array a;
  float four[4] = {1, 2, 3, 4};
  CHECK_OK(tandem_npy_read(t_npy_raw("f1.npy", 1, "{'descr': '<f4', 'fortran_order': True, "
                                     "'shape': (1, 4), }", four, 16), NULL, &a));
  CHECK(a.rank == 2 && a.shape[1] == 4);
  tandem_array_free(&a, NULL);
  /* "(4)" is read as "(4,)". */
  CHECK_OK(tandem_npy_read(t_npy_raw("paren.npy", 1, "{'descr': '<f4', 'fortran_order': False, "
                                     "'shape': (4)}", four, 16), NULL, &a));
  CHECK(a.rank == 1 && a.shape[0] == 4);
  tandem_array_free(&a, NULL);
}

static void t_bad(const char *name, const char *dict, size_t data_size,
                  tandem_status_code code, const char *fragment, int line) {
  static const unsigned char zeros[64];
  tandem_array a = {.data = (void *)&a};
  tandem_status status = tandem_npy_read(t_npy_raw(name, 1, dict, zeros, data_size), NULL, &a);
  t_check_status(status, code, fragment, __FILE__, line, name);
  if (a.data != NULL) t_fail(__FILE__, line, name, "out_array not reset");
}

#define T_BAD(name, dict, data_size, code, fragment) \
  t_bad(name, dict, data_size, code, fragment, __LINE__)

static void test_npy_headers_bad(void) {
  T_BAD("fortran.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24,
        TANDEM_INVALID_ARGUMENT, "fortran.npy: Fortran-order arrays are not supported");
  T_BAD("be.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", 24,
        TANDEM_INVALID_ARGUMENT, "be.npy: big-endian data ('>f4') is not supported");
  T_BAD("f8.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", 24,
        TANDEM_INVALID_ARGUMENT, "f8.npy: dtype '<f8' is not supported");
  T_BAD("nl.npy", "{'descr': '<f4\n\x7f', 'fortran_order': False, 'shape': (3,), }", 12,
        TANDEM_INVALID_ARGUMENT, "nl.npy: dtype '<f4?" "?' is not supported"); /* one line */
  T_BAD("rec.npy", "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }", 12,
        TANDEM_INVALID_ARGUMENT, "rec.npy: structured dtypes are not supported");
  T_BAD("trunc.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 10,
        TANDEM_DATA_LOSS, "trunc.npy: truncated: header says 24 bytes of data, file has 10");
  T_BAD("extra.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 28,
        TANDEM_DATA_LOSS, "extra.npy: corrupt: header says 24 bytes of data, file has 28");
  T_BAD("overflow.npy", "{'descr': '<f4', 'fortran_order': False, "
        "'shape': (4294967296, 4294967296), }", 0, TANDEM_DATA_LOSS,
        "overflow.npy: bad .npy header: the shape's byte size overflows 64 bits");
  T_BAD("bigdim.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
        0, TANDEM_DATA_LOSS, "dimension overflows 64 bits");
  T_BAD("neg.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 0,
        TANDEM_DATA_LOSS, "negative dimension");
  T_BAD("rank9.npy", "{'descr': '<f4', 'fortran_order': False, "
        "'shape': (1,1,1,1,1,1,1,1,1), }", 4, TANDEM_INVALID_ARGUMENT,
        "rank9.npy: arrays of rank more than 8 are not supported");
  T_BAD("garbage.npy", "\x01\xff garbage", 0, TANDEM_DATA_LOSS,
        "garbage.npy: bad .npy header: expected '{' at offset 0 (\"?? garbage\")");
  T_BAD("nokey.npy", "{'descr': '<f4', 'shape': (2, 3), }", 24, TANDEM_DATA_LOSS,
        "nokey.npy: bad .npy header: missing 'fortran_order'");
  T_BAD("dup.npy", "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4,
        TANDEM_DATA_LOSS, "repeated key at offset 17");
  T_BAD("other.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}", 4,
        TANDEM_DATA_LOSS, "unexpected key");
  T_BAD("unterminated.npy", "{'descr: <f4, 'fortran_order': False, 'shape': ()}", 4,
        TANDEM_DATA_LOSS, "bad .npy header");
  T_BAD("bool.npy", "{'descr': '<f4', 'fortran_order': false, 'shape': ()}", 4,
        TANDEM_DATA_LOSS, "expected True or False");
  T_BAD("tail.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': ()} x", 4,
        TANDEM_DATA_LOSS, "unexpected text after the dict");
  /* A NUL inside the header's declared length. */
  static const char nul[] = "{'descr': '<f4', 'fortran_order': False, 'shape': ()}\0   ";
  tandem_array a;
  CHECK_STATUS(tandem_npy_read(t_npy_raw_n("nul.npy", 1, nul, sizeof nul - 1, t_six, 4), NULL, &a),
               TANDEM_DATA_LOSS, "nul.npy: bad .npy header: unexpected text after the dict");
}

static void test_npy_files_bad(void) {
  tandem_array a;
  CHECK(t_write_file(t_path("magic.npy"), "\x93NUMPZ\x01\x00\x00\x00", 10) == 0);
  CHECK_STATUS(tandem_npy_read(t_path("magic.npy"), NULL, &a), TANDEM_INVALID_ARGUMENT,
               "magic.npy: not a .npy file (bad magic)");
  CHECK(t_write_file(t_path("empty.npy"), "", 0) == 0);
  CHECK_STATUS(tandem_npy_read(t_path("empty.npy"), NULL, &a), TANDEM_INVALID_ARGUMENT,
               "not a .npy file");
  CHECK(t_write_file(t_path("v4.npy"), "\x93NUMPY\x04\x00\x00\x00", 10) == 0);
  CHECK_STATUS(tandem_npy_read(t_path("v4.npy"), NULL, &a), TANDEM_INVALID_ARGUMENT,
               "v4.npy: .npy version 4.0 is not supported");
  CHECK(t_write_file(t_path("hlen.npy"), "\x93NUMPY\x01\x00\x50\x00{'descr'", 17) == 0);
  CHECK_STATUS(tandem_npy_read(t_path("hlen.npy"), NULL, &a), TANDEM_DATA_LOSS,
               "hlen.npy: truncated: the file ends inside its header");
  CHECK(t_write_file(t_path("pre.npy"), "\x93NUMPY\x02\x00\x50", 9) == 0);
  CHECK_STATUS(tandem_npy_read(t_path("pre.npy"), NULL, &a), TANDEM_DATA_LOSS, "truncated");
  CHECK(t_write_file(t_path("huge.npy"), "\x93NUMPY\x02\x00\x00\x00\x00\x7f", 12) == 0);
  CHECK_STATUS(tandem_npy_read(t_path("huge.npy"), NULL, &a), TANDEM_DATA_LOSS, "implausible");
  CHECK_STATUS(tandem_npy_read(t_path("absent.npy"), NULL, &a), TANDEM_NOT_FOUND,
               "absent.npy: cannot open: No such file or directory");
}

/* Write then read every dtype, at ranks 0 to 3 and with no elements. */
static void test_npy_round_trip(void) {
  static const int64_t shapes[][3] = {{0}, {5}, {2, 3}, {2, 0, 4}, {1, 2, 3}};
  static const int32_t ranks[] = {0, 1, 2, 3, 3};
  unsigned char data[6 * 8];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 37 + 11);
  for (size_t i = 0; i < sizeof data; i++) if (i % 2) data[i] &= 0x3f; /* finite f16/bf16 */
  char name[64];
  for (int32_t dtype = 0; dtype < TANDEM_DTYPE_COUNT; dtype++)
    for (size_t s = 0; s < sizeof ranks / sizeof ranks[0]; s++) {
      unsigned char bools[6] = {1, 0, 1, 1, 0, 0};
      const void *src = dtype == TANDEM_DTYPE_BOOL ? (const void *)bools : data;
      uint64_t count = 1;
      for (int32_t r = 0; r < ranks[s]; r++) count *= (uint64_t)shapes[s][r];
      tandem_tensor_desc desc = {"t", dtype, ranks[s], shapes[s], count * tandem_dtype_size(dtype)};
      snprintf(name, sizeof name, "rt_%s_%zu.npy", tandem_dtype_name(dtype), s);
      CHECK_OK(tandem_npy_write(t_path(name), &desc, src));
      tandem_array a;
      tandem_status status = tandem_npy_read(t_path(name), NULL, &a);
      CHECK_OK(status);
      if (status) continue;
      CHECK(a.rank == ranks[s] && (uintptr_t)a.data % 64 == 0);
      for (int32_t r = 0; r < a.rank; r++) CHECK(a.shape[r] == shapes[s][r]);
      if (dtype == TANDEM_DTYPE_BF16) {
        /* No bf16 in numpy: written as exact f32. */
        CHECK(a.dtype == TANDEM_DTYPE_F32 && a.byte_size == count * 4);
        for (uint64_t k = 0; k < count; k++) {
          uint32_t bits = (uint32_t)(data[2 * k] | data[2 * k + 1] << 8) << 16, got;
          memcpy(&got, (char *)a.data + 4 * k, 4);
          CHECK(got == bits);
        }
      } else {
        CHECK(a.dtype == dtype && a.byte_size == desc.byte_size);
        CHECK(memcmp(a.data, src, (size_t)a.byte_size) == 0);
      }
      tandem_array_free(&a, NULL);
    }
  CHECK(t_scratch_count(".tmp-") == 0);
}

static mode_t t_umask(void) {
  mode_t mask = umask(0);
  umask(mask);
  return mask;
}

/* The writer's header is byte for byte what numpy 1.x/2.x writes. */
static void test_npy_written_header(void) {
  int64_t shape[] = {1, 16};
  float zeros[16] = {0};
  tandem_tensor_desc desc = {"y", TANDEM_DTYPE_F32, 2, shape, 64};
  CHECK_OK(tandem_npy_write(t_path("numpy.npy"), &desc, zeros));
  FILE *f = fopen(t_path("numpy.npy"), "rb");
  char buf[128 + 64];
  size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
  if (f) fclose(f);
  const char *expect = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 16), }";
  CHECK(n == 128 + 64 && memcmp(buf, "\x93NUMPY\x01\x00\x76\x00", 10) == 0);
  CHECK(memcmp(buf + 10, expect, strlen(expect)) == 0 && buf[127] == '\n');
  struct stat st;
  CHECK(stat(t_path("numpy.npy"), &st) == 0 && (st.st_mode & 0777) == (0666 & ~t_umask()));
}

static void test_npy_expect_and_write_errors(void) {
  int64_t shape[] = {2, 3};
  tandem_tensor_desc desc = {"x", TANDEM_DTYPE_F32, 2, shape, 24};
  CHECK_OK(tandem_npy_write(t_path("six.npy"), &desc, t_six));
  tandem_array a;
  CHECK_OK(tandem_npy_read_expect(t_path("six.npy"), &desc, NULL, &a));
  tandem_array_free(&a, NULL);
  int64_t other[] = {2, 4};
  tandem_tensor_desc want = {"x", TANDEM_DTYPE_F32, 2, other, 32};
  CHECK_STATUS(tandem_npy_read_expect(t_path("six.npy"), &want, NULL, &a),
               TANDEM_INVALID_ARGUMENT, "six.npy: tensor 'x' expects f32[2,4], got f32[2,3]");
  want = (tandem_tensor_desc){"x", TANDEM_DTYPE_F16, 2, shape, 12};
  CHECK_STATUS(tandem_npy_read_expect(t_path("six.npy"), &want, NULL, &a),
               TANDEM_INVALID_ARGUMENT, "expects f16[2,3], got f32[2,3]");
  tandem_array_free(&a, NULL); /* harmless on a reset array */

  CHECK_STATUS(tandem_npy_write(t_path("no/such/dir.npy"), &desc, t_six), TANDEM_NOT_FOUND,
               "no/such/dir.npy: cannot create");
  /* Renaming over a directory fails after the data is written: the temporary goes. */
  CHECK(mkdir(t_path("adir.npy"), 0777) == 0);
  CHECK_STATUS(tandem_npy_write(t_path("adir.npy"), &desc, t_six), TANDEM_IO_ERROR,
               "adir.npy: cannot rename");
  CHECK(t_scratch_count(".tmp-") == 0);
  desc.byte_size = 20;
  CHECK_STATUS(tandem_npy_write(t_path("bad.npy"), &desc, t_six), TANDEM_INVALID_ARGUMENT,
               "bad.npy: cannot write tensor 'x': bad dtype, shape or byte_size");
  desc.byte_size = 24;
  CHECK_STATUS(tandem_npy_write(t_path("bad.npy"), &desc, NULL), TANDEM_INVALID_ARGUMENT,
               "data is NULL");
  CHECK(t_scratch_count("bad.npy") == 0);
}

typedef struct t_counting {
  int live, total;
} t_counting;

static void *t_count_alloc(void *self, size_t size, size_t alignment) {
  void *p = NULL;
  if (posix_memalign(&p, alignment, size) != 0) return NULL;
  ((t_counting *)self)->live++;
  ((t_counting *)self)->total++;
  return p;
}

static void t_count_free(void *self, void *ptr) {
  ((t_counting *)self)->live--;
  free(ptr);
}

static void test_npy_allocator(void) {
  t_counting counts = {0, 0};
  tandem_allocator allocator = {&counts, t_count_alloc, t_count_free};
  tandem_array a;
  CHECK_OK(tandem_npy_read(t_path("six.npy"), &allocator, &a));
  CHECK(counts.live == 1 && counts.total == 1 && memcmp(a.data, t_six, 24) == 0);
  tandem_array_free(&a, &allocator);
  CHECK(counts.live == 0 && a.data == NULL);
  /* A 1 KB file whose header claims 1 TiB (2^20 x 2^18 f32): an error before the
   * allocator is asked for anything. */
  static const unsigned char zeros[1024];
  const char *huge = t_npy_raw("tib.npy", 1,
                               "{'descr': '<f4', 'fortran_order': False, 'shape': (1048576, 262144), }",
                               zeros, sizeof zeros);
  CHECK_STATUS(tandem_npy_read(huge, &allocator, &a), TANDEM_DATA_LOSS,
               "tib.npy: truncated: header says 1099511627776 bytes of data, file has 1024");
  CHECK(counts.total == 1 && counts.live == 0);
}

void test_npy(void) {
  test_npy_headers_ok();
  test_npy_headers_bad();
  test_npy_files_bad();
  test_npy_round_trip();
  test_npy_written_header();
  test_npy_expect_and_write_errors();
  test_npy_allocator();
}
