/* tmpfs_file.c - open descriptions of tmpfs files (a bounded growable
 * buffer each) and directories (listed in creation order, positions being
 * the entries' cookies, so entries removed while listing never make the
 * listing skip others). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dirent64.h"
#include "kernel/file.h"
#include "seek.h"
#include "tmpfs_impl.h"

struct tmpfs_open {
  struct tmpfs_node *n;
  char *path; /* last answer of the path op */
};

static struct tmpfs_node *node_of(struct file *f) { return ((struct tmpfs_open *)f->priv)->n; }

/* Grows the buffer to hold `size` bytes, doubling but never reserving more
 * than the byte cap could ever let the file use. */
static int reserve(struct tmpfs_node *n, size_t size) {
  struct tmpfs *fs = n->fs;
  size_t most = n->file.size + (fs->cfg.max_bytes - fs->bytes);
  size_t cap = n->file.cap ? n->file.cap : 4096;
  while (cap < size)
    cap = cap > SIZE_MAX / 2 ? size : cap * 2;
  if (cap > most)
    cap = most;
  unsigned char *data = realloc(n->file.data, cap);
  if (!data)
    return -ENOMEM;
  n->file.data = data;
  n->file.cap = cap;
  return 0;
}

/* Gives memory back when a file shrank to a quarter of its buffer. */
static void shrink(struct tmpfs_node *n, size_t size) {
  if (size == 0) {
    free(n->file.data);
    n->file.data = NULL;
    n->file.cap = 0;
  } else if (size < n->file.cap / 4) {
    unsigned char *data = realloc(n->file.data, size);
    if (data) {
      n->file.data = data;
      n->file.cap = size;
    }
  }
}

int tmpfs_resize(struct tmpfs_node *n, uint64_t size) {
  struct tmpfs *fs = n->fs;
  size_t old = n->file.size;
  if (size > INT64_MAX)
    return -EFBIG;
  if (size > old) {
    if (size - old > fs->cfg.max_bytes - fs->bytes)
      return -ENOSPC;
    if (size > n->file.cap) {
      int r = reserve(n, size);
      if (r < 0)
        return r;
    }
    memset(n->file.data + old, 0, size - old);
    fs->bytes += size - old;
  } else {
    fs->bytes -= old - size;
    shrink(n, size);
  }
  n->file.size = size;
  tmpfs_touch(n);
  return 0;
}

static size_t iov_total(const struct iovec *iov, int iovcnt) {
  size_t total = 0;
  for (int i = 0; i < iovcnt; i++)
    total += iov[i].iov_len; /* the caller bounded the sum (MAX_RW_COUNT) */
  return total;
}

static ssize_t tfile_pread(struct file *f, const struct iovec *iov, int iovcnt, off_t off) {
  struct tmpfs_node *n = node_of(f);
  if (off < 0)
    return -EINVAL;
  if ((uint64_t)off >= n->file.size)
    return 0;
  size_t avail = n->file.size - (size_t)off, done = 0;
  for (int i = 0; i < iovcnt && done < avail; i++) {
    size_t k = iov[i].iov_len < avail - done ? iov[i].iov_len : avail - done;
    memcpy(iov[i].iov_base, n->file.data + off + done, k);
    done += k;
  }
  return (ssize_t)done;
}

/* Copies the iovecs' first `len` bytes to the file at off. */
static void copy_in(struct tmpfs_node *n, const struct iovec *iov, off_t off, size_t len) {
  for (size_t done = 0; done < len; iov++) {
    size_t k = iov->iov_len < len - done ? iov->iov_len : len - done;
    memcpy(n->file.data + off + done, iov->iov_base, k);
    done += k;
  }
}

/* As Linux: a write that does not fit stores what fits; -ENOSPC when
 * nothing does. O_APPEND writes at the end, even for pwrite. */
static ssize_t tfile_pwrite(struct file *f, const struct iovec *iov, int iovcnt, off_t off) {
  struct tmpfs_node *n = node_of(f);
  struct tmpfs *fs = n->fs;
  if (f->flags & O_APPEND)
    off = (off_t)n->file.size;
  if (off < 0)
    return -EINVAL;
  size_t total = iov_total(iov, iovcnt);
  if (total == 0)
    return 0;
  uint64_t end = (uint64_t)off + total, room = n->file.size + (fs->cfg.max_bytes - fs->bytes);
  if (end > INT64_MAX)
    return -EFBIG;
  if (end > room)
    end = room;
  if (end <= (uint64_t)off)
    return -ENOSPC;
  if (end > n->file.size) {
    int r = tmpfs_resize(n, end);
    if (r < 0)
      return r;
  }
  copy_in(n, iov, off, end - (uint64_t)off);
  tmpfs_touch(n);
  return (ssize_t)(end - (uint64_t)off);
}

