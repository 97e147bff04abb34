/* Linking an executable. The object is ours (LLVM wrote it); the system's C
 * compiler driver only links it with the runtime's archives and libc. */
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codegen/codegen.h"

extern char **environ;

#ifndef TANDEM_BUILD_LIB_DIR
#define TANDEM_BUILD_LIB_DIR ""
#endif

static int exists(const char *path) { return access(path, R_OK) == 0; }

/* The runtime archives: $TANDEM_RUNTIME_DIR, then <tandemc's dir>/../lib (the
 * build and install trees both have that layout), then the build tree. */
static tdm_status find_runtime_dir(char *out, size_t n) {
  const char *env = getenv("TANDEM_RUNTIME_DIR");
  char self[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  const char *cands[3] = {env, NULL, TANDEM_BUILD_LIB_DIR};
  char rel[PATH_MAX + 16];
  if (len > 0) {
    self[len] = 0;
    char *slash = strrchr(self, '/');
    if (slash) *slash = 0;
    snprintf(rel, sizeof rel, "%s/../lib", self);
    cands[1] = rel;
  }
  for (int i = 0; i < 3; i++) {
    if (!cands[i] || !*cands[i]) continue;
    char probe[PATH_MAX + 64], probe_main[PATH_MAX + 64];
    snprintf(probe, sizeof probe, "%s/libtandem_runtime.a", cands[i]);
    snprintf(probe_main, sizeof probe_main, "%s/libtandem_main.a", cands[i]);
    if (exists(probe) && exists(probe_main)) {
      snprintf(out, n, "%s", cands[i]);
      return NULL;
    }
  }
  return TDM_INTERNAL("cannot find libtandem_runtime.a and libtandem_main.a (set TANDEM_RUNTIME_DIR to the folder that has them)");
}

static tdm_status run_linker(char **argv, const char *out_path) {
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
  if (rc != 0) return TDM_INTERNAL("cannot run the linker '%s': %s (set TANDEM_CC)", argv[0], strerror(rc));
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return TDM_INTERNAL("waiting for the linker: %s", strerror(errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return TDM_INTERNAL("linking %s with '%s' failed", out_path, argv[0]);
  return NULL;
}

static const char *c_compiler(void) {
  const char *cc = getenv("TANDEM_CC");
  return cc && *cc ? cc : "cc";
}

tdm_status cg_link_shared(const char *obj_path, const char *out_path) {
  char *argv[] = {(char *)c_compiler(), "-shared", "-o", (char *)out_path, (char *)obj_path, "-lm", NULL};
  return run_linker(argv, out_path);
}

tdm_status cg_link_executable(const char *obj_path, const char *out_path, int llm) {
  char dir[PATH_MAX];
  TDM_TRY(find_runtime_dir(dir, sizeof dir));
  char main_lib[PATH_MAX + 32], llm_lib[PATH_MAX + 32], rt_lib[PATH_MAX + 32];
  snprintf(main_lib, sizeof main_lib, "%s/%s", dir, llm ? "libtandem_llm_main.a" : "libtandem_main.a");
  snprintf(llm_lib, sizeof llm_lib, "%s/libtandem_llm.a", dir);
  snprintf(rt_lib, sizeof rt_lib, "%s/libtandem_runtime.a", dir);
  const char *cc = c_compiler();
  /* Plain: model.o libtandem_main.a libtandem_runtime.a -lm.
   * LLM:   model.o libtandem_llm_main.a libtandem_llm.a libtandem_runtime.a -lpcre2-8 -lm. */
  char *plain[] = {(char *)cc, "-o", (char *)out_path, (char *)obj_path, main_lib, rt_lib, "-lm", NULL};
  char *with_llm[] = {(char *)cc, "-o", (char *)out_path, (char *)obj_path, main_lib, llm_lib, rt_lib,
                      "-lpcre2-8", "-lm", NULL};
  return run_linker(llm ? with_llm : plain, out_path);
}
