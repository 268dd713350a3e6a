/* stdio.c - descriptions over hearth-vmm's own stdin, stdout and stderr
 * (vfs_host_stdio). The host fds are not ours: we never close them or change
 * their flags, so a guest's O_NONBLOCK is honoured by asking poll() first,
 * and ops answer -EAGAIN instead of blocking (the system call layer waits
 * with the fd, see vmm/kernel/file.h). The guest sees a non-terminal: the
 * VMM answers no terminal ioctl. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kernel/file.h"
#include "vfs.h"

struct stdio_open {
  int fd;
  char path[48];
};

static int stdio_fd(struct file *f) { return ((struct stdio_open *)f->priv)->fd; }

/* 0 when the host fd is ready for `events` now, -EAGAIN when not. */
static int ready_now(int fd, short events) {
  struct pollfd p = {.fd = fd, .events = events};
  int n = poll(&p, 1, 0);
  if (n < 0)
    return -errno;
  return n > 0 ? 0 : -EAGAIN;
}

static ssize_t stdio_read(struct file *f, const struct iovec *iov, int iovcnt) {
  int r = ready_now(stdio_fd(f), POLLIN);
  if (r < 0)
    return r;
  ssize_t n = readv(stdio_fd(f), iov, iovcnt);
  return n < 0 ? -errno : n;
}

/* A non-blocking guest write to a host pipe or socket must not wait for
 * the whole of it to fit: RWF_NOWAIT writes what fits now. */
static ssize_t stdio_write_nowait(int fd, const struct iovec *iov, int iovcnt) {
  struct stat st;
  if (fstat(fd, &st) < 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
    return -EOPNOTSUPP;
  ssize_t n = pwritev2(fd, iov, iovcnt, -1, RWF_NOWAIT);
  return n < 0 ? -errno : n;
}

static ssize_t stdio_write(struct file *f, const struct iovec *iov, int iovcnt) {
  int fd = stdio_fd(f);
  if (f->flags & O_NONBLOCK) {
    ssize_t n = stdio_write_nowait(fd, iov, iovcnt);
    if (n != -EOPNOTSUPP && n != -EINVAL)
      return n;
  }
  int r = ready_now(fd, POLLOUT);
  if (r < 0)
    return r;
  ssize_t n = writev(fd, iov, iovcnt);
  return n < 0 ? -errno : n; /* EPIPE: the caller raises SIGPIPE */
}

static ssize_t stdio_pread(struct file *f, const struct iovec *iov, int iovcnt, off_t off) {
  ssize_t n = preadv(stdio_fd(f), iov, iovcnt, off);
  return n < 0 ? -errno : n;
}

static ssize_t stdio_pwrite(struct file *f, const struct iovec *iov, int iovcnt, off_t off) {
  ssize_t n = pwritev(stdio_fd(f), iov, iovcnt, off);
  return n < 0 ? -errno : n;
}

static off_t stdio_lseek(struct file *f, off_t off, int whence) {
  off_t r = lseek(stdio_fd(f), off, whence);
  return r < 0 ? -errno : r;
}

static int stdio_fstat(struct file *f, struct stat *st) {
  return fstat(stdio_fd(f), st) < 0 ? -errno : 0;
}

static short stdio_poll(struct file *f, short events) {
  struct pollfd p = {.fd = stdio_fd(f), .events = events};
  return poll(&p, 1, 0) > 0 ? p.revents : 0;
}

static int stdio_host_fd(struct file *f) { return stdio_fd(f); }

/* What /proc/self/fd shows: Linux's names for pipes and sockets, and
 * nothing that would tell the guest about the host's own files. */
static const char *stdio_path(struct file *f) {
  struct stdio_open *s = f->priv;
  struct stat st;
  if (fstat(s->fd, &st) < 0)
    return NULL;
  unsigned long long ino = (unsigned long long)st.st_ino;
  if (S_ISFIFO(st.st_mode))
    snprintf(s->path, sizeof s->path, "pipe:[%llu]", ino);
  else if (S_ISSOCK(st.st_mode))
    snprintf(s->path, sizeof s->path, "socket:[%llu]", ino);
  else if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
    snprintf(s->path, sizeof s->path, "/dev/null");
  else
    snprintf(s->path, sizeof s->path, "anon_inode:[hearth-stdio]");
  return s->path;
}

static void stdio_release(struct file *f) { free(f->priv); }

static const struct file_ops stdio_ops = {
    .read = stdio_read,
    .write = stdio_write,
    .pread = stdio_pread,
    .pwrite = stdio_pwrite,
    .lseek = stdio_lseek,
    .fstat = stdio_fstat,
    .poll = stdio_poll,
    .host_fd = stdio_host_fd,
    .path = stdio_path,
    .release = stdio_release,
};

struct file *vfs_host_stdio(int host_fd, int flags) {
  struct stdio_open *s = calloc(1, sizeof *s);
  struct file *f = s ? file_new(&stdio_ops, flags, s) : NULL;
  if (!f) {
    free(s);
    return NULL;
  }
  s->fd = host_fd;
  return f;
}

int vfs_host_stdio_fd(const struct file *f) {
  return f->ops == &stdio_ops ? ((const struct stdio_open *)f->priv)->fd : -1;
}
