/* tandem-npycmp: compare two .npy arrays within a tolerance.
 *
 *   tandem-npycmp ACTUAL.npy EXPECTED.npy [--rtol R] [--atol A]
 *
 * Passes iff every element has |a - b| <= atol + rtol * |b|. rtol defaults to 1e-4 and
 * atol to rtol * max|expected|: an absolute floor scaled to the tensor, so that
 * elements near zero in a tensor of large values are not held to a relative bound
 * they cannot meet after a reordered sum. NaN equals NaN; NaN against a number fails.
 * Shapes must match; dtypes may differ (both are read as double; f16 and bf16 exactly).
 * Prints one line, "max abs err X, max rel err Y (at index [I]), norm rel err Z: PASS",
 * and exits 0 on PASS, 1 on FAIL, 2 on a usage or file error. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_dtype.h"
#include "tandem/runtime.h"

enum { CMP_PASS = 0, CMP_FAIL = 1, CMP_ERROR = 2 };

typedef struct cmp_options {
  const char *actual, *expected;
  double rtol, atol; /* atol < 0: rtol * max|expected| */
} cmp_options;

typedef struct cmp_result {
  double max_abs, max_rel, diff_sq, ref_sq;
  uint64_t max_rel_index, failed, nan_mismatches;
} cmp_result;

static int cmp_usage(const char *fmt, const char *arg) {
  fprintf(stderr, "tandem-npycmp: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, " (usage: tandem-npycmp ACTUAL.npy EXPECTED.npy [--rtol R] [--atol A])\n");
  return CMP_ERROR;
}

static bool cmp_number(const char *text, double *out) {
  char *end;
  *out = strtod(text, &end);
  return *text && !*end && isfinite(*out) && *out >= 0;
}

/* "--rtol R" or "--rtol=R"; advances *i past what it consumed. */
static int cmp_flag(int argc, char **argv, int *i, const char *flag, double *out) {
  size_t n = strlen(flag);
  const char *value = argv[*i][n] == '=' ? argv[*i] + n + 1 : *i + 1 < argc ? argv[++*i] : NULL;
  if (!value) return cmp_usage("%s needs a value", flag);
  if (!cmp_number(value, out)) return cmp_usage("bad tolerance '%s'", value);
  return CMP_PASS;
}

static int cmp_parse(int argc, char **argv, cmp_options *o) {
  int positional = 0;
  *o = (cmp_options){NULL, NULL, 1e-4, -1};
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    int code = CMP_PASS;
    if (!strncmp(arg, "--rtol", 6) && (arg[6] == 0 || arg[6] == '='))
      code = cmp_flag(argc, argv, &i, "--rtol", &o->rtol);
    else if (!strncmp(arg, "--atol", 6) && (arg[6] == 0 || arg[6] == '='))
      code = cmp_flag(argc, argv, &i, "--atol", &o->atol);
    else if (arg[0] == '-' && arg[1])
      code = cmp_usage("unknown option '%s'", arg);
    else if (positional < 2)
      *(positional++ ? &o->expected : &o->actual) = arg;
    else
      code = cmp_usage("unexpected argument '%s'", arg);
    if (code != CMP_PASS) return code;
  }
  if (positional != 2) return cmp_usage("%s", "expected two .npy files");
  return CMP_PASS;
}

static double cmp_default_atol(const tandem_array *expected, uint64_t count, double rtol) {
  double scale = 0;
  for (uint64_t i = 0; i < count; i++) {
    double b = fabs(rt_dtype_load_f64(expected->dtype, expected->data, i));
    if (isfinite(b) && b > scale) scale = b;
  }
  return rtol * scale;
}

