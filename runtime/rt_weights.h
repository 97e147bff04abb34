/* The weights data section of an open model: a read-only mapping of the weights
 * file, the object's embedded copy, or nothing for a model without weights. */
#ifndef TANDEM_RT_WEIGHTS_H
#define TANDEM_RT_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "tandem/runtime.h"

typedef struct rt_weights {
  const void *data; /* the data section, 64-byte aligned; never NULL once open */
  void *mapping;    /* the whole mmapped file, or NULL when nothing is mapped */
  size_t mapping_size;
} rt_weights;

/* Finds and checks `desc`'s weights. `path` is used only when the model has a weights
 * section and no embedded copy. On failure *out is empty (safe to close). */
tandem_status rt_weights_open(const tandem_model_desc *desc, const char *path, uint32_t flags,
                              rt_weights *out);
void rt_weights_close(rt_weights *weights);

#endif
