/* Internal .npy entry points for the driver: reads that name the tensor's role in
 * mismatch messages, and writes in two phases so that several output files appear
 * together or not at all. */
#ifndef TANDEM_RT_NPY_H
#define TANDEM_RT_NPY_H

#include "tandem/runtime.h"

/* tandem_npy_read_expect, with "PATH: ROLE 'NAME' expects f32[1,16], got f32[1,15]"
 * on a mismatch (role: "input", "tensor", ...). The header is checked before any data
 * is read. */
tandem_status rt_npy_read_expect_as(const char *path, const char *role,
                                    const tandem_tensor_desc *expect,
                                    const tandem_allocator *allocator,
                                    tandem_array *out_array);

/* Writes the complete file under a fresh temporary name next to `path`; on success
 * *out_tmp_path (malloc'd) names it. Then either rt_npy_tmp_commit (renames it to
 * `path`) or rt_npy_tmp_discard (removes it); both take ownership of the name. */
tandem_status rt_npy_write_tmp(const char *path, const tandem_tensor_desc *desc,
                               const void *data, char **out_tmp_path);
tandem_status rt_npy_tmp_commit(char *owned_tmp_path, const char *path);
void rt_npy_tmp_discard(char *owned_tmp_path);

#endif
