#include "support/ptrmap.h"

#include <stdint.h>
#include <stdlib.h>

void ptrmap_init(ptrmap *m) {
  m->keys = NULL;
  m->vals = NULL;
  m->cap = m->len = 0;
}

void ptrmap_free(ptrmap *m) {
  free(m->keys);
  free(m->vals);
  ptrmap_init(m);
}

static size_t slot(const ptrmap *m, const void *key) {
  uint64_t h = (uint64_t)(uintptr_t)key * 0x9E3779B97F4A7C15ull;
  size_t i = (size_t)(h >> 20) & (m->cap - 1);
  while (m->keys[i] && m->keys[i] != key) i = (i + 1) & (m->cap - 1);
  return i;
}

static int grow(ptrmap *m) {
  ptrmap bigger;
  bigger.cap = m->cap ? m->cap * 2 : 256;
  bigger.len = 0;
  bigger.keys = calloc(bigger.cap, sizeof *bigger.keys);
  bigger.vals = calloc(bigger.cap, sizeof *bigger.vals);
  if (!bigger.keys || !bigger.vals) {
    free(bigger.keys);
    free(bigger.vals);
    return 0;
  }
  for (size_t i = 0; i < m->cap; i++)
    if (m->keys[i]) {
      size_t j = slot(&bigger, m->keys[i]);
      bigger.keys[j] = m->keys[i];
      bigger.vals[j] = m->vals[i];
      bigger.len++;
    }
  free(m->keys);
  free(m->vals);
  *m = bigger;
  return 1;
}

int ptrmap_put(ptrmap *m, const void *key, int val) {
  if ((m->len + 1) * 2 > m->cap && !grow(m)) return 0;
  size_t i = slot(m, key);
  if (!m->keys[i]) m->len++;
  m->keys[i] = key;
  m->vals[i] = val;
  return 1;
}

int ptrmap_get(const ptrmap *m, const void *key) {
  if (!m->cap) return -1;
  size_t i = slot(m, key);
  return m->keys[i] ? m->vals[i] : -1;
}
