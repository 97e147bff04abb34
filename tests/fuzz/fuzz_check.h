/* The oracle the importer targets share besides the sanitizers: a bad model is an
 * error of class "bad input" (tandemc's exit 1) with a one-line message; an internal
 * error (exit 3) on any input is a bug, as tests/frontend/README.md says. */
#ifndef TANDEM_FUZZ_CHECK_H
#define TANDEM_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/status.h"

static void fuzz_check_status(tdm_status st) {
  if (!st) return;
  const char *msg = tdm_status_message(st);
  if (tdm_status_exit(st) != TDM_EXIT_BAD_INPUT && !strstr(msg, "out of memory")) {
    fprintf(stderr, "fuzz: an input gave an internal error (exit %d): %s\n", (int)tdm_status_exit(st), msg);
    abort();
  }
  if (strchr(msg, '\n')) {
    fprintf(stderr, "fuzz: an error message has more than one line: %s\n", msg);
    abort();
  }
  tdm_status_free(st);
}

#endif
