/* Internal constructors for tandem_status (the public side is in tandem/runtime.h).
 *
 * Making a status never fails: when the message cannot be allocated the caller gets
 * a static out-of-memory status instead, which tandem_status_free ignores. */
#ifndef TANDEM_RT_STATUS_H
#define TANDEM_RT_STATUS_H

#include <stdarg.h>

#include "tandem/runtime.h"

#if defined(__GNUC__)
#define RT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define RT_PRINTF(f, a)
#endif

tandem_status rt_status_make(tandem_status_code code, const char *fmt, ...) RT_PRINTF(2, 3);
tandem_status rt_status_makev(tandem_status_code code, const char *fmt, va_list ap);
/* For a failed system call: the code follows `err` (ENOENT -> TANDEM_NOT_FOUND,
 * ENOMEM -> TANDEM_OUT_OF_MEMORY, else TANDEM_IO_ERROR) and ": strerror(err)" ends
 * the message. */
tandem_status rt_status_errno(int err, const char *fmt, ...) RT_PRINTF(2, 3);

#define RT_TRY(expr)                   \
  do {                                 \
    tandem_status rt_try_ = (expr);    \
    if (rt_try_) return rt_try_;       \
  } while (0)

#endif
