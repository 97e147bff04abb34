/* Static libraries: a GNU ar archive with a symbol index, written directly so that
 * two compiles of the same model give byte-identical files (no timestamps, uid 0). */
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"

static int is_exported(LLVMValueRef v) {
  if (LLVMIsDeclaration(v)) return 0;
  LLVMLinkage l = LLVMGetLinkage(v);
  return l == LLVMExternalLinkage || l == LLVMWeakAnyLinkage || l == LLVMWeakODRLinkage ||
         l == LLVMLinkOnceODRLinkage || l == LLVMLinkOnceAnyLinkage;
}

static tdm_status push(char ***names, int *n, int *cap, const char *name) {
  if (*n == *cap) {
    *cap = *cap ? *cap * 2 : 16;
    char **p = realloc(*names, sizeof *p * (size_t)*cap);
    if (!p) return TDM_INTERNAL("out of memory");
    *names = p;
  }
  (*names)[*n] = strdup(name);
  if (!(*names)[*n]) return TDM_INTERNAL("out of memory");
  (*n)++;
  return NULL;
}

tdm_status cg_module_global_symbols(cg_module *m, char ***out_names, int *out_count) {
  char **names = NULL;
  int n = 0, cap = 0;
  size_t len;
  for (LLVMValueRef f = LLVMGetFirstFunction(m->mod); f; f = LLVMGetNextFunction(f))
    if (is_exported(f)) TDM_TRY(push(&names, &n, &cap, LLVMGetValueName2(f, &len)));
  for (LLVMValueRef g = LLVMGetFirstGlobal(m->mod); g; g = LLVMGetNextGlobal(g))
    if (is_exported(g)) TDM_TRY(push(&names, &n, &cap, LLVMGetValueName2(g, &len)));
  for (LLVMValueRef a = LLVMGetFirstGlobalAlias(m->mod); a; a = LLVMGetNextGlobalAlias(a))
    TDM_TRY(push(&names, &n, &cap, LLVMGetValueName2(a, &len)));
  *out_names = names;
  *out_count = n;
  return NULL;
}

/* name[16] date[12] uid[6] gid[6] mode[8] size[10] "`\n" */
static void member_header(char out[61], const char *name, size_t size) {
  char buf[128];
  snprintf(buf, sizeof buf, "%-16.16s%-12d%-6d%-6d%-8o%-10zu`\n", name, 0, 0, 0, 0644, size);
  memcpy(out, buf, 61);
}

static void put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

tdm_status cg_archive_write(FILE *fp, const char *path, const char *member_name,
                            const uint8_t *obj, size_t obj_size, char *const *symbols,
                            int nsymbols) {
  if (strlen(member_name) > 15) member_name = "model.o";
  size_t names_len = 0;
  for (int i = 0; i < nsymbols; i++) names_len += strlen(symbols[i]) + 1;
  size_t index_size = 4 + 4 * (size_t)nsymbols + names_len;
  size_t index_padded = index_size + (index_size & 1);
  uint32_t obj_offset = (uint32_t)(8 + 60 + index_padded);
  uint8_t *index = calloc(1, index_padded);
  if (!index) return TDM_INTERNAL("out of memory");
  put_be32(index, (uint32_t)nsymbols);
  char *p = (char *)index + 4 + 4 * (size_t)nsymbols;
  for (int i = 0; i < nsymbols; i++) {
    put_be32(index + 4 + 4 * (size_t)i, obj_offset);
    size_t l = strlen(symbols[i]) + 1;
    memcpy(p, symbols[i], l);
    p += l;
  }
  if (index_padded > index_size) index[index_size] = '\n';
  char hdr[128], member[32];
  tdm_status st = tdm_write_all(fp, "!<arch>\n", 8, path);
  member_header(hdr, "/", index_size);
  if (!st) st = tdm_write_all(fp, hdr, 60, path);
  if (!st) st = tdm_write_all(fp, index, index_padded, path);
  snprintf(member, sizeof member, "%s/", member_name);
  member_header(hdr, member, obj_size);
  if (!st) st = tdm_write_all(fp, hdr, 60, path);
  if (!st) st = tdm_write_all(fp, obj, obj_size, path);
  if (!st && (obj_size & 1)) st = tdm_write_all(fp, "\n", 1, path);
  free(index);
  return st;
}
