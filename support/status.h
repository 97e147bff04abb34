/* Compiler status values: errors carry their context as a message.
 *
 * A tdm_status is NULL on success. A failure owns a one-line message such as
 * "model.xml: layer 'fc1' (id 7): ..." and an exit class (bad input, usage,
 * internal), which tandemc turns into its exit code. Wrap a callee's error with
 * more context with tdm_status_wrap; give it up with tdm_status_free. */
#ifndef TANDEM_SUPPORT_STATUS_H
#define TANDEM_SUPPORT_STATUS_H

#include <stdarg.h>

typedef enum tdm_exit {
  TDM_EXIT_OK = 0,
  TDM_EXIT_BAD_INPUT = 1, /* the model, an input file, a flag's value */
  TDM_EXIT_USAGE = 2,     /* the command line */
  TDM_EXIT_INTERNAL = 3,  /* a bug or an environment failure (disk, linker) */
} tdm_exit;

typedef struct tdm_status_s *tdm_status;

#if defined(__GNUC__)
#define TDM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TDM_PRINTF(f, a)
#endif

tdm_status tdm_error(tdm_exit exit_class, const char *fmt, ...) TDM_PRINTF(2, 3);
tdm_status tdm_errorv(tdm_exit exit_class, const char *fmt, va_list ap);
/* Prefixes `status`'s message with "<context>: "; passes NULL through. */
tdm_status tdm_status_wrap(tdm_status status, const char *fmt, ...) TDM_PRINTF(2, 3);
const char *tdm_status_message(tdm_status status);
tdm_exit tdm_status_exit(tdm_status status);
void tdm_status_free(tdm_status status);

#define TDM_TRY(expr)                 \
  do {                                \
    tdm_status tdm_try_ = (expr);     \
    if (tdm_try_) return tdm_try_;    \
  } while (0)

#define TDM_BAD(...) tdm_error(TDM_EXIT_BAD_INPUT, __VA_ARGS__)
#define TDM_INTERNAL(...) tdm_error(TDM_EXIT_INTERNAL, __VA_ARGS__)

#endif
