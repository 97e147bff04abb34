#include "ir/session.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/RegisterEverything.h"

static void append_ref(MlirStringRef ref, void *user) { tdm_sb_put_ref(user, ref); }

/* Keeps the first error (with its location) for tandemc's one-line message. */
static MlirLogicalResult on_diagnostic(MlirDiagnostic d, void *user) {
  tdm_session *s = user;
  if (mlirDiagnosticGetSeverity(d) != MlirDiagnosticError || s->diag.len)
    return mlirLogicalResultSuccess();
  tdm_loc_describe(mlirDiagnosticGetLocation(d), &s->diag);
  sb_puts(&s->diag, ": ");
  mlirDiagnosticPrint(d, append_ref, &s->diag);
  for (char *p = s->diag.data; p && *p; p++)
    if (*p == '\n') *p = ' ';
  return mlirLogicalResultSuccess();
}

tdm_status tdm_session_create(tdm_session **out) {
  *out = NULL;
  tdm_session *s = calloc(1, sizeof *s);
  if (!s) return TDM_INTERNAL("out of memory");
  static int passes_registered;
  if (!passes_registered) { /* process-wide; lets pipelines name MLIR's passes */
    mlirRegisterAllPasses();
    passes_registered = 1;
  }
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  mlirRegisterAllDialects(registry);
  s->ctx = mlirContextCreateWithRegistry(registry, false);
  mlirDialectRegistryDestroy(registry);
  mlirRegisterAllLLVMTranslations(s->ctx);
  s->diag_handler = mlirContextAttachDiagnosticHandler(s->ctx, on_diagnostic, s, NULL);
  snprintf(s->model_name, sizeof s->model_name, "model");
  s->vector_bits = 256;
  /* Deterministic output and simple pass state: one thread. */
  mlirContextEnableMultithreading(s->ctx, false);
  /* Ops are built by name, so the dialects we create must be loaded up front. */
  static const char *const dialects[] = {"func", "arith", "math", "tensor", "linalg",
                                         "bufferization", "memref", "scf", "cf", "vector",
                                         "affine", "ub", "llvm", "transform"};
  for (size_t i = 0; i < sizeof dialects / sizeof dialects[0]; i++)
    mlirContextGetOrLoadDialect(s->ctx, tdm_str(dialects[i]));
  tdm_status st = tdm_dialect_load(s->ctx);
  if (st) {
    tdm_session_destroy(s);
    return st;
  }
  *out = s;
  return NULL;
}

void tdm_session_destroy(tdm_session *s) {
  if (!s) return;
  for (int i = 0; i < s->nfiles; i++) {
    if (s->files[i].owned) free(s->files[i].owned);
    else tdm_file_unmap(&s->files[i].map);
    free(s->files[i].path);
    free(s->files[i].key);
  }
  free(s->files);
  free(s->slots);
  tdm_session_clear_entries(s);
  tdm_status_free(s->pass_error);
  sb_free(&s->diag);
  if (!mlirContextIsNull(s->ctx)) mlirContextDestroy(s->ctx);
  free(s);
}

static tdm_status new_file(tdm_session *s, tdm_weight_file **out) {
  if (s->nfiles == s->cap_files) {
    int cap = s->cap_files ? s->cap_files * 2 : 16;
    tdm_weight_file *p = realloc(s->files, sizeof *p * (size_t)cap);
    if (!p) return TDM_INTERNAL("out of memory");
    s->files = p;
    s->cap_files = cap;
  }
  *out = &s->files[s->nfiles];
  memset(*out, 0, sizeof **out);
  return NULL;
}

tdm_status tdm_session_add_derived(tdm_session *s, const char *key, uint8_t *data, size_t size,
                                   int *out_index) {
  tdm_weight_file *f = NULL;
  tdm_status st = new_file(s, &f);
  if (!st && !(f->key = strdup(key))) st = TDM_INTERNAL("out of memory");
  if (st) {
    free(data);
    return st;
  }
  f->owned = data;
  f->map.data = data;
  f->map.size = size;
  *out_index = s->nfiles++;
  return NULL;
}

