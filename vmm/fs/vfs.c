/* vfs.c - the guest's namespace as a whole: the root (the host directory or
 * an empty one) with /dev, /proc, /sys and /tmp mounted over it, the working
 * directory and umask, and the lookups every path operation shares. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "hostfs.h"
#include "kernel/fdtable.h"
#include "kernel/file.h"
#include "synth.h"
#include "tmpfs.h"
#include "vfs_impl.h"
#include "walk.h"

const char *const vfs_mount_names[VFS_NMOUNTS + 1] = {"dev", "proc", "sys", "tmp", "code", NULL};

static int make_root(struct vfs *v, const char *host_root) {
  return host_root ? hostfs_root(host_root, &v->root) : synth_empty_root(v, &v->root);
}

/* /tmp and /code: each its own tmpfs with its own caps. */
static int make_tmpfs(struct vfs *v, const char *name, struct tmpfs_config *tc, struct tmpfs **fs,
                      struct vnode **out) {
  int r = tmpfs_create(tc, v->root, name, fs);
  if (r == 0)
    *out = vnode_ref(tmpfs_root(*fs));
  return r;
}

static int make_tmp(struct vfs *v, const struct vfs_config *cfg, struct vnode **out) {
  struct tmpfs_config tc = {
      .max_bytes = cfg->tmp_max_bytes ? cfg->tmp_max_bytes : VFS_TMP_DEFAULT_BYTES,
      .max_entries = cfg->tmp_max_entries ? cfg->tmp_max_entries : VFS_TMP_DEFAULT_ENTRIES,
      .uid = cfg->uid,
      .gid = cfg->gid,
      .dev = VFS_DEV_TMP,
      .mode = 01777,
  };
  return make_tmpfs(v, "tmp", &tc, &v->tmp, out);
}

/* /code belongs to the guest's user (hearth-init unpacks the function
 * there); mode 0755 so the runtime it execs can read it whatever its uid. */
static int make_code(struct vfs *v, const struct vfs_config *cfg, struct vnode **out) {
  struct tmpfs_config tc = {
      .max_bytes = cfg->code_max_bytes ? cfg->code_max_bytes : VFS_CODE_DEFAULT_BYTES,
      .max_entries = cfg->code_max_entries ? cfg->code_max_entries : VFS_CODE_DEFAULT_ENTRIES,
      .uid = cfg->uid,
      .gid = cfg->gid,
      .dev = VFS_DEV_CODE,
      .mode = 0755,
  };
  return make_tmpfs(v, "code", &tc, &v->code, out);
}

static int make_mounts(struct vfs *v, const struct vfs_config *cfg) {
  int r = devfs_root(v, v->root, "dev", &v->mounts[0].root);
  if (r == 0)
    r = procfs_root(v, v->root, "proc", &v->mounts[1].root);
  if (r == 0)
    r = sysfs_root(v, v->root, "sys", &v->mounts[2].root);
  if (r == 0)
    r = make_tmp(v, cfg, &v->mounts[3].root);
  if (r == 0)
    r = make_code(v, cfg, &v->mounts[4].root);
  for (int i = 0; i < VFS_NMOUNTS; i++)
    v->mounts[i].name = vfs_mount_names[i];
  return r;
}

int vfs_create(const struct vfs_config *cfg, struct vfs **out) {
  struct vfs *v = calloc(1, sizeof *v);
  if (!v)
    return -ENOMEM;
  v->umask = 022;
  v->fds = cfg->fds;
  v->maps = cfg->maps;
  v->maps_ctx = cfg->maps_ctx;
  v->uid = cfg->uid;
  v->gid = cfg->gid;
  v->next_pipe_ino = 1;
  clock_gettime(CLOCK_REALTIME, &v->boot_time);
  int r = make_root(v, cfg->host_root);
  if (r == 0)
    r = make_mounts(v, cfg);
  if (r == 0 && cfg->exe_path)
    r = vfs_set_exe(v, cfg->exe_path);
  if (r < 0) {
    vfs_destroy(v);
    return r;
  }
  v->cwd = vnode_ref(v->root);
  *out = v;
  return 0;
}

