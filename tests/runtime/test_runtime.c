/* Unit tests of the runtime library. `test_runtime [GROUP...]` runs the named groups
 * (all of them when none are named) in a fresh scratch directory; exit 0 iff every
 * check passed. */
#include <stdio.h>
#include <string.h>

#include "test_util.h"

static const struct {
  const char *name;
  void (*run)(void);
} t_groups[] = {
    {"status", test_status}, {"dtype", test_dtype}, {"hash", test_hash},
    {"weights", test_weights}, {"model", test_model}, {"npy", test_npy}, {"pool", test_pool},
};
#define T_GROUP_COUNT (sizeof t_groups / sizeof t_groups[0])

static int t_run_named(const char *name) {
  for (size_t i = 0; i < T_GROUP_COUNT; i++)
    if (strcmp(t_groups[i].name, name) == 0) {
      t_groups[i].run();
      return 0;
    }
  fprintf(stderr, "test_runtime: unknown group '%s'\n", name);
  return -1;
}

int main(int argc, char **argv) {
  t_scratch_create();
  int bad = 0;
  if (argc == 1)
    for (size_t i = 0; i < T_GROUP_COUNT; i++) t_groups[i].run();
  for (int i = 1; i < argc; i++) bad |= t_run_named(argv[i]);
  t_scratch_remove();
  if (bad) return 2;
  if (t_failures) fprintf(stderr, "%d check(s) failed\n", t_failures);
  else printf("all checks passed\n");
  return t_failures ? 1 : 0;
}