int tdm_session_find_derived(const tdm_session *s, const char *key) {
  for (int i = 0; i < s->nfiles; i++)
    if (s->files[i].key && strcmp(s->files[i].key, key) == 0) return i;
  return -1;
}

tdm_status tdm_session_add_weight_file(tdm_session *s, const char *path, int *out_index) {
  char resolved[PATH_MAX];
  if (!realpath(path, resolved)) return TDM_BAD("%s: cannot open: No such file or directory", path);
  for (int i = 0; i < s->nfiles; i++)
    if (s->files[i].path && strcmp(s->files[i].path, resolved) == 0) {
      *out_index = i;
      return NULL;
    }
  if (s->nfiles == TDM_MAX_WEIGHT_FILES) return TDM_BAD("more than %d weight files", TDM_MAX_WEIGHT_FILES);
  tdm_weight_file *f = NULL;
  TDM_TRY(new_file(s, &f));
  TDM_TRY(tdm_file_map(path, &f->map));
  f->path = strdup(resolved);
  if (!f->path) {
    tdm_file_unmap(&f->map);
    return TDM_INTERNAL("out of memory");
  }
  *out_index = s->nfiles++;
  return NULL;
}

void tdm_session_store_weight_files(tdm_session *s, MlirModule m) {
  MlirAttribute paths[TDM_MAX_WEIGHT_FILES];
  int n = 0;
  for (int i = 0; i < s->nfiles && n < TDM_MAX_WEIGHT_FILES; i++)
    if (s->files[i].path) paths[n++] = mlirStringAttrGet(s->ctx, tdm_str(s->files[i].path));
  MlirOperation op = mlirModuleGetOperation(m);
  mlirOperationSetAttributeByName(op, tdm_str("tdm.weight_files"), mlirArrayAttrGet(s->ctx, n, paths));
}

tdm_status tdm_session_load_weight_files(tdm_session *s, MlirModule m, const char *mlir_path) {
  MlirOperation op = mlirModuleGetOperation(m);
  MlirAttribute files = mlirOperationGetAttributeByName(op, tdm_str("tdm.weight_files"));
  if (mlirAttributeIsNull(files)) return NULL; /* a model without weights */
  if (!mlirAttributeIsAArray(files))
    return TDM_BAD("%s: module attribute tdm.weight_files must be an array of paths", mlir_path);
  intptr_t n = mlirArrayAttrGetNumElements(files);
  for (intptr_t i = 0; i < n; i++) {
    MlirAttribute p = mlirArrayAttrGetElement(files, i);
    if (!mlirAttributeIsAString(p))
      return TDM_BAD("%s: tdm.weight_files[%d] is not a string", mlir_path, (int)i);
    strbuf path;
    sb_init(&path);
    MlirStringRef ref = mlirStringAttrGetValue(p);
    /* A relative path is relative to the .mlir file, so modules can travel with
     * their weights. */
    const char *slash = strrchr(mlir_path, '/');
    if (ref.length && ref.data[0] != '/' && slash)
      sb_append(&path, mlir_path, (size_t)(slash - mlir_path) + 1);
    tdm_sb_put_ref(&path, ref);
    int index = -1;
    tdm_status st = tdm_session_add_weight_file(s, sb_str(&path), &index);
    sb_free(&path);
    if (st) return tdm_status_wrap(st, "%s: weight file %d", mlir_path, (int)i);
    if (index != i) return TDM_BAD("%s: tdm.weight_files lists a file twice", mlir_path);
  }
  return NULL;
}

tdm_status tdm_session_check_weight(tdm_session *s, int64_t file, int64_t offset,
                                    int64_t size) {
  if (file < 0 || file >= s->nfiles)
    return TDM_BAD("weight file index %lld is out of range (%d files)", (long long)file, s->nfiles);
  if (offset < 0) return TDM_BAD("weight offset %lld is negative", (long long)offset);
  uint64_t fsize = s->files[file].map.size;
  if (offset < 0 || size < 0 || (uint64_t)offset > fsize || (uint64_t)size > fsize - (uint64_t)offset)
    return TDM_BAD("data at offset %lld, %lld bytes, lies past the end of %s (%llu bytes)",
                   (long long)offset, (long long)size,
                   s->files[file].path ? s->files[file].path : "a derived weight",
                   (unsigned long long)fsize);
  return NULL;
}

