/* Files in and out.
 *
 * Inputs are mapped read-only (weights are never copied until the blob is written).
 * Outputs are staged: each is written under a temporary name in its final directory
 * and renamed only when the whole compile has succeeded, so a failed or interrupted
 * compile leaves nothing behind (SIGINT/SIGTERM/SIGHUP remove staged files too). */
#ifndef TANDEM_SUPPORT_FILEIO_H
#define TANDEM_SUPPORT_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "support/status.h"

typedef struct tdm_mapped_file {
  const uint8_t *data; /* NULL for an empty file */
  size_t size;
} tdm_mapped_file;

tdm_status tdm_file_map(const char *path, tdm_mapped_file *out);
void tdm_file_unmap(tdm_mapped_file *f);
/* Reads a whole file into a NUL-terminated heap buffer (caller frees). */
tdm_status tdm_file_read(const char *path, char **out_data, size_t *out_size);
/* 1 if both paths name the same existing file. */
int tdm_file_same(const char *a, const char *b);

/* A set of staged outputs, committed or discarded together. */
typedef struct tdm_staged tdm_staged;
typedef struct tdm_outputs tdm_outputs;

tdm_outputs *tdm_outputs_create(void);
/* Creates a temporary file for `final_path`; writes go through *out_fp. From the
 * first one on, SIGINT/SIGTERM/SIGHUP (unless ignored) remove every staged file. The path of
 * the temporary file is returned in *out_temp_path (owned by the set) for tools
 * that write files themselves (the linker). */
tdm_status tdm_outputs_stage(tdm_outputs *set, const char *final_path, int executable,
                             FILE **out_fp, const char **out_temp_path);
/* Closes and renames every staged file into place. On failure, removes the rest.
 * SIGINT/SIGTERM/SIGHUP stay blocked after a successful commit (the compile has
 * finished: a late signal must not make it exit non-zero with its outputs written). */
tdm_status tdm_outputs_commit(tdm_outputs *set);
/* Removes every staged file and frees the set (also after commit). */
void tdm_outputs_destroy(tdm_outputs *set);

/* Writes `n` bytes or reports which file failed. */
tdm_status tdm_write_all(FILE *fp, const void *data, size_t n, const char *path);

#endif
