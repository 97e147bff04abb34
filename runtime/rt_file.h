/* File helpers shared by the weights and .npy readers and writers. Every error names
 * the path. */
#ifndef TANDEM_RT_FILE_H
#define TANDEM_RT_FILE_H

#include <stdint.h>

#include "tandem/runtime.h"

/* Opens a regular file read-only; *out_fd is -1 on failure. */
tandem_status rt_file_open_read(const char *path, int *out_fd, uint64_t *out_size);
/* Reads exactly `size` bytes at `offset`; a short read is TANDEM_DATA_LOSS (the file
 * shrank after it was measured). */
tandem_status rt_file_read_at(int fd, const char *path, void *buf, size_t size,
                              uint64_t offset);
tandem_status rt_file_write_all(int fd, const char *path, const void *buf, size_t size);

#endif
