/* NumPy .npy files: read v1-v3, write v1.
 *
 * Format (numpy.lib.format): "\x93NUMPY", major, minor, then the header length
 * (u16 little-endian in v1, u32 in v2/v3), then a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (1, 16), }
 * padded with spaces and ended by '\n', then the raw data in C order. v3 differs
 * from v2 only in allowing UTF-8 in the header, which the keys we accept never need.
 *
 * The dict is parsed by a small recursive-descent parser instead of pattern matching
 * so that any key order, either quote style, extra whitespace, trailing commas,
 * "(5)" for "(5,)" and Python 2 "5L" dims all read, while anything else is an error
 * with the byte offset. bf16 has no numpy descr, so it is never read; it is written
 * widened to '<f4', which is exact. Data is read into an allocator buffer (not
 * mmapped): an input array is owned by its caller and usually small. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_alloc.h"
#include "rt_bytes.h"
#include "rt_dtype.h"
#include "rt_file.h"
#include "rt_npy.h"
#include "rt_status.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .npy reader and writer copy little-endian data as is"
#endif

#define RT_NPY_MAGIC "\x93NUMPY"
#define RT_NPY_MAGIC_LEN 6
#define RT_NPY_MAX_RANK 8
#define RT_NPY_MAX_HEADER (1u << 20) /* numpy itself refuses headers over 10 000 bytes */
#define RT_NPY_TOKEN_MAX 64

typedef struct rt_npy_header {
  int32_t dtype;
  int32_t rank;
  int64_t shape[RT_NPY_MAX_RANK];
  uint64_t byte_size;
  uint64_t data_offset; /* where the data starts in the file */
} rt_npy_header;

/* ---- descr <-> dtype ---------------------------------------------------------- */

static const struct {
  const char *descr;
  int32_t dtype;
} rt_npy_descrs[] = {
    {"<f4", TANDEM_DTYPE_F32}, {"<f2", TANDEM_DTYPE_F16}, {"|i1", TANDEM_DTYPE_I8},
    {"<i1", TANDEM_DTYPE_I8},  {"|u1", TANDEM_DTYPE_U8},  {"<u1", TANDEM_DTYPE_U8},
    {"<i4", TANDEM_DTYPE_I32}, {"<i8", TANDEM_DTYPE_I64}, {"|b1", TANDEM_DTYPE_BOOL},
    {"<b1", TANDEM_DTYPE_BOOL},
};

/* What each dtype is written as; bf16 is widened to f32. */
static const char *const rt_npy_write_descrs[] = {
    [TANDEM_DTYPE_F32] = "<f4", [TANDEM_DTYPE_F16] = "<f2", [TANDEM_DTYPE_BF16] = "<f4",
    [TANDEM_DTYPE_I8] = "|i1",  [TANDEM_DTYPE_U8] = "|u1",  [TANDEM_DTYPE_I32] = "<i4",
    [TANDEM_DTYPE_I64] = "<i8", [TANDEM_DTYPE_BOOL] = "|b1",
};
_Static_assert(sizeof rt_npy_write_descrs / sizeof rt_npy_write_descrs[0] ==
                   TANDEM_DTYPE_COUNT,
               "one .npy descr per tandem_dtype");

static tandem_status rt_npy_dtype_of(const char *path, const char *file_descr, int32_t *out) {
  for (size_t i = 0; i < sizeof rt_npy_descrs / sizeof rt_npy_descrs[0]; i++)
    if (strcmp(file_descr, rt_npy_descrs[i].descr) == 0) {
      *out = rt_npy_descrs[i].dtype;
      return NULL;
    }
  /* Quoted in a one-line message: anything unprintable becomes '?'. */
  char descr[RT_NPY_TOKEN_MAX];
  size_t n = 0;
  for (; file_descr[n] && n < sizeof descr - 1; n++) {
    unsigned char c = (unsigned char)file_descr[n];
    descr[n] = c >= 0x20 && c < 0x7f ? (char)c : '?';
  }
  descr[n] = 0;
  if (descr[0] == '>')
    return rt_status_make(TANDEM_INVALID_ARGUMENT,
                          "%s: big-endian data ('%s') is not supported; save it with "
                          "astype('<%s')", path, descr, descr + 1);
  return rt_status_make(TANDEM_INVALID_ARGUMENT,
                        "%s: dtype '%s' is not supported (supported: <f4 <f2 |i1 |u1 <i4 "
                        "<i8 |b1)", path, descr);
}

