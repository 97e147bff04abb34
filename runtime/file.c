/* open/read/write loops that retry on EINTR and short transfers. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt_file.h"
#include "rt_status.h"

tandem_status rt_file_open_read(const char *path, int *out_fd, uint64_t *out_size) {
  *out_fd = -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return rt_status_errno(errno, "%s: cannot open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return rt_status_errno(err, "%s: cannot stat", path);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "%s: not a regular file", path);
  }
  *out_fd = fd;
  *out_size = (uint64_t)st.st_size;
  return NULL;
}

tandem_status rt_file_read_at(int fd, const char *path, void *buf, size_t size,
                              uint64_t offset) {
  char *p = buf;
  while (size > 0) {
    ssize_t n = pread(fd, p, size, (off_t)offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return rt_status_errno(errno, "%s: read failed", path);
    if (n == 0)
      return rt_status_make(TANDEM_DATA_LOSS, "%s: truncated: the file shrank while being read",
                            path);
    p += n;
    size -= (size_t)n;
    offset += (uint64_t)n;
  }
  return NULL;
}

tandem_status rt_file_write_all(int fd, const char *path, const void *buf, size_t size) {
  const char *p = buf;
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return rt_status_errno(errno, "%s: write failed", path);
    p += n;
    size -= (size_t)n;
  }
  return NULL;
}
