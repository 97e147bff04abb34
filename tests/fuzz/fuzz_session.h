/* A compile session kept across fuzz inputs (making one costs far more than an
 * import): between inputs, the weight files it mapped are dropped, so that the next
 * input's file of the same name is mapped afresh. Every FUZZ_SESSION_RUNS inputs it
 * is made anew, which bounds what its MLIR context interns. */
#ifndef TANDEM_FUZZ_SESSION_H
#define TANDEM_FUZZ_SESSION_H

#include <stdio.h>
#include <stdlib.h>

#include "ir/session.h"

#define FUZZ_SESSION_RUNS 2000

static tdm_session *fuzz_session_get(void) {
  static tdm_session *s;
  static int runs;
  if (s && ++runs % FUZZ_SESSION_RUNS == 0) {
    tdm_session_destroy(s);
    s = NULL;
  }
  if (s) {
    /* What tdm_session_destroy frees of the files, keeping the context. */
    for (int i = 0; i < s->nfiles; i++) {
      if (s->files[i].owned) free(s->files[i].owned);
      else tdm_file_unmap(&s->files[i].map);
      free(s->files[i].path);
      free(s->files[i].key);
    }
    s->nfiles = 0;
    tdm_session_reset_layout(s);
    tdm_session_clear_entries(s);
    tdm_session_clear_diag(s);
    tdm_status_free(s->pass_error);
    s->pass_error = NULL;
    return s;
  }
  tdm_status st = tdm_session_create(&s);
  if (st) {
    fprintf(stderr, "fuzz: cannot create a session: %s\n", tdm_status_message(st));
    abort();
  }
  return s;
}

#endif
