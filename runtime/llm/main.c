/* main() of an LLM executable built by tandemc from a GGUF model. The compiled object
 * defines tandem_main_llm (an alias of its NAME_llm); everything else is the driver in
 * libtandem_llm. Kept in its own library, libtandem_llm_main.a, so that programs that
 * embed a model bring their own main. */
#include <malloc.h>

#include "tandem/llm.h"

extern const tandem_llm_desc tandem_main_llm;

int main(int argc, char **argv) {
  /* As in libtandem_main: keep freed memory in the heap rather than returning it to
   * the kernel between evaluations. */
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  return tandem_llm_driver_main(&tandem_main_llm, argc, argv);
}
