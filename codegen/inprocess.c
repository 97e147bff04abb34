/* Running compiled code inside the compiler (for --lp=auto's calibration): the
 * module becomes an object as for any output, the system's C compiler driver
 * links it into a shared object in a private temporary folder, and dlopen maps
 * it. The files are removed as soon as the object is loaded. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen/codegen.h"

#define ENTRY_SYMBOL "tandem_inprocess_entry"

static tdm_status write_file(const char *path, const uint8_t *data, size_t n) {
  FILE *fp = fopen(path, "wb");
  if (!fp) return TDM_INTERNAL("%s: cannot create: %s", path, strerror(errno));
  tdm_status st = tdm_write_all(fp, data, n, path);
  if (fclose(fp) != 0 && !st) st = TDM_INTERNAL("%s: write failed", path);
  return st;
}

static tdm_status load(const uint8_t *obj, size_t obj_size, cg_loaded *out) {
  const char *tmp = getenv("TMPDIR");
  char dir[4096], obj_path[4200], so_path[4200];
  snprintf(dir, sizeof dir, "%s/tandemc-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) return TDM_INTERNAL("cannot create a temporary folder in %s: %s", tmp ? tmp : "/tmp", strerror(errno));
  snprintf(obj_path, sizeof obj_path, "%s/calibration.o", dir);
  snprintf(so_path, sizeof so_path, "%s/calibration.so", dir);
  tdm_status st = write_file(obj_path, obj, obj_size);
  if (!st) st = cg_link_shared(obj_path, so_path);
  if (!st) {
    out->handle = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
    if (!out->handle) st = TDM_INTERNAL("cannot load the calibration build: %s", dlerror());
  }
  if (!st) {
    *(void **)&out->fn = dlsym(out->handle, ENTRY_SYMBOL);
    if (!out->fn) st = TDM_INTERNAL("the calibration build has no %s", ENTRY_SYMBOL);
  }
  unlink(so_path);
  unlink(obj_path);
  rmdir(dir);
  return st;
}

tdm_status cg_load_in_process(tdm_session *s, MlirModule module, const cg_target *target, const char *function,
                              cg_loaded *out) {
  memset(out, 0, sizeof *out);
  cg_module m;
  TDM_TRY(cg_translate(s, module, target, &m));
  tdm_status st = cg_weights_build(s, &out->weights);
  if (!st) st = cg_add_packed_entry(s, &m, &out->weights, function, ENTRY_SYMBOL);
  if (!st) st = cg_optimize(&m, target->opt_level);
  uint8_t *obj = NULL;
  size_t obj_size = 0;
  if (!st) st = cg_emit_object(&m, &obj, &obj_size);
  cg_module_dispose(&m);
  if (!st) st = load(obj, obj_size, out);
  free(obj);
  if (st) cg_loaded_close(out);
  return st;
}

void cg_loaded_close(cg_loaded *l) {
  if (l->handle) dlclose(l->handle);
  cg_weights_free(&l->weights);
  memset(l, 0, sizeof *l);
}
