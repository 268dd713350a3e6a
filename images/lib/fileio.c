/* fileio.c - capped whole-file reads and atomic writes (see fileio.h). */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_exactly(int fd, char *buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = read(fd, buf + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    if (n == 0)
      return -EIO; /* shrank while we read it */
    done += (size_t)n;
  }
  return 0;
}

int img_read_fd(int fd, const char *shown, size_t cap, char **buf, size_t *len,
                struct img_err *err) {
  struct stat st;
  *buf = NULL;
  *len = 0;
  if (fstat(fd, &st) < 0)
    return img_fail(err, -errno, "%s: %s", shown, strerror(errno));
  if (!S_ISREG(st.st_mode))
    return img_fail(err, -EINVAL, "%s: not a regular file", shown);
  if ((uint64_t)st.st_size > cap)
    return img_fail(err, -EFBIG, "%s: %" PRIu64 " bytes, more than the %zu allowed", shown,
                    (uint64_t)st.st_size, cap);
  char *b = malloc((size_t)st.st_size + 1);
  if (!b)
    return img_fail(err, -ENOMEM, "%s: out of memory", shown);
  int rc = read_exactly(fd, b, (size_t)st.st_size);
  if (rc) {
    free(b);
    return img_fail(err, rc, "%s: cannot read: %s", shown, strerror(-rc));
  }
  b[st.st_size] = '\0';
  *buf = b;
  *len = (size_t)st.st_size;
  return 0;
}

int img_read_file(int dirfd, const char *name, const char *shown, size_t cap, char **buf,
                  size_t *len, struct img_err *err) {
  *buf = NULL;
  *len = 0;
  /* O_NONBLOCK: a FIFO put there would have open() wait for a writer for
   * ever; img_read_fd refuses anything but a regular file. */
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return img_fail(err, -errno, "%s: %s", shown, strerror(errno));
  int rc = img_read_fd(fd, shown, cap, buf, len, err);
  close(fd);
  return rc;
}

int img_path_join(char *out, size_t cap, const char *dir, const char *name) {
  int n = snprintf(out, cap, "%s/%s", dir, name);
  return n >= 0 && (size_t)n < cap ? 0 : -ENAMETOOLONG;
}

int img_write_all(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? -errno : -EIO;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* A temporary name beside `name` that no other writer picks. */
static int temp_name(const char *name, char *out, size_t cap) {
  uint64_t r;
  if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
    return -EAGAIN;
  int n = snprintf(out, cap, ".%s.tmp-%016" PRIx64, name, r);
  return n > 0 && (size_t)n < cap ? 0 : -ENAMETOOLONG;
}

static int write_temp(int dirfd, const char *tmp, const void *data, size_t len, mode_t mode) {
  int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode & 0600);
  if (fd < 0)
    return -errno;
  int rc = img_write_all(fd, data, len);
  if (!rc && fchmod(fd, mode) < 0)
    rc = -errno;
  if (!rc && fsync(fd) < 0)
    rc = -errno;
  if (close(fd) < 0 && !rc)
    rc = -errno;
  return rc;
}

int img_write_file(int dirfd, const char *name, const char *shown, const void *data, size_t len,
                   mode_t mode, bool no_replace, struct img_err *err) {
  char tmp[512];
  int rc = temp_name(name, tmp, sizeof tmp);
  if (rc)
    return img_fail(err, rc, "%s: cannot name a temporary file: %s", shown, strerror(-rc));
  rc = write_temp(dirfd, tmp, data, len, mode);
  if (!rc && renameat2(dirfd, tmp, dirfd, name, no_replace ? RENAME_NOREPLACE : 0) < 0)
    rc = -errno;
  if (rc) {
    unlinkat(dirfd, tmp, 0);
    return img_fail(err, rc, "%s: %s", shown,
                    rc == -EEXIST ? "already exists (not replaced)" : strerror(-rc));
  }
  /* The rename itself lasts once the directory is on disk. */
  if (fsync(dirfd) < 0 && errno != EBADF && errno != EINVAL)
    return img_fail(err, -errno, "%s: cannot sync its directory: %s", shown, strerror(errno));
  return 0;
}