void vfs_destroy(struct vfs *v) {
  if (!v)
    return;
  vnode_unref(v->cwd);
  for (int i = 0; i < VFS_NMOUNTS; i++)
    vnode_unref(v->mounts[i].root);
  tmpfs_destroy(v->tmp);
  tmpfs_destroy(v->code);
  vnode_unref(v->root);
  free(v->exe_path);
  free(v);
}

int vfs_set_exe(struct vfs *v, const char *guest_path) {
  char *copy = strdup(guest_path);
  if (!copy)
    return -ENOMEM;
  free(v->exe_path);
  v->exe_path = copy;
  return 0;
}

struct vnode *vfs_file_vnode(struct file *f) {
  return f->ops->vnode ? f->ops->vnode(f) : NULL;
}

int vfs_lookup(struct vfs *v, struct vnode *dir, const char *name, struct vnode **out) {
  if (!vnode_is_dir(dir))
    return -ENOTDIR;
  if (dir == v->root)
    for (int i = 0; i < VFS_NMOUNTS; i++)
      if (v->mounts[i].root && !strcmp(name, v->mounts[i].name)) {
        *out = vnode_ref(v->mounts[i].root);
        return 0;
      }
  return dir->ops->lookup ? dir->ops->lookup(dir, name, out) : -ENOENT;
}

int vfs_start(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path,
              struct vnode **out) {
  if (path[0] == '/' || dirfd == AT_FDCWD) {
    *out = vnode_ref(path[0] == '/' ? v->root : v->cwd);
    return 0;
  }
  struct file *f = fds ? fdtable_get(fds, dirfd) : NULL;
  if (!f)
    return -EBADF;
  struct vnode *vn = vfs_file_vnode(f);
  if (!vn || !vnode_is_dir(vn))
    return -ENOTDIR;
  *out = vnode_ref(vn);
  return 0;
}

int vfs_parent(struct vnode *vn, struct vnode **out) {
  if (vn->parent)
    *out = vnode_ref(vn->parent);
  else if (vnode_is_root(vn))
    *out = vnode_ref(vn); /* `..` at the root stays there */
  else
    return -ENOENT; /* a removed directory */
  return 0;
}

/* Makes `vn` (a new reference, consumed) the working directory. */
static int set_cwd(struct vfs *v, struct vnode *vn) {
  if (!vnode_is_dir(vn)) {
    vnode_unref(vn);
    return -ENOTDIR;
  }
  vnode_unref(v->cwd);
  v->cwd = vn;
  return 0;
}

int vfs_chdir(struct vfs *v, const char *path) {
  struct walk_result w;
  int r = walk_path(v, v->cwd, path, WALK_FOLLOW, &w);
  if (r < 0)
    return r;
  r = w.node ? set_cwd(v, vnode_ref(w.node)) : -ENOTDIR;
  walk_result_fini(&w);
  return r;
}

int vfs_fchdir(struct vfs *v, const struct fdtable *fds, int fd) {
  struct file *f = fdtable_get(fds, fd);
  if (!f)
    return -EBADF;
  struct vnode *vn = vfs_file_vnode(f);
  return vn ? set_cwd(v, vnode_ref(vn)) : -ENOTDIR;
}

ssize_t vfs_getcwd(struct vfs *v, char *buf, size_t len) {
  int err;
  char *path = vnode_path(v->cwd, &err);
  if (!path)
    return err;
  size_t n = strlen(path) + 1;
  ssize_t r = n <= len ? (ssize_t)n : -ERANGE;
  if (r > 0)
    memcpy(buf, path, n);
  free(path);
  return r;
}

mode_t vfs_umask(struct vfs *v, mode_t mask) {
  mode_t old = v->umask;
  v->umask = mask & 0777;
  return old;
}
