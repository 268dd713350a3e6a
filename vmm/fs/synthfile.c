/* synthfile.c - synthetic read-only text files (see synthfile.h): the
 * snapshot taken at open and the description ops over it. */
#include "synthfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/file.h"
#include "seek.h"
#include "synth.h"

static const struct synthfile_kind *kind_of(struct vnode *vn) { return synth_node(vn)->data; }

static int sfile_node_stat(struct vnode *vn, struct stat *st) {
  int r = synth_stat(vn, st);
  st->st_size = kind_of(vn)->st_size;
  st->st_blksize = kind_of(vn)->blksize;
  return r;
}

/* One open description: the node and what it held when opened. */
struct sfile_open {
  struct vnode *vn;
  char *data;
  size_t len;
  char *path; /* last answer of the path op */
};

static struct sfile_open *sfile_of(struct file *f) { return f->priv; }

/* Copies the snapshot from `off` (>= 0) into the iovecs; the bytes copied. */
static ssize_t sfile_copy(struct sfile_open *s, const struct iovec *iov, int iovcnt, off_t off) {
  size_t at = (size_t)off, done = 0;
  for (int i = 0; i < iovcnt && at < s->len; i++) {
    size_t n = s->len - at < iov[i].iov_len ? s->len - at : iov[i].iov_len;
    memcpy(iov[i].iov_base, s->data + at, n);
    at += n;
    done += n;
  }
  return (ssize_t)done;
}

static ssize_t sfile_pread(struct file *f, const struct iovec *iov, int iovcnt, off_t off) {
  return off < 0 ? -EINVAL : sfile_copy(sfile_of(f), iov, iovcnt, off);
}

static ssize_t sfile_read(struct file *f, const struct iovec *iov, int iovcnt) {
  ssize_t n = sfile_copy(sfile_of(f), iov, iovcnt, f->pos);
  f->pos += n;
  return n;
}

/* Positions are in the snapshot: SEEK_END counts from its end. */
static off_t sfile_lseek(struct file *f, off_t off, int whence) {
  return seek_in_file(&f->pos, off, whence, (off_t)sfile_of(f)->len);
}

static int sfile_fstat(struct file *f, struct stat *st) {
  return sfile_node_stat(sfile_of(f)->vn, st);
}

static const char *sfile_path(struct file *f) {
  struct sfile_open *s = sfile_of(f);
  return vnode_path_cached(s->vn, &s->path);
}

static struct vnode *sfile_vnode(struct file *f) { return sfile_of(f)->vn; }

static void sfile_release(struct file *f) {
  struct sfile_open *s = sfile_of(f);
  vnode_unref(s->vn);
  free(s->data);
  free(s->path);
  free(s);
}

static const struct file_ops sfile_file_ops = {
    .read = sfile_read,
    .pread = sfile_pread,
    .lseek = sfile_lseek,
    .fstat = sfile_fstat,
    .path = sfile_path,
    .vnode = sfile_vnode,
    .release = sfile_release,
};

/* The snapshot: generated into a buffer of the kind's bound, then trimmed
 * to what was written. */
static int sfile_snapshot(struct vnode *vn, struct sfile_open *s) {
  const struct synthfile_kind *k = kind_of(vn);
  char *buf = malloc(k->max_bytes ? k->max_bytes : 1);
  if (!buf)
    return -ENOMEM;
  ssize_t n = k->generate(synth_node(vn), buf, k->max_bytes);
  if (n < 0 || (size_t)n > k->max_bytes) {
    free(buf);
    return n < 0 ? (int)n : -EIO;
  }
  char *fit = realloc(buf, n ? (size_t)n : 1);
  s->data = fit ? fit : buf;
  s->len = (size_t)n;
  return 0;
}

static int sfile_open(struct vnode *vn, int flags, struct file **out) {
  if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC))
    return -EACCES;
  struct sfile_open *s = calloc(1, sizeof *s);
  if (!s)
    return -ENOMEM;
  int r = sfile_snapshot(vn, s);
  struct file *f = r == 0 ? file_new(&sfile_file_ops, flags, s) : NULL;
  if (!f) {
    free(s->data);
    free(s);
    return r < 0 ? r : -ENOMEM;
  }
  s->vn = vnode_ref(vn);
  *out = f;
  return 0;
}

const struct vnode_ops synthfile_ops = {
    .stat = sfile_node_stat,
    .open = sfile_open,
    .access = synth_access,
    .release = synth_release,
};
