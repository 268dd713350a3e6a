/* memfile.c - guest memory written sparse to a snapshot's memory file and
 * mapped back from it (see memfile.h). */
#include "snapshot/memfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem/layout.h"
#include "snapshot/snapfile.h"

static int pwrite_all(int fd, const uint8_t *p, uint64_t n, uint64_t off) {
  while (n) {
    ssize_t k = pwrite(fd, p, n, (off_t)off);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return k < 0 ? -errno : -EIO;
    p += k;
    off += (uint64_t)k;
    n -= (uint64_t)k;
  }
  return 0;
}

/* The non-zero pages of [lo, hi), in runs, each at its own offset; zero
 * pages are stepped over and stay holes. */
static int write_range(const struct gmem *m, int fd, uint64_t lo, uint64_t hi) {
  uint64_t run = lo;
  bool in_run = false;
  for (uint64_t pa = lo; pa <= hi; pa += GUEST_PAGE_SIZE) {
    bool zero = pa == hi || gmem_page_is_zero(m, pa);
    if (!zero && !in_run)
      run = pa;
    if (zero && in_run) {
      int rc = pwrite_all(fd, gmem_pa_host(m, run), pa - run, run);
      if (rc < 0)
        return rc;
    }
    in_run = !zero;
  }
  return 0;
}

/* Data pages lie below next_free; page tables (4K mode) and blocks (2M
 * mode) from the lower of the two floors up to the end. Between, nothing
 * was ever handed out, so nothing there can be other than zero. */
static int write_memory(const struct gmem *m, int fd) {
  uint64_t top = m->table_floor < m->block_floor ? m->table_floor : m->block_floor;
  int rc = write_range(m, fd, 0, m->next_free);
  if (rc == 0)
    rc = write_range(m, fd, top, m->size);
  if (rc == 0 && ftruncate(fd, (off_t)m->size) < 0)
    rc = -errno;
  if (rc == 0 && fsync(fd) < 0)
    rc = -errno;
  return rc;
}

int memfile_write(const struct gmem *m, int dirfd) {
  char tmp[64];
  snprintf(tmp, sizeof tmp, ".%s.%d.tmp", SNAP_MEMORY_FILE, (int)getpid());
  int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return -errno;
  int rc = write_memory(m, fd);
  if (close(fd) < 0 && rc == 0)
    rc = -errno;
  if (rc == 0 && renameat(dirfd, tmp, dirfd, SNAP_MEMORY_FILE) < 0)
    rc = -errno;
  if (rc < 0) {
    unlinkat(dirfd, tmp, 0);
    return rc;
  }
  return fsync(dirfd) < 0 ? -errno : 0;
}

int memfile_map(struct gmem *m, int dirfd, uint64_t size, enum gmem_pages pages) {
  int fd = openat(dirfd, SNAP_MEMORY_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return -errno;
  struct stat st;
  int rc = fstat(fd, &st) < 0 ? -errno : 0;
  if (rc == 0 && (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size))
    rc = -EBADMSG;
  if (rc == 0)
    rc = gmem_init_from_file(m, fd, size, pages);
  close(fd);
  return rc;
}