/* ---- header dict parser --------------------------------------------------------- */

typedef struct rt_npy_parser {
  const char *path;
  const char *text; /* the header dict, NUL-terminated */
  size_t len;
  size_t pos;
} rt_npy_parser;

/* The offending text is quoted with anything unprintable replaced, so that a garbage
 * header still makes a one-line message. */
static tandem_status rt_npy_syntax(const rt_npy_parser *p, const char *what) {
  char near[33];
  size_t n = 0;
  for (size_t i = p->pos; i < p->len && n < sizeof near - 1; i++, n++) {
    unsigned char c = (unsigned char)p->text[i];
    near[n] = c >= 0x20 && c < 0x7f && c != '"' ? (char)c : '?';
  }
  near[n] = 0;
  return rt_status_make(TANDEM_DATA_LOSS, "%s: bad .npy header: %s at offset %zu (\"%s\")",
                        p->path, what, p->pos, near);
}

static char rt_npy_peek(const rt_npy_parser *p) {
  return p->pos < p->len ? p->text[p->pos] : 0;
}

static void rt_npy_skip_space(rt_npy_parser *p) {
  while (p->pos < p->len && strchr(" \t\r\n", p->text[p->pos]) && p->text[p->pos]) p->pos++;
}

static bool rt_npy_eat(rt_npy_parser *p, char c) {
  rt_npy_skip_space(p);
  if (rt_npy_peek(p) != c) return false;
  p->pos++;
  return true;
}

static tandem_status rt_npy_string(rt_npy_parser *p, char out[RT_NPY_TOKEN_MAX]) {
  rt_npy_skip_space(p);
  char quote = rt_npy_peek(p);
  if (quote != '\'' && quote != '"') return rt_npy_syntax(p, "expected a string");
  size_t start = ++p->pos, n = 0;
  while (rt_npy_peek(p) && rt_npy_peek(p) != quote) {
    if (rt_npy_peek(p) == '\\') return rt_npy_syntax(p, "escapes are not supported");
    if (n == RT_NPY_TOKEN_MAX - 1) return rt_npy_syntax(p, "string too long");
    out[n++] = p->text[p->pos++];
  }
  if (!rt_npy_peek(p)) {
    p->pos = start;
    return rt_npy_syntax(p, "unterminated string");
  }
  p->pos++;
  out[n] = 0;
  return NULL;
}

static bool rt_npy_word(rt_npy_parser *p, const char *word) {
  size_t n = strlen(word);
  if (p->len - p->pos < n || memcmp(p->text + p->pos, word, n) != 0) return false;
  char after = p->pos + n < p->len ? p->text[p->pos + n] : 0;
  if (after == '_' || (after >= 'a' && after <= 'z') || (after >= 'A' && after <= 'Z') ||
      (after >= '0' && after <= '9'))
    return false;
  p->pos += n;
  return true;
}

static tandem_status rt_npy_bool(rt_npy_parser *p, bool *out) {
  rt_npy_skip_space(p);
  if (rt_npy_word(p, "True")) *out = true;
  else if (rt_npy_word(p, "False")) *out = false;
  else return rt_npy_syntax(p, "expected True or False");
  return NULL;
}

static tandem_status rt_npy_dim(rt_npy_parser *p, int64_t *out) {
  rt_npy_skip_space(p);
  if (rt_npy_peek(p) == '-') return rt_npy_syntax(p, "negative dimension");
  if (rt_npy_peek(p) < '0' || rt_npy_peek(p) > '9') return rt_npy_syntax(p, "expected a dimension");
  int64_t value = 0;
  while (rt_npy_peek(p) >= '0' && rt_npy_peek(p) <= '9') {
    int digit = p->text[p->pos] - '0';
    if (value > (INT64_MAX - digit) / 10) return rt_npy_syntax(p, "dimension overflows 64 bits");
    value = value * 10 + digit;
    p->pos++;
  }
  if (rt_npy_peek(p) == 'L') p->pos++; /* Python 2 long */
  *out = value;
  return NULL;
}

