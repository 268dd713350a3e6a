/* pipe.c - the guest's anonymous pipes: a ring buffer shared by a read
 * description and a write description. EOF once every write description is
 * closed, -EPIPE once every read description is; writes of up to PIPE_BUF
 * bytes are atomic. Ops never block (-EAGAIN): the guest is one thread, so
 * the system call layer decides whether to wait. Buffers are 64 KiB while
 * all of the guest's pipes together stay under VFS_PIPE_BYTES_MAX, 4 KiB
 * beyond (Linux's pipe-user-pages-soft does the same). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernel/file.h"
#include "vfs_impl.h"

#define PIPE_CAPACITY VFS_PIPE_CAP_MAX
#define PIPE_SMALL_CAPACITY 4096

struct pipe {
  struct vfs *vfs;
  unsigned char *buf;
  size_t cap, head, len; /* data is buf[head .. head+len) modulo cap */
  int readers, writers;  /* open descriptions of each end */
  uint64_t ino;
  struct timespec created;
};

struct pipe_end {
  struct pipe *p;
  char path[32];
};

static struct pipe *pipe_of(struct file *f) { return ((struct pipe_end *)f->priv)->p; }

static ssize_t pipe_read(struct file *f, const struct iovec *iov, int iovcnt) {
  struct pipe *p = pipe_of(f);
  if (p->len == 0)
    return p->writers ? -EAGAIN : 0;
  size_t done = 0;
  for (int i = 0; i < iovcnt && p->len > 0; i++) {
    for (size_t k = 0; k < iov[i].iov_len && p->len > 0;) {
      size_t run = p->cap - p->head < p->len ? p->cap - p->head : p->len;
      size_t n = run < iov[i].iov_len - k ? run : iov[i].iov_len - k;
      memcpy((char *)iov[i].iov_base + k, p->buf + p->head, n);
      p->head = (p->head + n) % p->cap;
      p->len -= n;
      k += n;
      done += n;
    }
  }
  return (ssize_t)done;
}

static size_t iov_total(const struct iovec *iov, int iovcnt) {
  size_t total = 0;
  for (int i = 0; i < iovcnt; i++)
    total += iov[i].iov_len;
  return total;
}

/* Appends up to `room` bytes of the iovecs to the ring. */
static size_t pipe_fill(struct pipe *p, const struct iovec *iov, int iovcnt, size_t room) {
  size_t done = 0;
  for (int i = 0; i < iovcnt && done < room; i++) {
    for (size_t k = 0; k < iov[i].iov_len && done < room;) {
      size_t tail = (p->head + p->len) % p->cap;
      size_t run = p->cap - tail < room - done ? p->cap - tail : room - done;
      size_t n = run < iov[i].iov_len - k ? run : iov[i].iov_len - k;
      memcpy(p->buf + tail, (const char *)iov[i].iov_base + k, n);
      p->len += n;
      k += n;
      done += n;
    }
  }
  return done;
}

static ssize_t pipe_write(struct file *f, const struct iovec *iov, int iovcnt) {
  struct pipe *p = pipe_of(f);
  if (p->readers == 0)
    return -EPIPE;
  size_t total = iov_total(iov, iovcnt), space = p->cap - p->len;
  if (total == 0)
    return 0;
  if (space == 0 || (total <= PIPE_BUF && space < total))
    return -EAGAIN; /* small writes are all or nothing */
  return (ssize_t)pipe_fill(p, iov, iovcnt, space);
}

static short pipe_poll(struct file *f, short events) {
  struct pipe *p = pipe_of(f);
  short r = 0;
  if (file_readable(f)) {
    r |= p->len ? POLLIN | POLLRDNORM : 0;
    r |= p->writers ? 0 : POLLHUP;
  } else {
    r |= p->cap - p->len >= PIPE_BUF ? POLLOUT | POLLWRNORM : 0;
    r |= p->readers ? 0 : POLLERR;
  }
  return r;
}

static int pipe_fstat(struct file *f, struct stat *st) {
  struct pipe *p = pipe_of(f);
  memset(st, 0, sizeof *st);
  st->st_dev = VFS_DEV_PIPE;
  st->st_ino = p->ino;
  st->st_mode = S_IFIFO | 0600;
  st->st_nlink = 1;
  st->st_uid = p->vfs->uid;
  st->st_gid = p->vfs->gid;
  st->st_blksize = 4096;
  st->st_atim = st->st_mtim = st->st_ctim = p->created;
  return 0;
}

static const char *pipe_path(struct file *f) { return ((struct pipe_end *)f->priv)->path; }

static void pipe_release(struct file *f) {
  struct pipe_end *e = f->priv;
  struct pipe *p = e->p;
  if (file_readable(f))
    p->readers--;
  else
    p->writers--;
  free(e);
  if (p->readers == 0 && p->writers == 0) {
    p->vfs->pipe_bytes -= p->cap;
    free(p->buf);
    free(p);
  }
}

