/* Unit tests of the LLM runtime. `test_llm [GROUP...]` runs the named groups (all when
 * none are named) in a fresh scratch directory; exit 0 iff every check passed. */
#include <stdio.h>
#include <string.h>

#include "test_llm.h"

static const struct {
  const char *name;
  void (*run)(void);
} t_groups[] = {
    {"bpe", test_bpe},     {"spm", test_spm},       {"vocab", test_vocab_quirks},
    {"format", test_format}, {"fuzz", test_fuzz},   {"sample", test_sample},
    {"chat", test_chat},   {"fake", test_fake},     {"eval", test_eval},
    {"desc", test_desc},
};
#define T_GROUP_COUNT (sizeof t_groups / sizeof t_groups[0])

int main(int argc, char **argv) {
  t_scratch_create();
  int bad = 0;
  for (size_t i = 0; argc == 1 && i < T_GROUP_COUNT; i++) t_groups[i].run();
  for (int a = 1; a < argc; a++) {
    size_t i = 0;
    while (i < T_GROUP_COUNT && strcmp(t_groups[i].name, argv[a]) != 0) i++;
    if (i == T_GROUP_COUNT) {
      fprintf(stderr, "test_llm: unknown group '%s'\n", argv[a]);
      bad = 1;
    } else {
      t_groups[i].run();
    }
  }
  t_scratch_remove();
  if (bad) return 2;
  if (t_failures) fprintf(stderr, "%d check(s) failed\n", t_failures);
  else printf("all checks passed\n");
  return t_failures ? 1 : 0;
}
