/* A growable string. Allocation failure is sticky: sb_failed() says so once, at
 * the end, instead of after every append. */
#ifndef TANDEM_SUPPORT_STRBUF_H
#define TANDEM_SUPPORT_STRBUF_H

#include <stddef.h>
#include "support/status.h"

typedef struct strbuf {
  char *data; /* NUL-terminated; owned */
  size_t len, cap;
  int failed;
} strbuf;

void sb_init(strbuf *sb);
void sb_free(strbuf *sb);
void sb_clear(strbuf *sb);
void sb_append(strbuf *sb, const char *s, size_t n);
void sb_puts(strbuf *sb, const char *s);
void sb_printf(strbuf *sb, const char *fmt, ...) TDM_PRINTF(2, 3);
const char *sb_str(const strbuf *sb); /* "" when empty */
int sb_failed(const strbuf *sb);
/* Moves the contents out (caller frees); leaves sb empty. */
char *sb_take(strbuf *sb);

#endif