tdm_status tdm_session_place_weight(tdm_session *s, int file, uint64_t offset, uint64_t size,
                                    uint64_t *out_blob_offset) {
  TDM_TRY(tdm_session_check_weight(s, file, (int64_t)offset, (int64_t)size));
  for (int i = 0; i < s->nslots; i++) {
    tdm_weight_slot *w = &s->slots[i];
    if (w->file == file && w->offset == offset && w->size == size) {
      *out_blob_offset = w->blob_offset;
      return NULL;
    }
  }
  if (s->nslots == s->cap_slots) {
    int cap = s->cap_slots ? s->cap_slots * 2 : 64;
    tdm_weight_slot *p = realloc(s->slots, (size_t)cap * sizeof *p);
    if (!p) return TDM_INTERNAL("out of memory");
    s->slots = p;
    s->cap_slots = cap;
  }
  uint64_t at = (s->blob_size + TDM_WEIGHT_ALIGN - 1) & ~(uint64_t)(TDM_WEIGHT_ALIGN - 1);
  s->slots[s->nslots++] = (tdm_weight_slot){file, offset, size, at};
  s->blob_size = at + size;
  *out_blob_offset = at;
  return NULL;
}

void tdm_session_reset_layout(tdm_session *s) {
  s->nslots = 0;
  s->blob_size = 0;
}

tdm_status tdm_session_failure(tdm_session *s, tdm_exit exit_class, const char *what) {
  tdm_status st = s->diag.len ? tdm_error(exit_class, "%s", sb_str(&s->diag))
                              : tdm_error(exit_class, "%s", what);
  tdm_session_clear_diag(s);
  return st;
}

void tdm_session_clear_diag(tdm_session *s) { sb_clear(&s->diag); }

static void free_io(tdm_io_tensor *v, int n) {
  for (int i = 0; i < n; i++) free(v[i].name);
  free(v);
}

static tdm_status copy_io(int n, const tdm_io_tensor *from, tdm_io_tensor **out) {
  *out = n ? calloc((size_t)n, sizeof **out) : NULL;
  if (n && !*out) return TDM_INTERNAL("out of memory");
  for (int i = 0; i < n; i++) {
    (*out)[i].type = from[i].type;
    (*out)[i].name = strdup(from[i].name);
    if (!(*out)[i].name) return TDM_INTERNAL("out of memory");
  }
  return NULL;
}

static void free_entry(tdm_entry *e) {
  free(e->function);
  free(e->symbol);
  free_io(e->inputs, e->ninputs);
  free_io(e->states, e->nstates);
  free_io(e->outputs, e->noutputs);
  memset(e, 0, sizeof *e);
}

void tdm_session_clear_entries(tdm_session *s) {
  for (int i = 0; i < s->nentries; i++) free_entry(&s->entries[i]);
  s->nentries = 0;
}

tdm_status tdm_session_add_entry(tdm_session *s, const tdm_entry *e) {
  if (s->nentries == TDM_MAX_ENTRIES) return TDM_BAD("more than %d entry functions", TDM_MAX_ENTRIES);
  tdm_entry *d = &s->entries[s->nentries];
  memset(d, 0, sizeof *d);
  d->function = strdup(e->function);
  d->symbol = strdup(e->symbol);
  tdm_status st = !d->function || !d->symbol ? TDM_INTERNAL("out of memory") : NULL;
  if (!st) st = copy_io(e->ninputs, e->inputs, &d->inputs);
  if (!st) d->ninputs = e->ninputs, st = copy_io(e->nstates, e->states, &d->states);
  if (!st) d->nstates = e->nstates, st = copy_io(e->noutputs, e->outputs, &d->outputs);
  if (!st) d->noutputs = e->noutputs;
  if (st) {
    free_entry(d);
    return st;
  }
  s->nentries++;
  return NULL;
}

const tdm_entry *tdm_session_entry(const tdm_session *s, const char *function) {
  for (int i = 0; i < s->nentries; i++)
    if (strcmp(s->entries[i].function, function) == 0) return &s->entries[i];
  return NULL;
}
