/* The allocator behind every runtime allocation: the caller's, or malloc's. */
#ifndef TANDEM_RT_ALLOC_H
#define TANDEM_RT_ALLOC_H

#include <stddef.h>

#include "tandem/runtime.h"

/* Everything the runtime hands out is aligned to this (a cache line, and enough for
 * any vector load the compiler emits). */
#define RT_ALIGNMENT 64u

/* `allocator` itself, or the posix_memalign/free allocator when it is NULL. */
tandem_allocator rt_allocator_or_default(const tandem_allocator *allocator);
/* RT_ALIGNMENT-aligned memory of at least `size` bytes (never NULL for size 0), or
 * NULL. The size passed to the allocator is rounded up to a multiple of the
 * alignment so that aligned_alloc-style allocators work unchanged. */
void *rt_alloc(const tandem_allocator *allocator, size_t size);
void rt_free(const tandem_allocator *allocator, void *ptr);

#endif
