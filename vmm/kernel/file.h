/* file.h - an open file description of the guest, and the ops table every
 * kind of file implements (host-backed image files, the VMM's stdio, /tmp
 * files, /dev nodes, pipes, directories).
 *
 * Data moves through host iovecs: a system call translates the guest buffer
 * with uaccess_iov() and hands the pieces to the file, so host-backed files
 * read straight into guest memory. An op a kind does not support is NULL and
 * the caller answers what Linux answers for such a file (EINVAL, ESPIPE,
 * ENOTDIR...). All ops return a count or a negative errno. read and write
 * may answer -EAGAIN rather than block: the system call layer then waits
 * (on host_fd() when the file has one, else until the VM is stopped) unless
 * the description is O_NONBLOCK, so blocking never spins and a --timeout
 * always ends it. */
#ifndef HEARTH_VMM_FILE_H
#define HEARTH_VMM_FILE_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

struct file;
struct vm;
struct vnode;

struct file_ops {
  ssize_t (*read)(struct file *f, const struct iovec *iov, int iovcnt);
  ssize_t (*write)(struct file *f, const struct iovec *iov, int iovcnt);
  ssize_t (*pread)(struct file *f, const struct iovec *iov, int iovcnt, off_t off);
  ssize_t (*pwrite)(struct file *f, const struct iovec *iov, int iovcnt, off_t off);
  off_t (*lseek)(struct file *f, off_t off, int whence);
  int (*fstat)(struct file *f, struct stat *st);
  /* Fills buf with struct linux_dirent64 records from the file position;
   * returns bytes written, 0 at the end, -EINVAL when buf is too small for
   * the next record. */
  ssize_t (*getdents)(struct file *f, void *buf, size_t len);
  /* Readiness now, as poll(2) revents for `events`. NULL: always ready. */
  short (*poll)(struct file *f, short events);
  /* A host fd whose readiness and data are this file's (stdio), or -1. */
  int (*host_fd)(struct file *f);
  /* The host fds whose readiness can change this file's for `events`
   * (vsock sockets: their Unix sockets, a listener's pending connections),
   * at most `max` of them into out; returns how many. NULL: host_fd's. Lets
   * every blocking call sleep in the host instead of spinning. */
  int (*host_watch)(struct file *f, short events, struct pollfd *out, int max);
  long (*ioctl)(struct vm *vm, struct file *f, unsigned long cmd, uint64_t arg);
  int (*truncate)(struct file *f, off_t len);
  /* The canonical guest path (for /proc/self/fd and readlink); may be NULL. */
  const char *(*path)(struct file *f);
  /* The namespace position (vmm/fs) this description was opened at,
   * borrowed; NULL for files with none (pipes, stdio, sockets). Used for
   * *at() directory descriptors, fchdir and /proc/self/fd. */
  struct vnode *(*vnode)(struct file *f);
  void (*release)(struct file *f);
};

/* Something that names a description without holding a reference on it
 * (an epoll item: Linux's items let go as the description goes) and must
 * hear when it goes: told once, as the last reference drops, before the
 * release, already unlinked. */
struct file_observer {
  struct file_observer *next, *prev;
  void (*gone)(struct file_observer *o, struct file *f);
};

struct file {
  int refs;
  const struct file_ops *ops;
  int flags; /* O_ACCMODE | O_APPEND | O_NONBLOCK ... as given to open */
  off_t pos;
  void *priv;
  struct file_observer *observers; /* a list, most recent first */
};

/* At most this many host fds per file in one wait. */
#define FILE_WATCH_MAX 32

/* The host fds to sleep on until f may be ready for events (host_watch,
 * else host_fd): how many were written to out (at most max). */
int file_host_watch(struct file *f, short events, struct pollfd *out, int max);

/* A new description with one reference, or NULL on allocation failure. */
struct file *file_new(const struct file_ops *ops, int flags, void *priv);
struct file *file_ref(struct file *f);
/* Drops a reference; the last one tells every observer, then calls
 * ops->release. */
void file_unref(struct file *f);

/* Links o (its gone set) to f's observers, or unlinks it: O(1) each. */
void file_observe(struct file *f, struct file_observer *o);
void file_unobserve(struct file *f, struct file_observer *o);

static inline bool file_readable(const struct file *f) {
  int acc = f->flags & 3;
  return acc == 0 /* O_RDONLY */ || acc == 2 /* O_RDWR */;
}
static inline bool file_writable(const struct file *f) {
  int acc = f->flags & 3;
  return acc == 1 /* O_WRONLY */ || acc == 2 /* O_RDWR */;
}

#endif