static void cmp_elements(const tandem_array *a, const tandem_array *b, uint64_t count,
                         double rtol, double atol, cmp_result *r) {
  memset(r, 0, sizeof *r);
  for (uint64_t i = 0; i < count; i++) {
    double x = rt_dtype_load_f64(a->dtype, a->data, i);
    double y = rt_dtype_load_f64(b->dtype, b->data, i);
    if (isnan(x) || isnan(y)) {
      r->nan_mismatches += !(isnan(x) && isnan(y));
      continue;
    }
    double diff = x == y ? 0 : fabs(x - y); /* x == y also covers equal infinities */
    double rel = diff == 0 ? 0 : y != 0 ? diff / fabs(y) : INFINITY;
    if (diff > r->max_abs) r->max_abs = diff;
    if (rel > r->max_rel) {
      r->max_rel = rel;
      r->max_rel_index = i;
    }
    r->diff_sq += diff * diff;
    r->ref_sq += y * y;
    r->failed += !(diff <= atol + rtol * fabs(y));
  }
}

/* The flat index as "[i,j,k]". */
static void cmp_format_index(const tandem_array *a, uint64_t flat, char *buf, size_t cap) {
  uint64_t idx[8];
  for (int32_t d = a->rank - 1; d >= 0; d--) {
    uint64_t dim = a->shape[d] > 0 ? (uint64_t)a->shape[d] : 1;
    idx[d] = flat % dim;
    flat /= dim;
  }
  size_t len = (size_t)snprintf(buf, cap, "[");
  for (int32_t d = 0; d < a->rank && len < cap; d++)
    len += (size_t)snprintf(buf + len, cap - len, d ? ",%llu" : "%llu", (unsigned long long)idx[d]);
  if (len < cap) snprintf(buf + len, cap - len, "]");
}

static bool cmp_same_shape(const tandem_array *a, const tandem_array *b) {
  if (a->rank != b->rank) return false;
  for (int32_t d = 0; d < a->rank; d++)
    if (a->shape[d] != b->shape[d]) return false;
  return true;
}

static int cmp_arrays(const tandem_array *a, const tandem_array *b, const cmp_options *o) {
  char sa[RT_SHAPE_TEXT_MAX], sb[RT_SHAPE_TEXT_MAX], index[RT_SHAPE_TEXT_MAX];
  if (!cmp_same_shape(a, b)) {
    printf("shape mismatch: actual %s, expected %s: FAIL\n",
           rt_shape_format(sa, sizeof sa, a->dtype, a->rank, a->shape),
           rt_shape_format(sb, sizeof sb, b->dtype, b->rank, b->shape));
    return CMP_FAIL;
  }
  uint64_t count = b->byte_size / tandem_dtype_size(b->dtype);
  double atol = o->atol >= 0 ? o->atol : cmp_default_atol(b, count, o->rtol);
  cmp_result r;
  cmp_elements(a, b, count, o->rtol, atol, &r);
  double norm = r.diff_sq == 0 ? 0 : r.ref_sq > 0 ? sqrt(r.diff_sq / r.ref_sq) : INFINITY;
  bool pass = r.failed == 0 && r.nan_mismatches == 0;
  cmp_format_index(a, r.max_rel_index, index, sizeof index);
  printf("max abs err %.3g, max rel err %.3g (at index %s), norm rel err %.3g", r.max_abs,
         r.max_rel, index, norm);
  if (r.nan_mismatches)
    printf(", %llu NaN mismatches", (unsigned long long)r.nan_mismatches);
  printf(": %s\n", pass ? "PASS" : "FAIL");
  return pass ? CMP_PASS : CMP_FAIL;
}

static int cmp_read(const char *path, tandem_array *out) {
  tandem_status status = tandem_npy_read(path, NULL, out);
  if (!status) return CMP_PASS;
  fprintf(stderr, "tandem-npycmp: %s\n", tandem_status_message(status));
  tandem_status_free(status);
  return CMP_ERROR;
}

int main(int argc, char **argv) {
  cmp_options o;
  tandem_array a = {0}, b = {0};
  int code = cmp_parse(argc, argv, &o);
  if (code == CMP_PASS) code = cmp_read(o.actual, &a);
  if (code == CMP_PASS) code = cmp_read(o.expected, &b);
  if (code == CMP_PASS) code = cmp_arrays(&a, &b, &o);
  tandem_array_free(&a, NULL);
  tandem_array_free(&b, NULL);
  if (fflush(stdout) != 0) return CMP_ERROR;
  return code;
}
