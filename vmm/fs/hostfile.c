/* hostfile.c - open descriptions of the read-only host tree: regular files
 * read with preadv straight into the guest's buffers, and directories listed
 * with the host's getdents64 (whose records are x86-64 Linux's, the guest's
 * format). At "/", the mounts are listed first and the host's own entries of
 * those names (and its "." and "..", which would show the host parent's
 * inode) are left out. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dirent64.h"
#include "hostfs.h"
#include "kernel/file.h"
#include "seek.h"
#include "vfs_impl.h"

struct host_open {
  struct vnode *vn;
  int fd;
  bool at_root;
  unsigned synth_next; /* at "/": next of ".", "..", then the mounts */
  char *path;          /* last answer of the path op */
};

#define ROOT_SYNTH_COUNT (2 + VFS_NMOUNTS)

static struct host_open *host_open_of(struct file *f) { return f->priv; }

static ssize_t hreg_pread(struct file *f, const struct iovec *iov, int iovcnt, off_t off) {
  ssize_t n = preadv(host_open_of(f)->fd, iov, iovcnt, off);
  return n < 0 ? -errno : n;
}

static ssize_t hreg_read(struct file *f, const struct iovec *iov, int iovcnt) {
  ssize_t n = hreg_pread(f, iov, iovcnt, f->pos);
  if (n > 0)
    f->pos += n;
  return n;
}

static int hopen_fstat(struct file *f, struct stat *st) {
  return fstat(host_open_of(f)->fd, st) < 0 ? -errno : 0;
}

static off_t hreg_lseek(struct file *f, off_t off, int whence) {
  struct stat st;
  int r = hopen_fstat(f, &st);
  return r < 0 ? r : seek_in_file(&f->pos, off, whence, st.st_size);
}

static const char *hopen_path(struct file *f) {
  struct host_open *h = host_open_of(f);
  return vnode_path_cached(h->vn, &h->path);
}

static struct vnode *hopen_vnode(struct file *f) { return host_open_of(f)->vn; }

static void hopen_release(struct file *f) {
  struct host_open *h = host_open_of(f);
  close(h->fd);
  vnode_unref(h->vn);
  free(h->path);
  free(h);
}

static ssize_t hdir_read(struct file *f, const struct iovec *iov, int iovcnt) { return -EISDIR; }

/* Emits the synthetic entries of "/" still due; false when one did not fit. */
static bool root_synth(struct host_open *h, void *buf, size_t len, size_t *used) {
  struct stat st;
  uint64_t root_ino = fstat(h->fd, &st) == 0 ? st.st_ino : 1;
  for (; h->synth_next < ROOT_SYNTH_COUNT; h->synth_next++) {
    unsigned i = h->synth_next;
    const char *name = i == 0 ? "." : i == 1 ? ".." : vfs_mount_names[i - 2];
    uint64_t ino = i < 2 ? root_ino : 1; /* every mount's root is inode 1 */
    if (!dirent_put(buf, len, used, ino, i + 1, DT_DIR, name))
      return false;
  }
  return true;
}

static bool root_hides(const char *name) {
  if (!strcmp(name, ".") || !strcmp(name, ".."))
    return true;
  for (int i = 0; vfs_mount_names[i]; i++)
    if (!strcmp(name, vfs_mount_names[i]))
      return true;
  return false;
}

/* Drops the records "/" hides from n bytes of host records, in place;
 * returns the bytes kept. */
static size_t root_filter(unsigned char *recs, size_t n) {
  size_t in = 0, out = 0;
  while (in + DIRENT_NAME_OFFSET < n) {
    uint16_t reclen;
    memcpy(&reclen, recs + in + 16, 2);
    if (reclen <= DIRENT_NAME_OFFSET || reclen > n - in)
      break; /* never from the host kernel; stop rather than overrun */
    if (!root_hides((const char *)recs + in + DIRENT_NAME_OFFSET)) {
      memmove(recs + out, recs + in, reclen);
      out += reclen;
    }
    in += reclen;
  }
  return out;
}

static ssize_t hdir_getdents(struct file *f, void *buf, size_t len) {
  struct host_open *h = host_open_of(f);
  size_t used = 0;
  if (h->at_root && !root_synth(h, buf, len, &used))
    return used ? (ssize_t)used : -EINVAL;
  for (;;) {
    long n = syscall(SYS_getdents64, h->fd, (char *)buf + used, len - used);
    if (n < 0)
      return used ? (ssize_t)used : -errno;
    if (n == 0 || !h->at_root)
      return (ssize_t)used + n;
    size_t kept = root_filter((unsigned char *)buf + used, (size_t)n);
    if (kept > 0 || used > 0)
      return (ssize_t)(used + kept);
    /* Everything in this batch was hidden: read on, or we would say "end". */
  }
}

static off_t hdir_lseek(struct file *f, off_t off, int whence) {
  struct host_open *h = host_open_of(f);
  off_t r = lseek(h->fd, off, whence);
  if (r < 0)
    return -errno;
  /* Positions on "/" are the host's; only a rewind lists the mounts again. */
  if (h->at_root && whence == SEEK_SET)
    h->synth_next = off == 0 ? 0 : ROOT_SYNTH_COUNT;
  f->pos = r;
  return r;
}

static const struct file_ops host_reg_ops = {
    .read = hreg_read,
    .pread = hreg_pread,
    .lseek = hreg_lseek,
    .fstat = hopen_fstat,
    .path = hopen_path,
    .vnode = hopen_vnode,
    .release = hopen_release,
};

static const struct file_ops host_dir_ops = {
    .read = hdir_read,
    .lseek = hdir_lseek,
    .fstat = hopen_fstat,
    .getdents = hdir_getdents,
    .path = hopen_path,
    .vnode = hopen_vnode,
    .release = hopen_release,
};

static int hostfile_new(const struct file_ops *ops, struct vnode *vn, int fd, bool at_root,
                        int flags, struct file **out) {
  struct host_open *h = calloc(1, sizeof *h);
  struct file *f = h ? file_new(ops, flags, h) : NULL;
  if (!f) {
    free(h);
    close(fd);
    return -ENOMEM;
  }
  h->vn = vnode_ref(vn);
  h->fd = fd;
  h->at_root = at_root;
  *out = f;
  return 0;
}

int hostfile_open_dir(struct vnode *vn, int dir_fd, bool at_root, int flags, struct file **out) {
  return hostfile_new(&host_dir_ops, vn, dir_fd, at_root, flags, out);
}

int hostfile_open_reg(struct vnode *vn, int fd, int flags, struct file **out) {
  return hostfile_new(&host_reg_ops, vn, fd, false, flags, out);
}

bool vfs_file_is_host_regular(const struct file *f) { return f->ops == &host_reg_ops; }
