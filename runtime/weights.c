/* Opening a weights file: map it read-only and prove it belongs to the model.
 *
 * The checks run cheapest first and each names what is wrong: magic and version
 * (is this a tandem weights file at all), data_offset and size (is it complete),
 * then size and header hash against the model object (is it this model's). The
 * content itself is hashed only with TANDEM_OPEN_VERIFY_WEIGHTS, because that reads
 * every page of a file that may be gigabytes, where the header check costs nothing. */
#include <errno.h>
#include <inttypes.h>
#include <stdalign.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rt_bytes.h"
#include "rt_file.h"
#include "rt_status.h"
#include "rt_weights.h"

/* Handed to the entry of a model without weights, so that `weights` is never NULL. */
static alignas(64) const unsigned char rt_no_weights[64];

typedef struct rt_weights_header {
  uint32_t version;
  uint32_t data_offset;
  uint64_t data_size;
  uint64_t data_hash;
} rt_weights_header;

static const char *rt_model_name(const tandem_model_desc *desc) {
  return desc->name ? desc->name : "?";
}

/* Reads the fixed fields; checks what the file alone can tell: magic, version,
 * data_offset, and that the data section is all there. */
static tandem_status rt_weights_read_header(int fd, const char *path, uint64_t file_size,
                                            rt_weights_header *out) {
  unsigned char raw[32] = {0};
  size_t magic_len = sizeof TANDEM_WEIGHTS_MAGIC - 1;
  if (file_size >= magic_len)
    RT_TRY(rt_file_read_at(fd, path, raw, file_size < sizeof raw ? (size_t)file_size : sizeof raw, 0));
  if (file_size < magic_len || memcmp(raw, TANDEM_WEIGHTS_MAGIC, magic_len) != 0)
    return rt_status_make(TANDEM_INVALID_ARGUMENT,
                          "%s: not a tandem weights file (no \"%s\" magic)", path,
                          TANDEM_WEIGHTS_MAGIC);
  if (file_size < TANDEM_WEIGHTS_DATA_OFFSET)
    return rt_status_make(TANDEM_DATA_LOSS,
                          "%s: truncated: file has %" PRIu64 " bytes, less than the %u-byte header",
                          path, file_size, TANDEM_WEIGHTS_DATA_OFFSET);
  out->version = rt_load_u32le(raw + 8);
  out->data_offset = rt_load_u32le(raw + 12);
  out->data_size = rt_load_u64le(raw + 16);
  out->data_hash = rt_load_u64le(raw + 24);
  if (out->version != TANDEM_WEIGHTS_VERSION)
    return rt_status_make(TANDEM_FAILED_PRECONDITION,
                          "%s: weights file version %" PRIu32 ", this runtime reads version %u",
                          path, out->version, TANDEM_WEIGHTS_VERSION);
  if (out->data_offset != TANDEM_WEIGHTS_DATA_OFFSET)
    return rt_status_make(TANDEM_DATA_LOSS, "%s: corrupt header: data_offset %" PRIu32
                          ", expected %u", path, out->data_offset, TANDEM_WEIGHTS_DATA_OFFSET);
  uint64_t have = file_size - out->data_offset;
  if (out->data_size > have)
    return rt_status_make(TANDEM_DATA_LOSS,
                          "%s: truncated: header says %" PRIu64 " bytes of data, file has %" PRIu64,
                          path, out->data_size, have);
  return NULL;
}

/* The header against the model object: same size and same hash, or it is some other
 * model's weights (typically a stale file after a recompile). */
static tandem_status rt_weights_check_owner(const tandem_model_desc *desc, const char *path,
                                            const rt_weights_header *header) {
  if (header->data_size != desc->weights_size)
    return rt_status_make(TANDEM_FAILED_PRECONDITION,
                          "%s: weights belong to another model (%" PRIu64
                          " bytes of data, model '%s' expects %" PRIu64 ")",
                          path, header->data_size, rt_model_name(desc), desc->weights_size);
  if (header->data_hash != desc->weights_hash)
    return rt_status_make(TANDEM_FAILED_PRECONDITION,
                          "%s: weights belong to another model (hash 0x%016" PRIx64
                          ", model expects 0x%016" PRIx64 ")",
                          path, header->data_hash, desc->weights_hash);
  return NULL;
}

