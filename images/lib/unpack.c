/* unpack.c - checked tar entries into a private directory (see unpack.h). */
#include "unpack.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fileio.h"

void unpack_init(struct unpack *u, int rootfd, const struct manifest *m) {
  *u = (struct unpack){
      .rootfd = rootfd, .parentfd = rootfd, .parent = MANIFEST_NONE, .filefd = -1, .m = m};
}

/* `path` below rootfd, never through a symlink or out of the tree. */
static int open_beneath(int rootfd, const char *path, int flags) {
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
                         .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                                    RESOLVE_NO_XDEV};
  long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
  return fd < 0 ? -errno : (int)fd;
}

static int failed(const struct manifest_entry *e, const char *what, int rc, struct img_err *err) {
  return img_fail(err, rc, "cannot unpack %s: %s: %s", e->path, what, strerror(-rc));
}

/* parentfd for entry e: reused while entries share a parent (they come
 * sorted, so most do). */
static int enter_parent(struct unpack *u, const struct manifest_entry *e, struct img_err *err) {
  if (e->parent == u->parent)
    return 0;
  if (u->parentfd != u->rootfd)
    close(u->parentfd);
  u->parentfd = u->rootfd;
  u->parent = MANIFEST_NONE;
  if (e->parent == MANIFEST_NONE)
    return 0;
  int fd = open_beneath(u->rootfd, u->m->entries[e->parent].path, O_PATH | O_DIRECTORY);
  if (fd < 0)
    return failed(e, "cannot open its directory", fd, err);
  u->parentfd = fd;
  u->parent = e->parent;
  return 0;
}

static const char *base_name(const struct manifest_entry *e) {
  const char *slash = strrchr(e->path, '/');
  return slash ? slash + 1 : e->path;
}

static void times_of(const struct manifest_entry *e, struct timespec t[2]) {
  t[0] = t[1] = (struct timespec){.tv_sec = e->mtime};
}

static int begin(void *ctx, const struct manifest_entry *e, struct img_err *err) {
  struct unpack *u = ctx;
  int rc = enter_parent(u, e, err);
  if (rc)
    return rc;
  u->cur = e;
  const char *name = base_name(e);
  struct timespec t[2];
  times_of(e, t);
  switch (e->type) {
  case MANIFEST_DIR:
    return mkdirat(u->parentfd, name, 0700) < 0 ? failed(e, "mkdir", -errno, err) : 0;
  case MANIFEST_SYMLINK:
    if (symlinkat(e->target, u->parentfd, name) < 0)
      return failed(e, "symlink", -errno, err);
    if (utimensat(u->parentfd, name, t, AT_SYMLINK_NOFOLLOW) < 0)
      return failed(e, "set its mtime", -errno, err);
    return 0;
  case MANIFEST_FILE:
    u->filefd =
        openat(u->parentfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    return u->filefd < 0 ? failed(e, "create", -errno, err) : 0;
  }
  return failed(e, "type", -EINVAL, err);
}

static int data(void *ctx, const void *buf, size_t len, struct img_err *err) {
  struct unpack *u = ctx;
  int rc = img_write_all(u->filefd, buf, len);
  return rc ? failed(u->cur, "write", rc, err) : 0;
}

/* A file is complete: its read-only mode and its mtime, then closed. */
static int end(void *ctx, const struct manifest_entry *e, struct img_err *err) {
  struct unpack *u = ctx;
  if (e->type != MANIFEST_FILE)
    return 0;
  struct timespec t[2];
  times_of(e, t);
  int rc = 0;
  if (fchmod(u->filefd, UNPACK_MODE(e->mode)) < 0)
    rc = failed(e, "chmod", -errno, err);
  else if (futimens(u->filefd, t) < 0)
    rc = failed(e, "set its mtime", -errno, err);
  if (close(u->filefd) < 0 && !rc)
    rc = failed(e, "close", -errno, err);
  u->filefd = -1;
  return rc;
}

struct tar_sink unpack_sink(struct unpack *u) {
  return (struct tar_sink){.begin = begin, .data = data, .end = end, .ctx = u};
}

static int finish_dir(struct unpack *u, const struct manifest_entry *e, struct img_err *err) {
  struct timespec t[2];
  times_of(e, t);
  int fd = open_beneath(u->rootfd, e->path, O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    return failed(e, "open", fd, err);
  int rc = 0;
  if (fchmod(fd, UNPACK_MODE(e->mode)) < 0)
    rc = failed(e, "chmod", -errno, err);
  else if (futimens(fd, t) < 0)
    rc = failed(e, "set its mtime", -errno, err);
  close(fd);
  return rc;
}

int unpack_finish(struct unpack *u, struct img_err *err) {
  unpack_fini(u);
  for (size_t i = 0; i < u->m->n; i++) {
    const struct manifest_entry *e = &u->m->entries[i];
    int rc = e->type == MANIFEST_DIR ? finish_dir(u, e, err) : 0;
    if (rc)
      return rc;
  }
  if (fchmod(u->rootfd, 0555) < 0)
    return img_fail(err, -errno, "cannot unpack: chmod of the root: %s", strerror(errno));
  return 0;
}

void unpack_fini(struct unpack *u) {
  if (u->filefd >= 0)
    close(u->filefd);
  if (u->parentfd != u->rootfd && u->parentfd >= 0)
    close(u->parentfd);
  u->filefd = -1;
  u->parentfd = u->rootfd;
  u->parent = MANIFEST_NONE;
}