static const struct file_ops pipe_ops = {
    .read = pipe_read,
    .write = pipe_write,
    .fstat = pipe_fstat,
    .poll = pipe_poll,
    .path = pipe_path,
    .release = pipe_release,
};

long vfs_pipe_nread(struct file *f) {
  return f->ops == &pipe_ops && file_readable(f) ? (long)pipe_of(f)->len : -ENOTTY;
}

static struct file *pipe_end_new(struct pipe *p, int flags) {
  struct pipe_end *e = calloc(1, sizeof *e);
  struct file *f = e ? file_new(&pipe_ops, flags, e) : NULL;
  if (!f) {
    free(e);
    return NULL;
  }
  e->p = p;
  snprintf(e->path, sizeof e->path, "pipe:[%llu]", (unsigned long long)p->ino);
  return f;
}

static struct pipe *pipe_new(struct vfs *v) {
  struct pipe *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->cap =
      v->pipe_bytes + PIPE_CAPACITY <= VFS_PIPE_BYTES_MAX ? PIPE_CAPACITY : PIPE_SMALL_CAPACITY;
  p->buf = malloc(p->cap);
  if (!p->buf) {
    free(p);
    return NULL;
  }
  p->vfs = v;
  v->pipe_bytes += p->cap;
  p->ino = v->next_pipe_ino++;
  clock_gettime(CLOCK_REALTIME, &p->created);
  return p;
}

int vfs_pipe(struct vfs *v, int flags, struct file **rd, struct file **wr) {
  struct pipe *p = pipe_new(v);
  if (!p)
    return -ENOMEM;
  /* Each end counts once created, so releasing it on failure balances. */
  p->readers = p->writers = 1;
  *rd = pipe_end_new(p, O_RDONLY | (flags & O_NONBLOCK));
  *wr = *rd ? pipe_end_new(p, O_WRONLY | (flags & O_NONBLOCK)) : NULL;
  if (*wr)
    return 0;
  if (*rd) {
    p->writers = 0;
    file_unref(*rd); /* frees p with the last end */
  } else {
    v->pipe_bytes -= p->cap;
    free(p->buf);
    free(p);
  }
  return -ENOMEM;
}

/* --- snapshots (vfs.h) --- */

bool vfs_file_is_pipe(const struct file *f) { return f->ops == &pipe_ops; }

const void *vfs_pipe_id(struct file *f) { return pipe_of(f); }

void vfs_pipe_save(struct file *f, struct vfs_pipe_state *st, void *data) {
  struct pipe *p = pipe_of(f);
  *st = (struct vfs_pipe_state){.ino = p->ino,
                                .cap = (uint32_t)p->cap,
                                .len = (uint32_t)p->len,
                                .created = p->created,
                                .reader = p->readers > 0,
                                .writer = p->writers > 0};
  size_t first = p->cap - p->head < p->len ? p->cap - p->head : p->len;
  memcpy(data, p->buf + p->head, first);
  memcpy((char *)data + first, p->buf, p->len - first);
}

int vfs_pipe_restore(struct vfs *v, const struct vfs_pipe_state *st, const void *data, int rd_flags,
                     int wr_flags, struct file **rd, struct file **wr) {
  if ((st->cap != PIPE_CAPACITY && st->cap != PIPE_SMALL_CAPACITY) || st->len > st->cap ||
      (!st->reader && !st->writer))
    return -EINVAL;
  struct pipe *p = calloc(1, sizeof *p);
  if (!p || !(p->buf = malloc(st->cap))) {
    free(p);
    return -ENOMEM;
  }
  *p = (struct pipe){.vfs = v,
                     .buf = p->buf,
                     .cap = st->cap,
                     .len = st->len,
                     .ino = st->ino,
                     .created = st->created,
                     .readers = st->reader,
                     .writers = st->writer};
  memcpy(p->buf, data, st->len);
  v->pipe_bytes += p->cap;
  *rd = st->reader ? pipe_end_new(p, O_RDONLY | (rd_flags & O_NONBLOCK)) : NULL;
  *wr = st->writer ? pipe_end_new(p, O_WRONLY | (wr_flags & O_NONBLOCK)) : NULL;
  if ((*rd || !st->reader) && (*wr || !st->writer))
    return 0;
  /* Undo: the ends made drop their counts; the last frees p. */
  p->readers = *rd != NULL;
  p->writers = *wr != NULL;
  if (*rd || *wr) {
    file_unref(*rd ? *rd : *wr);
    if (*rd && *wr)
      file_unref(*wr);
  } else {
    v->pipe_bytes -= p->cap;
    free(p->buf);
    free(p);
  }
  *rd = *wr = NULL;
  return -ENOMEM;
}
