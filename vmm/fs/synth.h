/* synth.h - synthetic nodes made by the VMM rather than stored anywhere:
 * /dev, /proc, /sys and the empty root used when there is no --root. Each kind
 * supplies its vnode ops (lookup, readlink, follow, open) and, for
 * directories, an enumerator; this file supplies what they share: stat,
 * access, listing, release. */
#ifndef HEARTH_VMM_FS_SYNTH_H
#define HEARTH_VMM_FS_SYNTH_H

#include <stdint.h>
#include <sys/types.h>

#include "vnode.h"

struct vfs;
struct synth_node;

/* One entry of a synthetic directory. */
struct synth_dirent {
  const char *name;
  char namebuf[24]; /* for generated names (descriptor numbers) */
  uint64_t ino;
  unsigned char type; /* DT_* */
};

/* The entry at position >= *cookie: 0 with *cookie set to its position, or
 * -ENOENT when there is none. */
typedef int synth_next_fn(struct synth_node *dir, uint64_t *cookie, struct synth_dirent *out);

struct synth_node {
  struct vnode vn;
  struct vfs *vfs;
  uint64_t ino;
  mode_t perm;
  dev_t dev, rdev;
  int arg;             /* the kind's own: device minor, descriptor number */
  synth_next_fn *next; /* directories */
  const void *data;    /* the kind's own static description (synthfile.h) */
};

struct synth_spec {
  const struct vnode_ops *ops;
  enum vfs_fs_id fs;
  mode_t mode; /* type and permissions */
  uint64_t ino;
  dev_t dev, rdev;
  int arg;
  synth_next_fn *next;
  const void *data;
};

static inline struct synth_node *synth_node(struct vnode *vn) { return (struct synth_node *)vn; }

/* A new synthetic vnode `name` under parent (NULL for a root). */
int synth_new(struct vfs *v, struct vnode *parent, const char *name, const struct synth_spec *spec,
              struct vnode **out);

/* Shared ops. */
int synth_stat(struct vnode *vn, struct stat *st);
int synth_access(struct vnode *vn, int mode);
int synth_open_dir(struct vnode *vn, int flags, struct file **out);
void synth_release(struct vnode *vn);

/* The root when there is no host directory: empty but for the mounts. */
int synth_empty_root(struct vfs *v, struct vnode **out);

/* Mount roots (devfs.c, procfs.c, sysfs.c), named `name` under parent. */
int devfs_root(struct vfs *v, struct vnode *parent, const char *name, struct vnode **out);
int procfs_root(struct vfs *v, struct vnode *parent, const char *name, struct vnode **out);
int sysfs_root(struct vfs *v, struct vnode *parent, const char *name, struct vnode **out);

#endif
