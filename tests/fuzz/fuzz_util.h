/* What the fuzz targets share: a private scratch folder for the readers that take a
 * path, and replaying inputs without libFuzzer.
 *
 * Every target is a libFuzzer entry point (LLVMFuzzerTestOneInput). Built with
 * -DFUZZ_REPLAY_MAIN (tests/fuzz/CMakeLists.txt does, for the regression tests), it
 * is a plain program that runs each file named on its command line through the same
 * entry point once, in any build: `fuzz_npy_replay tests/fuzz/regressions/npy/`. */
#ifndef TANDEM_FUZZ_UTIL_H
#define TANDEM_FUZZ_UTIL_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A folder of this process's own (tmpfs when there is one), removed at exit. */
static char fuzz_dir_path[256];

static inline void fuzz_dir_remove(void) {
  DIR *d = opendir(fuzz_dir_path);
  if (!d) return;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char p[512];
    snprintf(p, sizeof p, "%s/%s", fuzz_dir_path, e->d_name);
    unlink(p);
  }
  closedir(d);
  rmdir(fuzz_dir_path);
}

static inline const char *fuzz_dir(void) {
  if (fuzz_dir_path[0]) return fuzz_dir_path;
  const char *bases[] = {"/dev/shm", getenv("TMPDIR"), "/tmp"};
  for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
    if (!bases[i]) continue;
    snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%s/tandem-fuzz-XXXXXX", bases[i]);
    if (mkdtemp(fuzz_dir_path)) {
      atexit(fuzz_dir_remove);
      return fuzz_dir_path;
    }
  }
  perror("fuzz: cannot create a scratch folder");
  abort();
}

/* fuzz_dir()/name, holding exactly `data`. */
static inline const char *fuzz_write(const char *name, const void *data, size_t size) {
  static char path[2][512];
  static int which;
  char *p = path[which++ & 1];
  snprintf(p, sizeof path[0], "%s/%s", fuzz_dir(), name);
  FILE *f = fopen(p, "wb");
  if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
    perror(p);
    abort();
  }
  return p;
}

#ifdef FUZZ_REPLAY_MAIN
static int fuzz_replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return 1;
  }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc(size > 0 ? (size_t)size : 1);
  size_t got = buf ? fread(buf, 1, (size_t)(size > 0 ? size : 0), f) : 0;
  fclose(f);
  if (!buf || got != (size_t)(size > 0 ? size : 0)) {
    fprintf(stderr, "%s: cannot read\n", path);
    free(buf);
    return 1;
  }
  /* A copy of exactly `size` bytes, so that ASan sees any read past the input. */
  uint8_t *exact = malloc(got ? got : 1);
  memcpy(exact, buf, got);
  free(buf);
  LLVMFuzzerTestOneInput(exact, got);
  free(exact);
  printf("ok %s\n", path);
  return 0;
}

/* Files, or folders of files (not recursive). */
int main(int argc, char **argv) {
  int bad = 0, n = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      perror(argv[i]);
      return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
      bad |= fuzz_replay_file(argv[i]);
      n++;
      continue;
    }
    struct dirent **names;
    int count = scandir(argv[i], &names, NULL, alphasort);
    for (int k = 0; k < count; k++) {
      if (names[k]->d_name[0] != '.') {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", argv[i], names[k]->d_name);
        bad |= fuzz_replay_file(p);
        n++;
      }
      free(names[k]);
    }
    free(names);
  }
  printf("%d input(s) replayed\n", n);
  return bad;
}
#endif

#endif
