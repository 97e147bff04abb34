/* main() of an executable built by tandemc --emit=exe. The compiled model object
 * defines tandem_main_model (an alias of its NAME_desc); everything else is the
 * driver in the runtime library. Kept in its own library, libtandem_main.a, so that
 * programs embedding a model bring their own main. */
#include "tandem/runtime.h"

extern const tandem_model_desc tandem_main_model;

int main(int argc, char **argv) { return tandem_driver_main(&tandem_main_model, argc, argv); }
