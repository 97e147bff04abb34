/* Choosing a frontend. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "frontend/frontend.h"

static int has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

tdm_status fe_import(tdm_session *s, const char *path, MlirModule *out_module) {
  if (has_suffix(path, ".xml")) return fe_openvino_import(s, path, NULL, out_module);
  if (has_suffix(path, ".mlir")) return fe_mlir_import(s, path, out_module);
  if (has_suffix(path, ".gguf")) return fe_gguf_import(s, path, out_module);
  /* No telling extension: look at the first bytes. */
  FILE *fp = fopen(path, "rb");
  if (!fp) return TDM_BAD("%s: cannot open: %s", path, strerror(errno));
  char head[64] = {0};
  size_t n = fread(head, 1, sizeof head - 1, fp);
  fclose(fp);
  (void)n;
  if (strstr(head, "<?xml") || strstr(head, "<net")) return fe_openvino_import(s, path, NULL, out_module);
  if (memcmp(head, "GGUF", 4) == 0) return fe_gguf_import(s, path, out_module);
  if (strstr(head, "module") || strstr(head, "#map") || strstr(head, "//")) return fe_mlir_import(s, path, out_module);
  return TDM_BAD("%s: unknown model format (expected OpenVINO IR .xml, GGUF or tandem .mlir)", path);
}