/* "(d0, d1, ...)" with an optional trailing comma; "()" is a scalar. */
static tandem_status rt_npy_shape(rt_npy_parser *p, rt_npy_header *h) {
  if (!rt_npy_eat(p, '(')) return rt_npy_syntax(p, "expected a shape tuple");
  h->rank = 0;
  while (!rt_npy_eat(p, ')')) {
    if (h->rank == RT_NPY_MAX_RANK)
      return rt_status_make(TANDEM_INVALID_ARGUMENT,
                            "%s: arrays of rank more than %d are not supported", p->path,
                            RT_NPY_MAX_RANK);
    RT_TRY(rt_npy_dim(p, &h->shape[h->rank++]));
    if (!rt_npy_eat(p, ',') && rt_npy_peek(p) != ')')
      return rt_npy_syntax(p, "expected ',' or ')' in the shape");
  }
  return NULL;
}

enum { RT_NPY_HAVE_DESCR = 1, RT_NPY_HAVE_FORTRAN = 2, RT_NPY_HAVE_SHAPE = 4 };

typedef struct rt_npy_dict {
  char descr[RT_NPY_TOKEN_MAX];
  bool fortran_order;
  unsigned have; /* RT_NPY_HAVE_* */
} rt_npy_dict;

static tandem_status rt_npy_entry(rt_npy_parser *p, rt_npy_dict *d, rt_npy_header *h) {
  char key[RT_NPY_TOKEN_MAX];
  rt_npy_skip_space(p);
  size_t key_pos = p->pos;
  RT_TRY(rt_npy_string(p, key));
  if (!rt_npy_eat(p, ':')) return rt_npy_syntax(p, "expected ':' after a key");
  unsigned bit = strcmp(key, "descr") == 0           ? RT_NPY_HAVE_DESCR
                 : strcmp(key, "fortran_order") == 0 ? RT_NPY_HAVE_FORTRAN
                 : strcmp(key, "shape") == 0         ? RT_NPY_HAVE_SHAPE
                                                     : 0;
  if (!bit || (d->have & bit)) {
    p->pos = key_pos;
    return rt_npy_syntax(p, bit ? "repeated key" : "unexpected key");
  }
  d->have |= bit;
  rt_npy_skip_space(p);
  if (bit == RT_NPY_HAVE_DESCR && rt_npy_peek(p) == '[')
    return rt_status_make(TANDEM_INVALID_ARGUMENT,
                          "%s: structured dtypes are not supported", p->path);
  if (bit == RT_NPY_HAVE_DESCR) return rt_npy_string(p, d->descr);
  if (bit == RT_NPY_HAVE_FORTRAN) return rt_npy_bool(p, &d->fortran_order);
  return rt_npy_shape(p, h);
}

static tandem_status rt_npy_parse_dict(rt_npy_parser *p, rt_npy_dict *d, rt_npy_header *h) {
  if (!rt_npy_eat(p, '{')) return rt_npy_syntax(p, "expected '{'");
  while (!rt_npy_eat(p, '}')) {
    RT_TRY(rt_npy_entry(p, d, h));
    if (!rt_npy_eat(p, ',') && rt_npy_peek(p) != '}')
      return rt_npy_syntax(p, "expected ',' or '}'");
  }
  rt_npy_skip_space(p);
  if (p->pos != p->len) return rt_npy_syntax(p, "unexpected text after the dict");
  if (d->have != (RT_NPY_HAVE_DESCR | RT_NPY_HAVE_FORTRAN | RT_NPY_HAVE_SHAPE))
    return rt_status_make(TANDEM_DATA_LOSS, "%s: bad .npy header: missing '%s'", p->path,
                          !(d->have & RT_NPY_HAVE_DESCR)     ? "descr"
                          : !(d->have & RT_NPY_HAVE_FORTRAN) ? "fortran_order"
                                                             : "shape");
  return NULL;
}

/* Fortran order is the same bytes as C order when at most one dimension exceeds 1. */
static bool rt_npy_layout_is_c(const rt_npy_header *h, bool fortran_order) {
  int wide = 0;
  for (int32_t i = 0; i < h->rank; i++) wide += h->shape[i] > 1;
  return !fortran_order || wide <= 1;
}

