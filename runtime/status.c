/* tandem_status: a heap-allocated code and one-line message. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_status.h"

struct tandem_status_s {
  tandem_status_code code;
  const char *message; /* points just past the struct, or to a static string */
};

/* Returned when a status cannot be allocated, so that reporting an error never fails.
 * It is never freed. */
static struct tandem_status_s rt_status_oom = {TANDEM_OUT_OF_MEMORY, "out of memory"};

static const char *const rt_status_code_names[] = {
    "OK",          "INVALID_ARGUMENT",    "NOT_FOUND",     "IO_ERROR",
    "DATA_LOSS",   "FAILED_PRECONDITION", "OUT_OF_MEMORY", "INTERNAL",
};
_Static_assert(sizeof rt_status_code_names / sizeof rt_status_code_names[0] ==
                   TANDEM_STATUS_CODE_COUNT,
               "one name per tandem_status_code");

tandem_status rt_status_makev(tandem_status_code code, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int len = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (len < 0) {
    fmt = "(unprintable error message)";
    len = (int)strlen(fmt);
  }
  tandem_status status = malloc(sizeof *status + (size_t)len + 1);
  if (!status) return &rt_status_oom;
  char *text = (char *)(status + 1);
  if (vsnprintf(text, (size_t)len + 1, fmt, ap) < 0) strcpy(text, fmt);
  /* One line, whatever file text a message quotes. */
  for (char *p = text; *p; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
  status->code = code;
  status->message = text;
  return status;
}

tandem_status rt_status_make(tandem_status_code code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tandem_status status = rt_status_makev(code, fmt, ap);
  va_end(ap);
  return status;
}

static tandem_status_code rt_status_code_of_errno(int err) {
  switch (err) {
  case ENOENT:
  case ENOTDIR:
    return TANDEM_NOT_FOUND;
  case ENOMEM:
    return TANDEM_OUT_OF_MEMORY;
  default:
    return TANDEM_IO_ERROR;
  }
}

tandem_status rt_status_errno(int err, const char *fmt, ...) {
  char context[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(context, sizeof context, fmt, ap);
  va_end(ap);
  return rt_status_make(rt_status_code_of_errno(err), "%s: %s", context, strerror(err));
}

tandem_status_code tandem_status_code_of(tandem_status status) {
  return status ? status->code : TANDEM_OK;
}

const char *tandem_status_code_name(tandem_status_code code) {
  if ((unsigned)code >= TANDEM_STATUS_CODE_COUNT) return "?";
  return rt_status_code_names[code];
}

const char *tandem_status_message(tandem_status status) {
  return status ? status->message : "";
}

void tandem_status_free(tandem_status status) {
  if (status == &rt_status_oom) return;
  free(status);
}