static tandem_status rt_weights_verify_file(const char *path, const void *data,
                                            uint64_t size, uint64_t header_hash) {
  uint64_t actual = tandem_weights_hash(data, (size_t)size);
  if (actual == header_hash) return NULL;
  return rt_status_make(TANDEM_DATA_LOSS,
                        "%s: weights are corrupt: content hash 0x%016" PRIx64
                        ", header says 0x%016" PRIx64, path, actual, header_hash);
}

static tandem_status rt_weights_verify_embedded(const tandem_model_desc *desc) {
  uint64_t actual = tandem_weights_hash(desc->embedded_weights, (size_t)desc->weights_size);
  if (actual == desc->weights_hash) return NULL;
  return rt_status_make(TANDEM_DATA_LOSS,
                        "model '%s': embedded weights are corrupt: content hash 0x%016" PRIx64
                        ", model expects 0x%016" PRIx64, rt_model_name(desc), actual,
                        desc->weights_hash);
}

static tandem_status rt_weights_map(int fd, const char *path, uint64_t file_size,
                                    rt_weights *out) {
  if (file_size > SIZE_MAX)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "%s: too large to map", path);
  void *mapping = mmap(NULL, (size_t)file_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (mapping == MAP_FAILED) return rt_status_errno(errno, "%s: cannot mmap", path);
  out->mapping = mapping;
  out->mapping_size = (size_t)file_size;
  out->data = (const char *)mapping + TANDEM_WEIGHTS_DATA_OFFSET;
  return NULL;
}

static tandem_status rt_weights_open_file(const tandem_model_desc *desc, const char *path,
                                          uint32_t flags, rt_weights *out) {
  int fd;
  uint64_t file_size;
  rt_weights_header header = {0};
  RT_TRY(rt_file_open_read(path, &fd, &file_size));
  tandem_status status = rt_weights_read_header(fd, path, file_size, &header);
  if (!status) status = rt_weights_check_owner(desc, path, &header);
  if (!status) status = rt_weights_map(fd, path, file_size, out);
  close(fd); /* the mapping stays valid without the descriptor */
  if (!status && (flags & TANDEM_OPEN_VERIFY_WEIGHTS))
    status = rt_weights_verify_file(path, out->data, header.data_size, header.data_hash);
  if (status) rt_weights_close(out);
  return status;
}

static tandem_status rt_weights_use_embedded(const tandem_model_desc *desc, uint32_t flags,
                                             rt_weights *out) {
  if ((uintptr_t)desc->embedded_weights % 64 != 0)
    return rt_status_make(TANDEM_INVALID_ARGUMENT,
                          "model '%s': embedded weights are not 64-byte aligned",
                          rt_model_name(desc));
  if (flags & TANDEM_OPEN_VERIFY_WEIGHTS) RT_TRY(rt_weights_verify_embedded(desc));
  out->data = desc->embedded_weights;
  return NULL;
}

tandem_status rt_weights_open(const tandem_model_desc *desc, const char *path, uint32_t flags,
                              rt_weights *out) {
  memset(out, 0, sizeof *out);
  if (desc->embedded_weights) return rt_weights_use_embedded(desc, flags, out);
  if (desc->weights_size == 0) {
    out->data = rt_no_weights; /* nothing to load, so no file is needed */
    return NULL;
  }
  if (!path)
    return rt_status_make(TANDEM_INVALID_ARGUMENT,
                          "model '%s' needs a weights file, but no weights path was given",
                          rt_model_name(desc));
  return rt_weights_open_file(desc, path, flags, out);
}

void rt_weights_close(rt_weights *weights) {
  if (weights->mapping) munmap(weights->mapping, weights->mapping_size);
  memset(weights, 0, sizeof *weights);
}
