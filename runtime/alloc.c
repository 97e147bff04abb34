/* Default allocator and the aligned allocation every owned buffer goes through. */
#include <stdint.h>
#include <stdlib.h>

#include "rt_alloc.h"

static void *rt_default_alloc(void *self, size_t size, size_t alignment) {
  void *ptr = NULL;
  if (alignment < sizeof(void *)) alignment = sizeof(void *);
  return posix_memalign(&ptr, alignment, size) == 0 ? ptr : NULL;
}

static void rt_default_free(void *self, void *ptr) { free(ptr); }

tandem_allocator rt_allocator_or_default(const tandem_allocator *allocator) {
  if (allocator) return *allocator;
  return (tandem_allocator){NULL, rt_default_alloc, rt_default_free};
}

void *rt_alloc(const tandem_allocator *allocator, size_t size) {
  if (size > SIZE_MAX - RT_ALIGNMENT) return NULL;
  size_t rounded = size == 0 ? RT_ALIGNMENT : (size + RT_ALIGNMENT - 1) & ~(size_t)(RT_ALIGNMENT - 1);
  if (!allocator) return rt_default_alloc(NULL, rounded, RT_ALIGNMENT);
  return allocator->alloc(allocator->self, rounded, RT_ALIGNMENT);
}

void rt_free(const tandem_allocator *allocator, void *ptr) {
  if (!ptr) return;
  if (!allocator) {
    free(ptr);
    return;
  }
  allocator->free(allocator->self, ptr);
}