static tandem_status rt_npy_interpret(const char *path, const char *text, size_t len,
                                      rt_npy_header *h) {
  rt_npy_parser p = {path, text, len, 0};
  rt_npy_dict d = {{0}, false, 0};
  RT_TRY(rt_npy_parse_dict(&p, &d, h));
  RT_TRY(rt_npy_dtype_of(path, d.descr, &h->dtype));
  if (!rt_npy_layout_is_c(h, d.fortran_order))
    return rt_status_make(TANDEM_INVALID_ARGUMENT,
                          "%s: Fortran-order arrays are not supported; save a C-order "
                          "copy (np.ascontiguousarray)", path);
  if (!rt_shape_bytes(h->dtype, h->rank, h->shape, &h->byte_size))
    return rt_status_make(TANDEM_DATA_LOSS,
                          "%s: bad .npy header: the shape's byte size overflows 64 bits", path);
  return NULL;
}

/* ---- reading --------------------------------------------------------------------- */

/* Magic, version and header length; returns the length and where the dict starts. */
static tandem_status rt_npy_read_preamble(int fd, const char *path, uint64_t file_size,
                                          uint32_t *out_len, uint32_t *out_start) {
  unsigned char pre[12] = {0};
  size_t got = file_size < sizeof pre ? (size_t)file_size : sizeof pre;
  RT_TRY(rt_file_read_at(fd, path, pre, got, 0));
  if (got < RT_NPY_MAGIC_LEN + 2 || memcmp(pre, RT_NPY_MAGIC, RT_NPY_MAGIC_LEN) != 0)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "%s: not a .npy file (bad magic)", path);
  unsigned major = pre[6], minor = pre[7];
  if (major < 1 || major > 3)
    return rt_status_make(TANDEM_INVALID_ARGUMENT,
                          "%s: .npy version %u.%u is not supported (1.0 to 3.0 are)", path,
                          major, minor);
  *out_start = major == 1 ? 10 : 12;
  if (got < *out_start)
    return rt_status_make(TANDEM_DATA_LOSS, "%s: truncated: the file ends inside its header",
                          path);
  *out_len = major == 1 ? (uint32_t)(pre[8] | pre[9] << 8) : rt_load_u32le(pre + 8);
  if (*out_len > RT_NPY_MAX_HEADER)
    return rt_status_make(TANDEM_DATA_LOSS, "%s: bad .npy header: length %" PRIu32
                          " is implausible", path, *out_len);
  if (*out_start + (uint64_t)*out_len > file_size)
    return rt_status_make(TANDEM_DATA_LOSS, "%s: truncated: the file ends inside its header",
                          path);
  return NULL;
}

static tandem_status rt_npy_read_header(int fd, const char *path, uint64_t file_size,
                                        rt_npy_header *out) {
  uint32_t len = 0, start = 0;
  RT_TRY(rt_npy_read_preamble(fd, path, file_size, &len, &start));
  char *text = malloc((size_t)len + 1);
  if (!text) return rt_status_make(TANDEM_OUT_OF_MEMORY, "%s: cannot allocate the header", path);
  tandem_status status = rt_file_read_at(fd, path, text, len, start);
  if (!status) {
    text[len] = 0;
    status = rt_npy_interpret(path, text, len, out);
  }
  free(text);
  out->data_offset = (uint64_t)start + len;
  return status;
}

static tandem_status rt_npy_check_size(const char *path, const rt_npy_header *h,
                                       uint64_t file_size) {
  uint64_t have = file_size - h->data_offset;
  if (have < h->byte_size)
    return rt_status_make(TANDEM_DATA_LOSS,
                          "%s: truncated: header says %" PRIu64 " bytes of data, file has %" PRIu64,
                          path, h->byte_size, have);
  if (have > h->byte_size)
    return rt_status_make(TANDEM_DATA_LOSS,
                          "%s: corrupt: header says %" PRIu64 " bytes of data, file has %" PRIu64
                          " (extra bytes at the end)", path, h->byte_size, have);
  return NULL;
}

static tandem_status rt_npy_read_data(int fd, const char *path, const rt_npy_header *h,
                                      const tandem_allocator *allocator, tandem_array *out) {
  void *data = h->byte_size <= SIZE_MAX ? rt_alloc(allocator, (size_t)h->byte_size) : NULL;
  if (!data)
    return rt_status_make(TANDEM_OUT_OF_MEMORY, "%s: cannot allocate %" PRIu64 " bytes",
                          path, h->byte_size);
  tandem_status status = rt_file_read_at(fd, path, data, (size_t)h->byte_size, h->data_offset);
  if (status) {
    rt_free(allocator, data);
    return status;
  }
  out->dtype = h->dtype;
  out->rank = h->rank;
  memcpy(out->shape, h->shape, sizeof out->shape);
  out->byte_size = h->byte_size;
  out->data = data;
  return NULL;
}

