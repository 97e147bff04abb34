/* main() of an executable built by tandemc --emit=exe. The compiled model object
 * defines tandem_main_model (an alias of its NAME_desc); everything else is the
 * driver in the runtime library. Kept in its own library, libtandem_main.a, so that
 * programs embedding a model bring their own main. */
#include <malloc.h>

#include "tandem/runtime.h"

extern const tandem_model_desc tandem_main_model;

int main(int argc, char **argv) {
  /* A model allocates the same temporaries on every run. Keep freed memory in the
   * heap instead of returning it to the kernel (glibc maps big blocks afresh each
   * time, and zeroing new pages costs more than small layers compute). This is the
   * executable's choice; the library leaves its host's malloc alone. */
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  return tandem_driver_main(&tandem_main_model, argc, argv);
}
