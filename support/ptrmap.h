/* A map from pointers to ints (open addressing). Used to name MLIR values. */
#ifndef TANDEM_SUPPORT_PTRMAP_H
#define TANDEM_SUPPORT_PTRMAP_H

#include <stddef.h>

typedef struct ptrmap {
  const void **keys;
  int *vals;
  size_t cap, len;
} ptrmap;

void ptrmap_init(ptrmap *m);
void ptrmap_free(ptrmap *m);
/* 0 on allocation failure. */
int ptrmap_put(ptrmap *m, const void *key, int val);
/* The value for key, or -1. */
int ptrmap_get(const ptrmap *m, const void *key);

#endif
