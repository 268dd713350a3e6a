/* synth.c - what synthetic nodes share (see synth.h): their stat answers,
 * access checks, directory listings, and the empty root. */
#include "synth.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dirent64.h"
#include "kernel/file.h"
#include "vfs_impl.h"

int synth_new(struct vfs *v, struct vnode *parent, const char *name, const struct synth_spec *spec,
              struct vnode **out) {
  struct synth_node *n = calloc(1, sizeof *n);
  if (!n)
    return -ENOMEM;
  int r = vnode_init(&n->vn, spec->ops, spec->mode, spec->fs, parent, name);
  if (r < 0) {
    free(n);
    return r;
  }
  n->vfs = v;
  n->ino = spec->ino;
  n->perm = spec->mode & 07777;
  n->dev = spec->dev;
  n->rdev = spec->rdev;
  n->arg = spec->arg;
  n->next = spec->next;
  n->data = spec->data;
  *out = &n->vn;
  return 0;
}

int synth_stat(struct vnode *vn, struct stat *st) {
  struct synth_node *n = synth_node(vn);
  memset(st, 0, sizeof *st);
  st->st_dev = n->dev;
  st->st_ino = n->ino;
  st->st_mode = vn->type | n->perm;
  st->st_nlink = S_ISDIR(vn->type) ? 2 : 1;
  st->st_uid = n->vfs->uid;
  st->st_gid = n->vfs->gid;
  st->st_rdev = n->rdev;
  st->st_blksize = 4096;
  st->st_atim = st->st_mtim = st->st_ctim = n->vfs->boot_time;
  return 0;
}

/* The guest owns its synthetic nodes: as root it passes read and write
 * checks and needs some execute bit; otherwise the owner bits decide. */
int synth_access(struct vnode *vn, int mode) {
  struct synth_node *n = synth_node(vn);
  bool any_x = n->perm & 0111;
  if (n->vfs->uid == 0)
    return (mode & X_OK) && !any_x ? -EACCES : 0;
  if (((mode & R_OK) && !(n->perm & S_IRUSR)) || ((mode & W_OK) && !(n->perm & S_IWUSR)) ||
      ((mode & X_OK) && !(n->perm & S_IXUSR)))
    return -EACCES;
  return 0;
}

void synth_release(struct vnode *vn) { free(synth_node(vn)); }

/* Open synthetic directories: position 0 is ".", 1 "..", and p >= 2 the
 * first entry whose cookie is >= p - 2. */
struct synth_open {
  struct synth_node *n;
  char *path;
};

static struct synth_node *sdir_node(struct file *f) { return ((struct synth_open *)f->priv)->n; }

static uint64_t parent_ino(struct synth_node *n) {
  struct stat st;
  struct vnode *up = n->vn.parent;
  return up && up->ops->stat(up, &st) == 0 ? st.st_ino : n->ino;
}

/* The record at position pos, into *e; false past the end. */
static bool sdir_entry(struct synth_node *n, uint64_t pos, struct synth_dirent *e, uint64_t *next) {
  if (pos < 2) {
    e->name = pos == 0 ? "." : "..";
    e->ino = pos == 0 ? n->ino : parent_ino(n);
    e->type = DT_DIR;
    *next = pos + 1;
    return true;
  }
  uint64_t cookie = pos - 2;
  if (!n->next || n->next(n, &cookie, e) < 0)
    return false;
  *next = cookie + 3;
  return true;
}

static ssize_t sdir_getdents(struct file *f, void *buf, size_t len) {
  struct synth_node *n = sdir_node(f);
  size_t used = 0;
  struct synth_dirent e;
  uint64_t next;
  while (sdir_entry(n, (uint64_t)f->pos, &e, &next)) {
    if (!dirent_put(buf, len, &used, e.ino, (int64_t)next, e.type, e.name))
      return used ? (ssize_t)used : -EINVAL;
    f->pos = (off_t)next;
  }
  return (ssize_t)used;
}

static off_t sdir_lseek(struct file *f, off_t off, int whence) {
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

static ssize_t sdir_read(struct file *f, const struct iovec *iov, int iovcnt) { return -EISDIR; }

static int sdir_fstat(struct file *f, struct stat *st) { return synth_stat(&sdir_node(f)->vn, st); }

static const char *sdir_path(struct file *f) {
  struct synth_open *s = f->priv;
  return vnode_path_cached(&s->n->vn, &s->path);
}

static struct vnode *sdir_vnode(struct file *f) { return &sdir_node(f)->vn; }

static void sdir_release(struct file *f) {
  struct synth_open *s = f->priv;
  vnode_unref(&s->n->vn);
  free(s->path);
  free(s);
}

static const struct file_ops synth_dir_ops = {
    .read = sdir_read,
    .lseek = sdir_lseek,
    .fstat = sdir_fstat,
    .getdents = sdir_getdents,
    .path = sdir_path,
    .vnode = sdir_vnode,
    .release = sdir_release,
};

int synth_open_dir(struct vnode *vn, int flags, struct file **out) {
  struct synth_open *s = calloc(1, sizeof *s);
  struct file *f = s ? file_new(&synth_dir_ops, flags, s) : NULL;
  if (!f) {
    free(s);
    return -ENOMEM;
  }
  s->n = synth_node(vnode_ref(vn));
  *out = f;
  return 0;
}

/* The empty root lists only the mounts (whose roots are inode 1). */
static int empty_root_next(struct synth_node *dir, uint64_t *cookie, struct synth_dirent *out) {
  if (*cookie >= VFS_NMOUNTS)
    return -ENOENT;
  out->name = vfs_mount_names[*cookie];
  out->ino = 1;
  out->type = DT_DIR;
  return 0;
}

static int empty_root_lookup(struct vnode *dir, const char *name, struct vnode **out) {
  return -ENOENT; /* the mounts are found by vfs_lookup before asking here */
}

static const struct vnode_ops empty_root_ops = {
    .lookup = empty_root_lookup,
    .stat = synth_stat,
    .open = synth_open_dir,
    .access = synth_access,
    .release = synth_release,
};

int synth_empty_root(struct vfs *v, struct vnode **out) {
  struct synth_spec spec = {.ops = &empty_root_ops,
                            .fs = FS_ROOT,
                            .mode = S_IFDIR | 0555,
                            .ino = 2,
                            .dev = VFS_DEV_EMPTY_ROOT,
                            .next = empty_root_next};
  return synth_new(v, NULL, "/", &spec, out);
}
