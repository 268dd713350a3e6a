/* procfs.c - the guest's /proc: only /proc/self, holding `exe` (a link to
 * the program's guest path), `fd/` (one link per open descriptor, which
 * like Linux's leads to the open file itself even when it has no path, as
 * for pipes and the VMM's stdio) and `maps` (the guest's mappings, from the
 * generator the vfs was given; absent without one). Everything else under
 * /proc is ENOENT. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/fdtable.h"
#include "kernel/file.h"
#include "synth.h"
#include "synthfile.h"
#include "vfs_impl.h"

enum {
  PROC_ROOT_INO = 1,
  PROC_SELF_INO,
  PROC_EXE_INO,
  PROC_FD_INO,
  PROC_MAPS_INO,
  PROC_FD_FIRST_INO = 0x1000
};

/* Bound of one /proc/self/maps snapshot: about 600 lines of file mappings;
 * the lines past it are left out whole. */
#define PROC_MAPS_MAX_BYTES (64u << 10)

static int proc_new(struct vnode *dir, const char *name, const struct vnode_ops *ops, mode_t mode,
                    uint64_t ino, int arg, synth_next_fn *next, struct vnode **out) {
  struct synth_spec spec = {.ops = ops,
                            .fs = FS_PROC,
                            .mode = mode,
                            .ino = ino,
                            .dev = VFS_DEV_PROC,
                            .arg = arg,
                            .next = next};
  return synth_new(synth_node(dir)->vfs, dir, name, &spec, out);
}

/* --- /proc/self/fd/N --- */

static struct file *fd_file(struct synth_node *n) {
  const struct fdtable *fds = n->vfs->fds;
  return fds ? fdtable_get(fds, n->arg) : NULL;
}

static ssize_t fd_readlink(struct vnode *vn, char *buf, size_t len) {
  struct file *f = fd_file(synth_node(vn));
  if (!f)
    return -ENOENT;
  const char *path = f->ops->path ? f->ops->path(f) : NULL;
  if (!path)
    path = "anon_inode:[file]";
  size_t n = strlen(path) < len ? strlen(path) : len;
  memcpy(buf, path, n);
  return (ssize_t)n;
}

static int fd_follow(struct vnode *vn, struct vnode **target, struct file **desc) {
  struct file *f = fd_file(synth_node(vn));
  if (!f)
    return -ENOENT;
  struct vnode *at = vfs_file_vnode(f);
  if (at)
    *target = vnode_ref(at);
  else
    *desc = file_ref(f);
  return 0;
}

static const struct vnode_ops fd_link_ops = {
    .stat = synth_stat,
    .readlink = fd_readlink,
    .follow = fd_follow,
    .access = synth_access,
    .release = synth_release,
};

/* A descriptor number as /proc spells it ("0", "12"; no sign, no leading
 * zero), or -1. */
static int parse_fd(const char *name) {
  if (name[0] == '0' && name[1])
    return -1;
  long fd = 0;
  for (const char *p = name; *p; p++) {
    if (*p < '0' || *p > '9' || fd >= FDTABLE_HARD_MAX)
      return -1;
    fd = fd * 10 + (*p - '0');
  }
  return name[0] && fd < FDTABLE_HARD_MAX ? (int)fd : -1;
}

static int fddir_lookup(struct vnode *dir, const char *name, struct vnode **out) {
  const struct fdtable *fds = synth_node(dir)->vfs->fds;
  int fd = parse_fd(name);
  if (fd < 0 || !fds || !fdtable_get(fds, fd))
    return -ENOENT;
  return proc_new(dir, name, &fd_link_ops, S_IFLNK | 0700, PROC_FD_FIRST_INO + (uint64_t)fd, fd,
                  NULL, out);
}

static int fddir_next(struct synth_node *dir, uint64_t *cookie, struct synth_dirent *out) {
  const struct fdtable *fds = dir->vfs->fds;
  int end = fds ? fdtable_end(fds) : 0;
  for (uint64_t fd = *cookie; fd < (uint64_t)end; fd++) {
    if (!fdtable_get(fds, (int)fd))
      continue;
    snprintf(out->namebuf, sizeof out->namebuf, "%d", (int)fd);
    out->name = out->namebuf;
    out->ino = PROC_FD_FIRST_INO + fd;
    out->type = DT_LNK;
    *cookie = fd;
    return 0;
  }
  return -ENOENT;
}