static ssize_t tfile_read(struct file *f, const struct iovec *iov, int iovcnt) {
  ssize_t n = tfile_pread(f, iov, iovcnt, f->pos);
  if (n > 0)
    f->pos += n;
  return n;
}

static ssize_t tfile_write(struct file *f, const struct iovec *iov, int iovcnt) {
  ssize_t n = tfile_pwrite(f, iov, iovcnt, f->pos);
  if (n > 0)
    f->pos = (f->flags & O_APPEND) ? (off_t)node_of(f)->file.size : f->pos + n;
  return n;
}

static off_t tfile_lseek(struct file *f, off_t off, int whence) {
  return seek_in_file(&f->pos, off, whence, (off_t)node_of(f)->file.size);
}

static int tfile_truncate(struct file *f, off_t len) {
  return len < 0 ? -EINVAL : tmpfs_resize(node_of(f), (uint64_t)len);
}

static int topen_fstat(struct file *f, struct stat *st) { return tmpfs_node_stat(node_of(f), st); }

static const char *topen_path(struct file *f) {
  struct tmpfs_open *t = f->priv;
  return vnode_path_cached(&t->n->vn, &t->path);
}

static struct vnode *topen_vnode(struct file *f) { return &node_of(f)->vn; }

static void topen_release(struct file *f) {
  struct tmpfs_open *t = f->priv;
  vnode_unref(&t->n->vn);
  free(t->path);
  free(t);
}

static ssize_t tdir_read(struct file *f, const struct iovec *iov, int iovcnt) { return -EISDIR; }

static uint64_t dotdot_ino(struct tmpfs_node *n) {
  struct stat st;
  struct vnode *up = n->vn.parent;
  if (up && up->ops->stat(up, &st) == 0)
    return st.st_ino;
  return n->ino;
}

/* Position = cookie of the last entry returned (1 ".", 2 ".."). */
static ssize_t tdir_getdents(struct file *f, void *buf, size_t len) {
  struct tmpfs_node *n = node_of(f);
  size_t used = 0;
  bool fits = true;
  if (f->pos < 1 && (fits = dirent_put(buf, len, &used, n->ino, 1, DT_DIR, ".")))
    f->pos = 1;
  if (fits && f->pos < 2 && (fits = dirent_put(buf, len, &used, dotdot_ino(n), 2, DT_DIR, "..")))
    f->pos = 2;
  for (struct tmpfs_dirent *e = n->dir.head; fits && e; e = e->next) {
    if (e->cookie <= (uint64_t)f->pos)
      continue;
    struct tmpfs_node *c = e->node;
    fits = dirent_put(buf, len, &used, c->ino, (int64_t)e->cookie, dirent_type(c->vn.type),
                      c->vn.name);
    if (fits)
      f->pos = (off_t)e->cookie;
  }
  return !fits && used == 0 ? -EINVAL : (ssize_t)used;
}

static off_t tdir_lseek(struct file *f, off_t off, int whence) {
  off_t to;
  if (whence == SEEK_SET)
    to = off;
  else if (whence != SEEK_CUR || __builtin_add_overflow(f->pos, off, &to))
    return -EINVAL;
  if (to < 0)
    return -EINVAL;
  f->pos = to;
  return to;
}

static const struct file_ops tmpfs_file_ops = {
    .read = tfile_read,
    .write = tfile_write,
    .pread = tfile_pread,
    .pwrite = tfile_pwrite,
    .lseek = tfile_lseek,
    .fstat = topen_fstat,
    .truncate = tfile_truncate,
    .path = topen_path,
    .vnode = topen_vnode,
    .release = topen_release,
};

static const struct file_ops tmpfs_dir_ops = {
    .read = tdir_read,
    .lseek = tdir_lseek,
    .fstat = topen_fstat,
    .getdents = tdir_getdents,
    .path = topen_path,
    .vnode = topen_vnode,
    .release = topen_release,
};

static int topen_new(const struct file_ops *ops, struct tmpfs_node *n, int flags,
                     struct file **out) {
  struct tmpfs_open *t = calloc(1, sizeof *t);
  struct file *f = t ? file_new(ops, flags, t) : NULL;
  if (!f) {
    free(t);
    return -ENOMEM;
  }
  t->n = tmpfs_node(vnode_ref(&n->vn));
  *out = f;
  return 0;
}

int tmpfs_open_file(struct tmpfs_node *n, int flags, struct file **out) {
  return topen_new(&tmpfs_file_ops, n, flags, out);
}

int tmpfs_open_dir(struct tmpfs_node *n, int flags, struct file **out) {
  return topen_new(&tmpfs_dir_ops, n, flags, out);
}