static tandem_status rt_npy_check_expect(const char *path, const char *role,
                                         const tandem_tensor_desc *expect,
                                         const rt_npy_header *h) {
  bool same = h->dtype == expect->dtype && h->rank == expect->rank;
  for (int32_t i = 0; same && i < h->rank; i++) same = h->shape[i] == expect->shape[i];
  if (same) return NULL;
  char want[RT_SHAPE_TEXT_MAX], got[RT_SHAPE_TEXT_MAX];
  return rt_status_make(
      TANDEM_INVALID_ARGUMENT, "%s: %s '%s' expects %s, got %s", path, role,
      expect->name ? expect->name : "?",
      rt_shape_format(want, sizeof want, expect->dtype, expect->rank, expect->shape),
      rt_shape_format(got, sizeof got, h->dtype, h->rank, h->shape));
}

/* `expect` NULL: any array. */
static tandem_status rt_npy_read(const char *path, const char *role,
                                 const tandem_tensor_desc *expect,
                                 const tandem_allocator *allocator, tandem_array *out) {
  int fd;
  uint64_t file_size;
  rt_npy_header header = {0};
  if (!path || !out)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "tandem_npy_read: path or out_array is NULL");
  memset(out, 0, sizeof *out);
  RT_TRY(rt_file_open_read(path, &fd, &file_size));
  tandem_status status = rt_npy_read_header(fd, path, file_size, &header);
  if (!status && expect) status = rt_npy_check_expect(path, role, expect, &header);
  if (!status) status = rt_npy_check_size(path, &header, file_size);
  if (!status) status = rt_npy_read_data(fd, path, &header, allocator, out);
  close(fd);
  return status;
}

tandem_status tandem_npy_read(const char *path, const tandem_allocator *allocator,
                              tandem_array *out_array) {
  return rt_npy_read(path, NULL, NULL, allocator, out_array);
}

tandem_status rt_npy_read_expect_as(const char *path, const char *role,
                                    const tandem_tensor_desc *expect,
                                    const tandem_allocator *allocator,
                                    tandem_array *out_array) {
  return rt_npy_read(path, role, expect, allocator, out_array);
}

tandem_status tandem_npy_read_expect(const char *path, const tandem_tensor_desc *expect,
                                     const tandem_allocator *allocator,
                                     tandem_array *out_array) {
  return rt_npy_read(path, "tensor", expect, allocator, out_array);
}

void tandem_array_free(tandem_array *array, const tandem_allocator *allocator) {
  if (!array) return;
  rt_free(allocator, array->data);
  memset(array, 0, sizeof *array);
}

/* ---- writing --------------------------------------------------------------------- */

/* The v1 header, padded so that the data starts at a multiple of 64 like numpy's. */
static size_t rt_npy_format_header(const tandem_tensor_desc *desc, char *buf, size_t cap) {
  memcpy(buf, RT_NPY_MAGIC "\x01", RT_NPY_MAGIC_LEN + 1);
  buf[7] = 0; /* minor version */
  size_t len = 10; /* the dict length goes into bytes 8-9 once known */
  len += (size_t)snprintf(buf + len, cap - len,
                          "{'descr': '%s', 'fortran_order': False, 'shape': (",
                          rt_npy_write_descrs[desc->dtype]);
  for (int32_t i = 0; i < desc->rank; i++)
    len += (size_t)snprintf(buf + len, cap - len, desc->rank == 1 ? "%lld," : i ? ", %lld" : "%lld",
                            (long long)desc->shape[i]);
  len += (size_t)snprintf(buf + len, cap - len, "), }");
  while ((len + 1) % 64) buf[len++] = ' ';
  buf[len++] = '\n';
  uint32_t dict_len = (uint32_t)len - 10;
  buf[8] = (char)(dict_len & 0xff);
  buf[9] = (char)(dict_len >> 8);
  return len;
}

