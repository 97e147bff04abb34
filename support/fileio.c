#include "support/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

tdm_status tdm_file_map(const char *path, tdm_mapped_file *out) {
  out->data = NULL;
  out->size = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return TDM_BAD("%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return TDM_BAD("%s: not a regular file", path);
  }
  if (st.st_size > 0) {
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      close(fd);
      return TDM_BAD("%s: cannot map: %s", path, strerror(e));
    }
    out->data = p;
    out->size = (size_t)st.st_size;
  }
  close(fd);
  return NULL;
}

void tdm_file_unmap(tdm_mapped_file *f) {
  if (f->data) munmap((void *)f->data, f->size);
  f->data = NULL;
  f->size = 0;
}

tdm_status tdm_file_read(const char *path, char **out_data, size_t *out_size) {
  *out_data = NULL;
  FILE *fp = fopen(path, "rb");
  if (!fp) return TDM_BAD("%s: cannot open: %s", path, strerror(errno));
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  while (buf) {
    len += fread(buf + len, 1, cap - len - 1, fp);
    if (len < cap - 1) break;
    char *grown = realloc(buf, cap * 2);
    if (!grown) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = grown;
    cap *= 2;
  }
  int err = ferror(fp);
  fclose(fp);
  if (!buf) return TDM_INTERNAL("%s: out of memory reading the file", path);
  if (err) {
    free(buf);
    return TDM_BAD("%s: read error", path);
  }
  buf[len] = 0;
  *out_data = buf;
  if (out_size) *out_size = len;
  return NULL;
}

int tdm_file_same(const char *a, const char *b) {
  struct stat sa, sb;
  if (stat(a, &sa) != 0 || stat(b, &sb) != 0) return 0;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* ---- Staged outputs ------------------------------------------------------------- */

enum { MAX_STAGED = 16 };

struct tdm_staged {
  char *final_path;
  char *temp_path;
  FILE *fp;
  int executable;
};

struct tdm_outputs {
  tdm_staged items[MAX_STAGED];
  int count;
};

/* Temporary paths the signal handler removes; unlink() is async-signal-safe. */
static char *volatile pending[MAX_STAGED * 4];

static void on_fatal_signal(int sig) {
  for (size_t i = 0; i < sizeof pending / sizeof pending[0]; i++)
    if (pending[i]) unlink(pending[i]);
  signal(sig, SIG_DFL);
  raise(sig);
}

/* A signal that tandemc was started ignoring (nohup, a script's background job)
 * stays ignored: it would not have stopped the compile, so it must not now. */
static void catch_signal(int sig) {
  struct sigaction old;
  if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN) return;
  signal(sig, on_fatal_signal);
}

/* SIGINT, SIGTERM and SIGHUP, caught (unless ignored) from the first staged file on. */
static void fatal_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGHUP);
}

static void install_handlers(void) {
  static int installed;
  if (installed) return;
  installed = 1;
  catch_signal(SIGINT);
  catch_signal(SIGTERM);
  catch_signal(SIGHUP);
}

/* Called with the fatal signals blocked, so that no signal comes between creating
 * the file and recording it. */
static void track(char *path) {
  for (size_t i = 0; i < sizeof pending / sizeof pending[0]; i++)
    if (!pending[i]) {
      pending[i] = path;
      return;
    }
}

static void untrack(const char *path) {
  for (size_t i = 0; i < sizeof pending / sizeof pending[0]; i++)
    if (pending[i] == path) pending[i] = NULL;
}

tdm_outputs *tdm_outputs_create(void) { return calloc(1, sizeof(tdm_outputs)); }

tdm_status tdm_outputs_stage(tdm_outputs *set, const char *final_path, int executable,
                             FILE **out_fp, const char **out_temp_path) {
  if (out_fp) *out_fp = NULL;
  if (set->count == MAX_STAGED) return TDM_INTERNAL("too many output files");
  tdm_staged *s = &set->items[set->count];
  size_t n = strlen(final_path) + 16;
  s->temp_path = malloc(n);
  s->final_path = strdup(final_path);
  if (!s->temp_path || !s->final_path) {
    free(s->temp_path);
    free(s->final_path);
    return TDM_INTERNAL("out of memory");
  }
  snprintf(s->temp_path, n, "%s.tmp-XXXXXX", final_path);
  install_handlers();
  sigset_t fatal, old;
  fatal_signals(&fatal);
  sigprocmask(SIG_BLOCK, &fatal, &old);
  int fd = mkstemp(s->temp_path);
  int err = errno;
  if (fd >= 0) track(s->temp_path);
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (fd < 0) {
    tdm_status st = TDM_BAD("%s: cannot create: %s", final_path, strerror(err));
    free(s->temp_path);
    free(s->final_path);
    return st;
  }
  s->executable = executable;
  s->fp = fdopen(fd, "wb");
  set->count++;
  if (!s->fp) return TDM_INTERNAL("%s: fdopen failed", final_path);
  if (out_fp) *out_fp = s->fp;
  if (out_temp_path) *out_temp_path = s->temp_path;
  return NULL;
}

static tdm_status commit_all(tdm_outputs *set) {
  for (int i = 0; i < set->count; i++) {
    tdm_staged *s = &set->items[i];
    if (s->fp) {
      int bad = fflush(s->fp) != 0 || ferror(s->fp);
      bad |= fclose(s->fp) != 0;
      s->fp = NULL;
      if (bad) return TDM_INTERNAL("%s: write failed (disk full?)", s->final_path);
    }
  }
  for (int i = 0; i < set->count; i++) {
    tdm_staged *s = &set->items[i];
    mode_t mode = s->executable ? 0755 : 0644;
    mode_t mask = umask(0);
    umask(mask);
    chmod(s->temp_path, mode & ~mask);
    if (rename(s->temp_path, s->final_path) != 0)
      return TDM_BAD("%s: cannot write: %s", s->final_path, strerror(errno));
    untrack(s->temp_path);
    free(s->temp_path);
    s->temp_path = NULL;
  }
  return NULL;
}

tdm_status tdm_outputs_commit(tdm_outputs *set) {
  /* From here on a signal waits: were it to land between two renames, part of the
   * outputs would be in place and the rest gone. After a successful commit it stays
   * blocked, so that the exit status agrees with the outputs (exit 0, all in place);
   * after a failed one it is let through once the staged files are removed. */
  sigset_t fatal, old;
  fatal_signals(&fatal);
  sigprocmask(SIG_BLOCK, &fatal, &old);
  tdm_status st = commit_all(set);
  if (st) {
    for (int i = 0; i < set->count; i++) {
      tdm_staged *s = &set->items[i];
      if (s->fp) fclose(s->fp);
      s->fp = NULL;
      if (s->temp_path) unlink(s->temp_path);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
  }
  return st;
}

void tdm_outputs_destroy(tdm_outputs *set) {
  if (!set) return;
  for (int i = 0; i < set->count; i++) {
    tdm_staged *s = &set->items[i];
    if (s->fp) fclose(s->fp);
    if (s->temp_path) {
      untrack(s->temp_path);
      unlink(s->temp_path);
      free(s->temp_path);
    }
    free(s->final_path);
  }
  free(set);
}

tdm_status tdm_write_all(FILE *fp, const void *data, size_t n, const char *path) {
  if (n && fwrite(data, 1, n, fp) != n)
    return TDM_INTERNAL("%s: write failed: %s", path, strerror(errno));
  return NULL;
}
