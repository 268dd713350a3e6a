/* walk.h - path resolution inside the guest's namespace, one component at a
 * time from a vnode: `..` follows parent links and stays at the root; a
 * symlink's target is spliced in front of what is left of the path (an
 * absolute one restarting at the guest root, which may lead into a mount),
 * at most WALK_MAX_LINKS of them (-ELOOP). Components longer than NAME_MAX
 * are -ENAMETOOLONG, as are paths of PATH_MAX bytes or more. Nothing in a
 * path ever reaches the host as more than one plain name (see hostfs.h). */
#ifndef HEARTH_VMM_FS_WALK_H
#define HEARTH_VMM_FS_WALK_H

#include <limits.h>
#include <stdbool.h>

struct vfs;
struct vnode;
struct file;

#define WALK_MAX_LINKS 40 /* Linux's MAXSYMLINKS */

#define WALK_FOLLOW 1u /* follow a symlink in the last component */
#define WALK_CREATE 2u /* a missing last component is no error: node NULL */

/* What the last component was: a name, ".", "..", or none ("/"). */
enum walk_last { WALK_LAST_NAME, WALK_LAST_DOT, WALK_LAST_DOTDOT, WALK_LAST_ROOT };

struct walk_result {
  enum walk_last last;
  struct vnode *parent;    /* WALK_LAST_NAME: the directory holding `name` */
  struct vnode *node;      /* what the path names; NULL when missing or `desc` */
  struct file *desc;       /* a /proc/self/fd link to a description with no
                              place in the namespace (pipe, stdio) */
  char name[NAME_MAX + 1]; /* WALK_LAST_NAME: the last component */
  bool trailing_slash;     /* then `node` must be a directory */
};

/* Resolves `path` (absolute, or relative to `start`). On success the
 * result holds references the caller drops with walk_result_fini. */
int walk_path(struct vfs *v, struct vnode *start, const char *path, unsigned flags,
              struct walk_result *out);
void walk_result_fini(struct walk_result *r);

#endif
