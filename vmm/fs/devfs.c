/* devfs.c - the guest's /dev: null, zero, random and urandom (character
 * devices with Linux's numbers, urandom backed by the host's getrandom), and
 * the links stdin, stdout, stderr and fd into /proc/self/fd. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sysmacros.h>

#include "dirent64.h"
#include "kernel/file.h"
#include "synth.h"
#include "vfs_impl.h"

struct dev_entry {
  const char *name;
  mode_t mode;
  unsigned minor;     /* major is 1 (mem) for all of ours */
  const char *target; /* symlinks */
};

static const struct dev_entry dev_entries[] = {
    {"null", S_IFCHR | 0666, 3, NULL},
    {"zero", S_IFCHR | 0666, 5, NULL},
    {"random", S_IFCHR | 0666, 8, NULL},
    {"urandom", S_IFCHR | 0666, 9, NULL},
    {"fd", S_IFLNK | 0777, 0, "/proc/self/fd"},
    {"stdin", S_IFLNK | 0777, 0, "/proc/self/fd/0"},
    {"stdout", S_IFLNK | 0777, 0, "/proc/self/fd/1"},
    {"stderr", S_IFLNK | 0777, 0, "/proc/self/fd/2"},
};
#define DEV_COUNT (sizeof dev_entries / sizeof dev_entries[0])
#define DEV_FIRST_INO 2 /* the root of /dev is 1 */

/* Device descriptions: the device is the minor of the node they opened. */
struct dev_open {
  struct vnode *vn;
  char *path;
};

static struct vnode *dev_vnode(struct file *f) { return ((struct dev_open *)f->priv)->vn; }

static size_t iov_total(const struct iovec *iov, int iovcnt) {
  size_t total = 0;
  for (int i = 0; i < iovcnt; i++)
    total += iov[i].iov_len;
  return total;
}

static ssize_t null_read(struct file *f, const struct iovec *iov, int iovcnt) { return 0; }

static ssize_t sink_write(struct file *f, const struct iovec *iov, int iovcnt) {
  return (ssize_t)iov_total(iov, iovcnt);
}

static ssize_t zero_read(struct file *f, const struct iovec *iov, int iovcnt) {
  for (int i = 0; i < iovcnt; i++)
    memset(iov[i].iov_base, 0, iov[i].iov_len);
  return (ssize_t)iov_total(iov, iovcnt);
}

static ssize_t random_read(struct file *f, const struct iovec *iov, int iovcnt) {
  size_t done = 0;
  for (int i = 0; i < iovcnt; i++) {
    for (size_t k = 0; k < iov[i].iov_len;) {
      ssize_t n = getrandom((char *)iov[i].iov_base + k, iov[i].iov_len - k, 0);
      if (n < 0)
        return done ? (ssize_t)done : -errno;
      k += (size_t)n;
      done += (size_t)n;
    }
  }
  return (ssize_t)done;
}

/* Positions mean nothing on these devices; pread/pwrite are read/write. */
static ssize_t null_pread(struct file *f, const struct iovec *iov, int iovcnt, off_t off) {
  return 0;
}
static ssize_t zero_pread(struct file *f, const struct iovec *iov, int iovcnt, off_t off) {
  return zero_read(f, iov, iovcnt);
}
static ssize_t random_pread(struct file *f, const struct iovec *iov, int iovcnt, off_t off) {
  return random_read(f, iov, iovcnt);
}
static ssize_t sink_pwrite(struct file *f, const struct iovec *iov, int iovcnt, off_t off) {
  return sink_write(f, iov, iovcnt);
}

static off_t dev_lseek(struct file *f, off_t off, int whence) {
  f->pos = 0; /* Linux answers 0 for these devices, whatever is asked */
  return 0;
}

static int dev_fstat(struct file *f, struct stat *st) { return synth_stat(dev_vnode(f), st); }

static const char *dev_path(struct file *f) {
  struct dev_open *d = f->priv;
  return vnode_path_cached(d->vn, &d->path);
}

static void dev_release(struct file *f) {
  struct dev_open *d = f->priv;
  vnode_unref(d->vn);
  free(d->path);
  free(d);
}

#define DEV_COMMON_OPS                                                                             \
  .write = sink_write, .pwrite = sink_pwrite, .lseek = dev_lseek, .fstat = dev_fstat,              \
  .path = dev_path, .vnode = dev_vnode, .release = dev_release

static const struct file_ops null_ops = {.read = null_read, .pread = null_pread, DEV_COMMON_OPS};
static const struct file_ops zero_ops = {.read = zero_read, .pread = zero_pread, DEV_COMMON_OPS};
static const struct file_ops random_ops = {
    .read = random_read, .pread = random_pread, DEV_COMMON_OPS};

static int dev_open(struct vnode *vn, int flags, struct file **out) {
  unsigned minor = minor(synth_node(vn)->rdev);
  const struct file_ops *ops = minor == 3 ? &null_ops : minor == 5 ? &zero_ops : &random_ops;
  struct dev_open *d = calloc(1, sizeof *d);
  struct file *f = d ? file_new(ops, flags, d) : NULL;
  if (!f) {
    free(d);
    return -ENOMEM;
  }
  d->vn = vnode_ref(vn);
  *out = f;
  return 0;
}

static ssize_t dev_readlink(struct vnode *vn, char *buf, size_t len) {
  const char *target = dev_entries[synth_node(vn)->arg].target;
  size_t n = strlen(target) < len ? strlen(target) : len;
  memcpy(buf, target, n);
  return (ssize_t)n;
}

static const struct vnode_ops dev_node_ops = {
    .stat = synth_stat,
    .open = dev_open,
    .access = synth_access,
    .release = synth_release,
};

static const struct vnode_ops dev_link_ops = {
    .stat = synth_stat,
    .readlink = dev_readlink,
    .access = synth_access,
    .release = synth_release,
};

static int devfs_lookup(struct vnode *dir, const char *name, struct vnode **out) {
  for (size_t i = 0; i < DEV_COUNT; i++) {
    const struct dev_entry *e = &dev_entries[i];
    if (strcmp(e->name, name) != 0)
      continue;
    struct synth_spec spec = {.ops = e->target ? &dev_link_ops : &dev_node_ops,
                              .fs = FS_DEV,
                              .mode = e->mode,
                              .ino = DEV_FIRST_INO + i,
                              .dev = VFS_DEV_DEV,
                              .rdev = e->target ? 0 : makedev(1, e->minor),
                              .arg = (int)i};
    return synth_new(synth_node(dir)->vfs, dir, name, &spec, out);
  }
  return -ENOENT;
}

static int devfs_next(struct synth_node *dir, uint64_t *cookie, struct synth_dirent *out) {
  if (*cookie >= DEV_COUNT)
    return -ENOENT;
  const struct dev_entry *e = &dev_entries[*cookie];
  out->name = e->name;
  out->ino = DEV_FIRST_INO + *cookie;
  out->type = dirent_type(e->mode);
  return 0;
}

static const struct vnode_ops devfs_root_ops = {
    .lookup = devfs_lookup,
    .stat = synth_stat,
    .open = synth_open_dir,
    .access = synth_access,
    .release = synth_release,
};

int devfs_root(struct vfs *v, struct vnode *parent, const char *name, struct vnode **out) {
  struct synth_spec spec = {.ops = &devfs_root_ops,
                            .fs = FS_DEV,
                            .mode = S_IFDIR | 0755,
                            .ino = 1,
                            .dev = VFS_DEV_DEV,
                            .next = devfs_next};
  return synth_new(v, parent, name, &spec, out);
}
