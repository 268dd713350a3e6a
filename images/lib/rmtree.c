/* rmtree.c - rm -rf of our own trees, through directory descriptors (see
 * rmtree.h). */
#include "rmtree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 256 /* deeper than any manifest path (MANIFEST_MAX_DEPTH) */

static int remove_at(int dirfd, const char *name, int depth);

static int is_dir(int dirfd, const struct dirent *d) {
  if (d->d_type != DT_UNKNOWN)
    return d->d_type == DT_DIR;
  struct stat st;
  return fstatat(dirfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

static int empty_dir(int fd, int depth) {
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return -errno;
  }
  int rc = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    int r = is_dir(dirfd(d), e) ? remove_at(dirfd(d), e->d_name, depth + 1)
                                : (unlinkat(dirfd(d), e->d_name, 0) < 0 ? -errno : 0);
    if (r && !rc)
      rc = r;
  }
  closedir(d);
  return rc;
}

static int remove_at(int dirfd, const char *name, int depth) {
  if (depth > MAX_DEPTH)
    return -ELOOP;
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return 0;
    if (errno != ENOTDIR && errno != ELOOP)
      return -errno;
    return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
  }
  fchmod(fd, 0700); /* a read-only directory cannot be emptied */
  int rc = empty_dir(fd, depth);
  if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && !rc)
    rc = -errno;
  return rc;
}

int img_rmtree(int dirfd, const char *name) { return remove_at(dirfd, name, 0); }
