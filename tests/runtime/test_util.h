/* A minimal test harness: CHECK macros that count failures and keep going, status
 * checks by code and message fragment, and a scratch directory. */
#ifndef TANDEM_TESTS_TEST_UTIL_H
#define TANDEM_TESTS_TEST_UTIL_H

#include <stddef.h>

#include "tandem/runtime.h"

extern int t_failures;

void t_fail(const char *file, int line, const char *what, const char *detail);

#define CHECK(cond) \
  do { if (!(cond)) t_fail(__FILE__, __LINE__, #cond, NULL); } while (0)
/* `expr` must return NULL (OK); a failure prints its message. */
#define CHECK_OK(expr) t_check_status((expr), TANDEM_OK, NULL, __FILE__, __LINE__, #expr)
/* `expr` must fail with `code` and a message containing `fragment`. */
#define CHECK_STATUS(expr, code, fragment) \
  t_check_status((expr), (code), (fragment), __FILE__, __LINE__, #expr)

/* Frees `status`. */
void t_check_status(tandem_status status, tandem_status_code code, const char *fragment,
                    const char *file, int line, const char *what);

/* A fresh directory for one test run, removed by t_scratch_remove. */
const char *t_scratch_create(void);
void t_scratch_remove(void);
/* scratch/name in a static rotating buffer (valid for the next few calls). */
const char *t_path(const char *name);
int t_write_file(const char *path, const void *bytes, size_t size);
/* Number of directory entries in the scratch dir whose name contains `fragment`. */
int t_scratch_count(const char *fragment);

/* Test groups, each in its own file. */
void test_status(void);
void test_dtype(void);
void test_hash(void);
void test_weights(void);
void test_model(void);
void test_pool(void);
void test_npy(void);

#endif
