/* Reading back a graph module that tandemc printed. */
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"

tdm_status fe_mlir_import(tdm_session *s, const char *path, MlirModule *out_module) {
  *out_module = (MlirModule){NULL};
  char *text;
  size_t size;
  TDM_TRY(tdm_file_read(path, &text, &size));
  tdm_session_clear_diag(s);
  /* Parsed as a named buffer so that locations and errors name the file. */
  MlirOperation op = mlirOperationCreateParse(s->ctx, (MlirStringRef){text, size}, tdm_str(path));
  free(text);
  if (mlirOperationIsNull(op)) return tdm_session_failure(s, TDM_EXIT_BAD_INPUT, "parse error");
  MlirModule m = mlirModuleFromOperation(op);
  if (mlirModuleIsNull(m)) {
    mlirOperationDestroy(op);
    return TDM_BAD("%s: the top-level operation is not a builtin.module", path);
  }
  tdm_status st = tdm_session_load_weight_files(s, m, path);
  if (st) {
    mlirModuleDestroy(m);
    return st;
  }
  *out_module = m;
  return NULL;
}
