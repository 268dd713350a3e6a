/* vfs_snap.c - what a snapshot needs of the namespace (see vfs.h): its
 * tmpfs instances and pipe counter, the guest path of a description, and
 * descriptions reopened from such a path on restore. */
#include <errno.h>
#include <fcntl.h>

#include "kernel/file.h"
#include "pathfile.h"
#include "vfs_impl.h"
#include "walk.h"

struct tmpfs *vfs_tmpfs(struct vfs *v, bool code) {
  return code ? v->code : v->tmp;
}

const char *vfs_exe(const struct vfs *v) { return v->exe_path; }

uint64_t vfs_next_pipe_ino(const struct vfs *v) { return v->next_pipe_ino; }

void vfs_set_next_pipe_ino(struct vfs *v, uint64_t ino) { v->next_pipe_ino = ino; }

char *vfs_file_guest_path(struct file *f, int *err) {
  struct vnode *vn = vfs_file_vnode(f);
  if (!vn) {
    *err = -ENOENT;
    return NULL;
  }
  return vnode_path(vn, err);
}

/* Opens node n as the guest's description was: O_PATH ones as places only,
 * the others through the filesystem's open op (never truncating). */
static int open_as(struct vnode *n, int flags, struct file **out) {
  if (flags & O_PATH)
    return pathfile_open(n, flags & (O_PATH | O_DIRECTORY | O_NOFOLLOW), out);
  if (S_ISLNK(n->type))
    return -ELOOP;
  if (!n->ops->open)
    return -ENXIO;
  int r = n->ops->open(n, flags & ~(O_TRUNC | O_CREAT | O_EXCL), out);
  if (r == 0)
    (*out)->flags = flags;
  return r;
}

int vfs_reopen(struct vfs *v, const char *path, int flags, struct file **out) {
  if (path[0] != '/')
    return -ENOENT; /* canonical paths only */
  struct walk_result w;
  int r = walk_path(v, v->root, path, 0, &w); /* a canonical path has no link to follow */
  if (r < 0)
    return r;
  r = w.node ? open_as(w.node, flags, out) : -ENOENT;
  walk_result_fini(&w);
  return r;
}
