/* The harness behind test_util.h. */
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

int t_failures;
static char t_scratch[4096];

void t_fail(const char *file, int line, const char *what, const char *detail) {
  fprintf(stderr, "%s:%d: FAILED: %s%s%s\n", file, line, what, detail ? ": " : "",
          detail ? detail : "");
  t_failures++;
}

void t_check_status(tandem_status status, tandem_status_code code, const char *fragment,
                    const char *file, int line, const char *what) {
  char detail[2048];
  tandem_status_code got = tandem_status_code_of(status);
  const char *message = tandem_status_message(status);
  if (got != code || (fragment && !strstr(message, fragment))) {
    snprintf(detail, sizeof detail, "expected %s \"%s\", got %s \"%s\"",
             tandem_status_code_name(code), fragment ? fragment : "",
             tandem_status_code_name(got), message);
    t_fail(file, line, what, detail);
  }
  tandem_status_free(status);
}

const char *t_scratch_create(void) {
  const char *base = getenv("TMPDIR");
  snprintf(t_scratch, sizeof t_scratch, "%s/tandem-rt-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(t_scratch)) {
    perror("mkdtemp");
    exit(2);
  }
  return t_scratch;
}

static int t_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  return remove(path);
}

void t_scratch_remove(void) {
  if (t_scratch[0]) nftw(t_scratch, t_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *t_path(const char *name) {
  static char buffers[4][8192];
  static int next;
  char *buf = buffers[next++ % 4];
  snprintf(buf, sizeof buffers[0], "%s/%s", t_scratch, name);
  return buf;
}

int t_write_file(const char *path, const void *bytes, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t written = fwrite(bytes, 1, size, f);
  return fclose(f) == 0 && written == size ? 0 : -1;
}

int t_scratch_count(const char *fragment) {
  DIR *dir = opendir(t_scratch);
  int count = 0;
  if (!dir) return -1;
  for (struct dirent *e; (e = readdir(dir));) count += strstr(e->d_name, fragment) != NULL;
  closedir(dir);
  return count;
}
