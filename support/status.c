#include "support/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tdm_status_s {
  tdm_exit exit_class;
  char *message;
};

/* Returned when a status cannot be allocated, so that failing never fails. */
static struct tdm_status_s out_of_memory = {TDM_EXIT_INTERNAL, "out of memory"};

static char *vformat(const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) return NULL;
  char *s = malloc((size_t)n + 1);
  if (s) vsnprintf(s, (size_t)n + 1, fmt, ap);
  return s;
}

tdm_status tdm_errorv(tdm_exit exit_class, const char *fmt, va_list ap) {
  tdm_status s = malloc(sizeof *s);
  if (!s) return &out_of_memory;
  s->exit_class = exit_class;
  s->message = vformat(fmt, ap);
  if (!s->message) {
    free(s);
    return &out_of_memory;
  }
  /* One line: a newline inside a message would break "tandemc: file: what". */
  for (char *p = s->message; *p; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
  return s;
}

tdm_status tdm_error(tdm_exit exit_class, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tdm_status s = tdm_errorv(exit_class, fmt, ap);
  va_end(ap);
  return s;
}

tdm_status tdm_status_wrap(tdm_status status, const char *fmt, ...) {
  if (!status || status == &out_of_memory) return status;
  va_list ap;
  va_start(ap, fmt);
  char *prefix = vformat(fmt, ap);
  va_end(ap);
  if (!prefix) return status;
  size_t n = strlen(prefix) + 2 + strlen(status->message) + 1;
  char *joined = malloc(n);
  if (joined) {
    snprintf(joined, n, "%s: %s", prefix, status->message);
    free(status->message);
    status->message = joined;
  }
  free(prefix);
  return status;
}

const char *tdm_status_message(tdm_status status) {
  return status ? status->message : "ok";
}

tdm_exit tdm_status_exit(tdm_status status) {
  return status ? status->exit_class : TDM_EXIT_OK;
}

void tdm_status_free(tdm_status status) {
  if (!status || status == &out_of_memory) return;
  free(status->message);
  free(status);
}