/* bf16 has no .npy type: widen to f32 (exact) a block at a time. */
static tandem_status rt_npy_write_bf16(int fd, const char *path, const void *data,
                                       uint64_t count) {
  float block[1024];
  const unsigned char *src = data;
  while (count > 0) {
    size_t n = count < 1024 ? (size_t)count : 1024;
    for (size_t i = 0; i < n; i++) {
      uint16_t bits;
      memcpy(&bits, src + 2 * i, 2);
      block[i] = rt_bf16_to_f32(bits);
    }
    RT_TRY(rt_file_write_all(fd, path, block, n * sizeof(float)));
    src += 2 * n;
    count -= n;
  }
  return NULL;
}

static tandem_status rt_npy_write_fd(int fd, const char *path, const tandem_tensor_desc *desc,
                                     const void *data) {
  char header[1024];
  size_t len = rt_npy_format_header(desc, header, sizeof header);
  RT_TRY(rt_file_write_all(fd, path, header, len));
  if (desc->dtype == TANDEM_DTYPE_BF16) return rt_npy_write_bf16(fd, path, data, desc->byte_size / 2);
  return rt_file_write_all(fd, path, data, (size_t)desc->byte_size);
}

static tandem_status rt_npy_check_writable(const char *path, const tandem_tensor_desc *desc,
                                           const void *data) {
  uint64_t bytes;
  /* 32 dims of 20 digits fit the 1024-byte header buffer. */
  if (desc->rank < 0 || desc->rank > 32 || (desc->rank && !desc->shape) ||
      !rt_shape_bytes(desc->dtype, desc->rank, desc->shape, &bytes) || bytes != desc->byte_size ||
      bytes > SIZE_MAX)
    return rt_status_make(TANDEM_INVALID_ARGUMENT,
                          "%s: cannot write tensor '%s': bad dtype, shape or byte_size", path,
                          desc->name ? desc->name : "?");
  if (bytes && !data)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "%s: cannot write tensor '%s': data is NULL",
                          path, desc->name ? desc->name : "?");
  return NULL;
}

/* Creates "PATH.tmp-PID-N" exclusively; the counter and O_EXCL keep two writers, even
 * in one process, from sharing a name. */
static tandem_status rt_npy_create_tmp(const char *path, int *out_fd, char **out_tmp_path) {
  static atomic_uint counter;
  size_t cap = strlen(path) + 48;
  char *tmp = malloc(cap);
  if (!tmp) return rt_status_make(TANDEM_OUT_OF_MEMORY, "%s: cannot allocate a name", path);
  for (int attempt = 0; attempt < 100; attempt++) {
    snprintf(tmp, cap, "%s.tmp-%ld-%u", path, (long)getpid(), atomic_fetch_add(&counter, 1));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      *out_fd = fd;
      *out_tmp_path = tmp;
      return NULL;
    }
    if (errno != EEXIST) break;
  }
  int err = errno;
  free(tmp);
  return rt_status_errno(err, "%s: cannot create", path);
}

tandem_status rt_npy_write_tmp(const char *path, const tandem_tensor_desc *desc,
                               const void *data, char **out_tmp_path) {
  int fd = -1;
  char *tmp = NULL;
  *out_tmp_path = NULL;
  RT_TRY(rt_npy_check_writable(path, desc, data));
  RT_TRY(rt_npy_create_tmp(path, &fd, &tmp));
  tandem_status status = rt_npy_write_fd(fd, path, desc, data);
  if (close(fd) != 0 && !status) status = rt_status_errno(errno, "%s: write failed", path);
  if (status) {
    rt_npy_tmp_discard(tmp);
    return status;
  }
  *out_tmp_path = tmp;
  return NULL;
}

tandem_status rt_npy_tmp_commit(char *owned_tmp_path, const char *path) {
  if (rename(owned_tmp_path, path) == 0) {
    free(owned_tmp_path);
    return NULL;
  }
  int err = errno;
  rt_npy_tmp_discard(owned_tmp_path);
  return rt_status_errno(err, "%s: cannot rename the finished file into place", path);
}

void rt_npy_tmp_discard(char *owned_tmp_path) {
  if (!owned_tmp_path) return;
  unlink(owned_tmp_path);
  free(owned_tmp_path);
}

tandem_status tandem_npy_write(const char *path, const tandem_tensor_desc *desc,
                               const void *data) {
  char *tmp;
  if (!path || !desc)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "tandem_npy_write: path or desc is NULL");
  RT_TRY(rt_npy_write_tmp(path, desc, data, &tmp));
  return rt_npy_tmp_commit(tmp, path);
}