static const struct vnode_ops fddir_ops = {
    .lookup = fddir_lookup,
    .stat = synth_stat,
    .open = synth_open_dir,
    .access = synth_access,
    .release = synth_release,
};

/* --- /proc/self/exe --- */

static ssize_t exe_readlink(struct vnode *vn, char *buf, size_t len) {
  const char *exe = synth_node(vn)->vfs->exe_path;
  if (!exe)
    return -ENOENT;
  size_t n = strlen(exe) < len ? strlen(exe) : len;
  memcpy(buf, exe, n);
  return (ssize_t)n;
}

static const struct vnode_ops exe_link_ops = {
    .stat = synth_stat,
    .readlink = exe_readlink,
    .access = synth_access,
    .release = synth_release,
};

/* --- /proc/self/maps --- */

static ssize_t maps_generate(struct synth_node *n, char *buf, size_t len) {
  return n->vfs->maps(n->vfs->maps_ctx, buf, len);
}

static const struct synthfile_kind maps_kind = {
    .generate = maps_generate,
    .max_bytes = PROC_MAPS_MAX_BYTES,
    .st_size = 0, /* as every /proc file */
    .blksize = 1024,
};

static int maps_new(struct vnode *dir, const char *name, struct vnode **out) {
  struct synth_spec spec = {.ops = &synthfile_ops,
                            .fs = FS_PROC,
                            .mode = S_IFREG | 0444,
                            .ino = PROC_MAPS_INO,
                            .dev = VFS_DEV_PROC,
                            .data = &maps_kind};
  return synth_new(synth_node(dir)->vfs, dir, name, &spec, out);
}

/* --- /proc/self and /proc --- */

static int self_lookup(struct vnode *dir, const char *name, struct vnode **out) {
  if (!strcmp(name, "exe"))
    return proc_new(dir, name, &exe_link_ops, S_IFLNK | 0777, PROC_EXE_INO, 0, NULL, out);
  if (!strcmp(name, "fd"))
    return proc_new(dir, name, &fddir_ops, S_IFDIR | 0500, PROC_FD_INO, 0, fddir_next, out);
  if (!strcmp(name, "maps") && synth_node(dir)->vfs->maps)
    return maps_new(dir, name, out);
  return -ENOENT;
}

static const struct synth_dirent self_entries[] = {
    {.name = "exe", .ino = PROC_EXE_INO, .type = DT_LNK},
    {.name = "fd", .ino = PROC_FD_INO, .type = DT_DIR},
    {.name = "maps", .ino = PROC_MAPS_INO, .type = DT_REG},
};

static int self_next(struct synth_node *dir, uint64_t *cookie, struct synth_dirent *out) {
  size_t count = dir->vfs->maps ? 3 : 2; /* maps comes last */
  if (*cookie >= count)
    return -ENOENT;
  *out = self_entries[*cookie];
  return 0;
}

static const struct vnode_ops self_ops = {
    .lookup = self_lookup,
    .stat = synth_stat,
    .open = synth_open_dir,
    .access = synth_access,
    .release = synth_release,
};

static int proc_lookup(struct vnode *dir, const char *name, struct vnode **out) {
  if (strcmp(name, "self") != 0)
    return -ENOENT;
  return proc_new(dir, name, &self_ops, S_IFDIR | 0555, PROC_SELF_INO, 0, self_next, out);
}

static int proc_next(struct synth_node *dir, uint64_t *cookie, struct synth_dirent *out) {
  if (*cookie >= 1)
    return -ENOENT;
  out->name = "self";
  out->ino = PROC_SELF_INO;
  out->type = DT_DIR;
  return 0;
}

static const struct vnode_ops proc_root_ops = {
    .lookup = proc_lookup,
    .stat = synth_stat,
    .open = synth_open_dir,
    .access = synth_access,
    .release = synth_release,
};

int procfs_root(struct vfs *v, struct vnode *parent, const char *name, struct vnode **out) {
  struct synth_spec spec = {.ops = &proc_root_ops,
                            .fs = FS_PROC,
                            .mode = S_IFDIR | 0555,
                            .ino = PROC_ROOT_INO,
                            .dev = VFS_DEV_PROC,
                            .next = proc_next};
  return synth_new(v, parent, name, &spec, out);
}
