/* The weights blob: every weight the lowered code reads, at the offsets
 * lower-graph assigned, and the model.weights file around it (format in
 * include/tandem/runtime.h). */
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"

tdm_status cg_weights_build(const tdm_session *s, cg_weights *out) {
  memset(out, 0, sizeof *out);
  out->size = s->blob_size;
  if (out->size) {
    /* 64-byte aligned, as the weights data section is wherever the runtime maps it,
     * so that code loaded in process (tools/lp_auto.c) can read the blob in place. */
    void *p = NULL;
    if (posix_memalign(&p, TDM_WEIGHT_ALIGN, (size_t)out->size) != 0) p = NULL;
    if (p) memset(p, 0, (size_t)out->size);
    out->data = p;
    if (!out->data) return TDM_INTERNAL("out of memory for a %llu-byte weights blob",
                                        (unsigned long long)out->size);
  }
  for (int i = 0; i < s->nslots; i++) {
    const tdm_weight_slot *w = &s->slots[i];
    memcpy(out->data + w->blob_offset, s->files[w->file].map.data + w->offset, w->size);
  }
  out->hash = tandem_weights_hash(out->data, out->size);
  return NULL;
}

void cg_weights_free(cg_weights *w) {
  free(w->data);
  memset(w, 0, sizeof *w);
}

static void put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

tdm_status cg_weights_write(const cg_weights *w, FILE *fp, const char *path) {
  uint8_t header[TANDEM_WEIGHTS_DATA_OFFSET] = {0};
  memcpy(header, TANDEM_WEIGHTS_MAGIC, 8);
  put_u32(header + 8, TANDEM_WEIGHTS_VERSION);
  put_u32(header + 12, TANDEM_WEIGHTS_DATA_OFFSET);
  put_u64(header + 16, w->size);
  put_u64(header + 24, w->hash);
  TDM_TRY(tdm_write_all(fp, header, sizeof header, path));
  return tdm_write_all(fp, w->data, w->size, path);
}
