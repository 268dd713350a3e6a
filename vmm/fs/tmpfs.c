/* tmpfs.c - the tree of the in-memory filesystem: nodes, directory entries,
 * the caps, and the vnode ops (lookup, create, mkdir, symlink, readlink,
 * unlink, rename). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmpfs_impl.h"

#define TMPFS_DIR_ENTRY_SIZE 20 /* Linux's tmpfs reports 20 bytes per entry as a dir's size */

static const struct vnode_ops tmpfs_ops;

static void now(struct timespec *ts) { clock_gettime(CLOCK_REALTIME, ts); }

void tmpfs_touch(struct tmpfs_node *n) {
  now(&n->mtime);
  n->ctime = n->mtime;
}

static void tmpfs_free(struct tmpfs *fs) { free(fs); }

/* A new detached node (one reference, which the caller gives to an entry or
 * drops), or -ENOSPC when the entry cap is reached. */
static int node_new(struct tmpfs *fs, struct vnode *parent, const char *name, mode_t mode,
                    bool counted, struct tmpfs_node **out) {
  if (counted && fs->entries >= fs->cfg.max_entries)
    return -ENOSPC;
  struct tmpfs_node *n = calloc(1, sizeof *n);
  if (!n)
    return -ENOMEM;
  int r = vnode_init(&n->vn, &tmpfs_ops, mode, FS_TMP, parent, name);
  if (r < 0) {
    free(n);
    return r;
  }
  n->fs = fs;
  n->ino = fs->next_ino++;
  n->perm = mode & 07777;
  if (S_ISDIR(mode))
    n->dir.next_cookie = TMPFS_FIRST_COOKIE;
  now(&n->atime);
  n->mtime = n->ctime = n->atime;
  fs->entries += counted;
  fs->nodes_alive++;
  *out = n;
  return 0;
}

static void tmpfs_release(struct vnode *vn) {
  struct tmpfs_node *n = tmpfs_node(vn);
  struct tmpfs *fs = n->fs;
  if (S_ISREG(vn->type)) {
    fs->bytes -= n->file.size;
    free(n->file.data);
  } else if (S_ISLNK(vn->type)) {
    fs->bytes -= n->link.len;
    free(n->link.target);
  }
  if (n != fs->root)
    fs->entries--;
  free(n);
  if (--fs->nodes_alive == 0 && fs->destroyed)
    tmpfs_free(fs);
}

int tmpfs_create(const struct tmpfs_config *cfg, struct vnode *parent, const char *name,
                 struct tmpfs **out) {
  struct tmpfs *fs = calloc(1, sizeof *fs);
  if (!fs)
    return -ENOMEM;
  fs->cfg = *cfg;
  fs->next_ino = 1; /* the root is inode 1, as on Linux */
  int r = node_new(fs, parent, name, S_IFDIR | (cfg->mode & 07777), false, &fs->root);
  if (r < 0) {
    free(fs);
    return r;
  }
  *out = fs;
  return 0;
}

struct vnode *tmpfs_root(struct tmpfs *fs) {
  return &fs->root->vn;
}
uint64_t tmpfs_bytes_used(const struct tmpfs *fs) { return fs->bytes; }
uint64_t tmpfs_entries_used(const struct tmpfs *fs) { return fs->entries; }

static struct tmpfs_dirent *dir_find(struct tmpfs_node *dir, const char *name) {
  for (struct tmpfs_dirent *e = dir->dir.head; e; e = e->next)
    if (!strcmp(e->node->vn.name, name))
      return e;
  return NULL;
}

/* Links e at the end of dir with a fresh cookie (readdir order). */
static void dir_link(struct tmpfs_node *dir, struct tmpfs_dirent *e) {
  e->cookie = dir->dir.next_cookie++;
  e->next = NULL;
  e->prev = dir->dir.tail;
  if (dir->dir.tail)
    dir->dir.tail->next = e;
  else
    dir->dir.head = e;
  dir->dir.tail = e;
  dir->dir.count++;
  dir->dir.subdirs += S_ISDIR(e->node->vn.type);
  tmpfs_touch(dir);
}

static void dir_unlink(struct tmpfs_node *dir, struct tmpfs_dirent *e) {
  if (e->prev)
    e->prev->next = e->next;
  else
    dir->dir.head = e->next;
  if (e->next)
    e->next->prev = e->prev;
  else
    dir->dir.tail = e->prev;
  dir->dir.count--;
  dir->dir.subdirs -= S_ISDIR(e->node->vn.type);
  tmpfs_touch(dir);
}

/* Removes e's node from dir for good: drops the entry's reference and the
 * node's reference on dir. */
static void dir_remove(struct tmpfs_node *dir, struct tmpfs_dirent *e) {
  struct tmpfs_node *n = e->node;
  dir_unlink(dir, e);
  free(e);
  n->dirent = NULL;
  now(&n->ctime);
  vnode_move(&n->vn, NULL, NULL); /* cannot fail without a name */
  vnode_unref(&n->vn);
}

static int tmpfs_lookup(struct vnode *dir, const char *name, struct vnode **out) {
  struct tmpfs_dirent *e = dir_find(tmpfs_node(dir), name);
  if (!e)
    return -ENOENT;
  *out = vnode_ref(&e->node->vn);
  return 0;
}

static bool removed(struct tmpfs_node *n) { return !n->vn.parent; }

/* Adds a new node of `mode` named `name` to dir; *out borrowed. */
static int dir_add(struct vnode *dirvn, const char *name, mode_t mode, struct tmpfs_node **out) {
  struct tmpfs_node *dir = tmpfs_node(dirvn);
  if (removed(dir))
    return -ENOENT;
  if (dir_find(dir, name))
    return -EEXIST;
  struct tmpfs_dirent *e = calloc(1, sizeof *e);
  if (!e)
    return -ENOMEM;
  int r = node_new(dir->fs, dirvn, name, mode, true, &e->node);
  if (r < 0) {
    free(e);
    return r;
  }
  e->node->dirent = e;
  dir_link(dir, e);
  *out = e->node;
  return 0;
}

static int tmpfs_create_op(struct vnode *dir, const char *name, mode_t mode, struct vnode **out) {
  struct tmpfs_node *n;
  int r = dir_add(dir, name, S_IFREG | (mode & 07777), &n);
  if (r == 0)
    *out = vnode_ref(&n->vn);
  return r;
}

static int tmpfs_mkdir(struct vnode *dir, const char *name, mode_t mode) {
  struct tmpfs_node *n;
  return dir_add(dir, name, S_IFDIR | (mode & 07777), &n);
}

/* The target is kept as given, resolved only when a walk follows it; its
 * bytes count against the byte cap so links cannot hold unbounded memory. */
static int tmpfs_symlink(struct vnode *dirvn, const char *name, const char *target) {
  struct tmpfs_node *dir = tmpfs_node(dirvn), *n;
  struct tmpfs *fs = dir->fs;
  size_t len = strlen(target);
  if (removed(dir))
    return -ENOENT;
  if (dir_find(dir, name))
    return -EEXIST;
  if (len > fs->cfg.max_bytes - fs->bytes)
    return -ENOSPC;
  char *copy = malloc(len);
  if (!copy)
    return -ENOMEM;
  memcpy(copy, target, len);
  int r = dir_add(dirvn, name, S_IFLNK | 0777, &n);
  if (r < 0) {
    free(copy);
    return r;
  }
  n->link.target = copy;
  n->link.len = len;
  fs->bytes += len;
  return 0;
}

static ssize_t tmpfs_readlink(struct vnode *vn, char *buf, size_t len) {
  struct tmpfs_node *n = tmpfs_node(vn);
  if (!S_ISLNK(vn->type))
    return -EINVAL;
  size_t k = n->link.len < len ? n->link.len : len;
  memcpy(buf, n->link.target, k);
  return (ssize_t)k;
}

static int tmpfs_unlink(struct vnode *dirvn, const char *name, bool rmdir) {
  struct tmpfs_node *dir = tmpfs_node(dirvn);
  struct tmpfs_dirent *e = dir_find(dir, name);
  if (!e)
    return -ENOENT;
  struct tmpfs_node *n = e->node;
  if (rmdir && !S_ISDIR(n->vn.type))
    return -ENOTDIR;
  if (!rmdir && S_ISDIR(n->vn.type))
    return -EISDIR;
  if (rmdir && n->dir.count > 0)
    return -ENOTEMPTY;
  dir_remove(dir, e);
  return 0;
}

/* True when `dir` is `n` or lies below it (a directory moved into itself). */
static bool inside(struct vnode *dir, struct vnode *n) {
  for (; dir; dir = dir->parent)
    if (dir == n)
      return true;
  return false;
}

/* What Linux answers for replacing `to` with `from`, or 0. */
static int replace_check(struct tmpfs_node *from, struct tmpfs_node *to) {
  bool from_dir = S_ISDIR(from->vn.type), to_dir = S_ISDIR(to->vn.type);
  if (from_dir && !to_dir)
    return -ENOTDIR;
  if (!from_dir && to_dir)
    return -EISDIR;
  if (to_dir && to->dir.count > 0)
    return -ENOTEMPTY;
  return 0;
}

static int tmpfs_rename(struct vnode *odirvn, const char *oname, struct vnode *ndirvn,
                        const char *nname, unsigned flags) {
  struct tmpfs_node *odir = tmpfs_node(odirvn), *ndir = tmpfs_node(ndirvn);
  if (odir->fs != ndir->fs)
    return -EXDEV; /* a node cannot move between two instances' caps */
  struct tmpfs_dirent *oe = dir_find(odir, oname);
  if (!oe)
    return -ENOENT;
  if (removed(ndir))
    return -ENOENT;
  struct tmpfs_dirent *ne = dir_find(ndir, nname);
  if (ne && (flags & RENAME_NOREPLACE))
    return -EEXIST;
  if (ne == oe)
    return 0;
  struct tmpfs_node *n = oe->node;
  if (S_ISDIR(n->vn.type) && inside(ndirvn, &n->vn))
    return -EINVAL;
  int r = ne ? replace_check(n, ne->node) : 0;
  if (r == 0)
    r = vnode_move(&n->vn, ndirvn, nname); /* the only step that can fail */
  if (r < 0)
    return r;
  if (ne)
    dir_remove(ndir, ne);
  dir_unlink(odir, oe);
  dir_link(ndir, oe);
  now(&n->ctime);
  return 0;
}

int tmpfs_node_stat(struct tmpfs_node *n, struct stat *st) {
  memset(st, 0, sizeof *st);
  st->st_dev = n->fs->cfg.dev;
  st->st_ino = n->ino;
  st->st_mode = n->vn.type | n->perm;
  st->st_uid = n->fs->cfg.uid;
  st->st_gid = n->fs->cfg.gid;
  st->st_blksize = 4096;
  if (S_ISDIR(n->vn.type)) {
    st->st_nlink = removed(n) ? 0 : 2 + n->dir.subdirs;
    st->st_size = (off_t)(n->dir.count + 2) * TMPFS_DIR_ENTRY_SIZE;
  } else if (S_ISLNK(n->vn.type)) {
    st->st_nlink = removed(n) ? 0 : 1;
    st->st_size = (off_t)n->link.len;
  } else {
    st->st_nlink = removed(n) ? 0 : 1;
    st->st_size = (off_t)n->file.size;
    st->st_blocks = (blkcnt_t)((n->file.size + 4095) / 4096 * 8);
  }
  st->st_atim = n->atime;
  st->st_mtim = n->mtime;
  st->st_ctim = n->ctime;
  return 0;
}

static int tmpfs_stat(struct vnode *vn, struct stat *st) {
  return tmpfs_node_stat(tmpfs_node(vn), st);
}

/* The guest owns everything in its tmpfs: root passes read and write checks
 * and needs some execute bit; anyone else goes by the owner bits. */
static int tmpfs_access(struct vnode *vn, int mode) {
  struct tmpfs_node *n = tmpfs_node(vn);
  bool any_x = S_ISDIR(vn->type) || (n->perm & 0111);
  if (n->fs->cfg.uid == 0)
    return (mode & X_OK) && !any_x ? -EACCES : 0;
  if (((mode & R_OK) && !(n->perm & S_IRUSR)) || ((mode & W_OK) && !(n->perm & S_IWUSR)) ||
      ((mode & X_OK) && !(n->perm & S_IXUSR)))
    return -EACCES;
  return 0;
}

static int tmpfs_open(struct vnode *vn, int flags, struct file **out) {
  struct tmpfs_node *n = tmpfs_node(vn);
  if (S_ISDIR(vn->type))
    return tmpfs_open_dir(n, flags, out);
  if (S_ISLNK(vn->type))
    return -ELOOP; /* never reached: opening goes through the link or stops */
  if ((flags & O_TRUNC) && n->file.size > 0) {
    int r = tmpfs_resize(n, 0);
    if (r < 0)
      return r;
  }
  return tmpfs_open_file(n, flags, out);
}

/* Frees the whole tree below the root, deepest entries first, without
 * recursion (directories can be nested as deep as the entry cap allows). */
static void remove_all(struct tmpfs_node *root) {
  struct tmpfs_node *dir = root;
  while (dir) {
    struct tmpfs_dirent *e = dir->dir.head;
    if (e && S_ISDIR(e->node->vn.type) && e->node->dir.count > 0) {
      dir = e->node; /* descend first */
    } else if (e) {
      dir_remove(dir, e);
    } else {
      struct vnode *up = dir->vn.parent;
      dir = dir == root ? NULL : tmpfs_node(up);
    }
  }
}

void tmpfs_destroy(struct tmpfs *fs) {
  if (!fs)
    return;
  remove_all(fs->root);
  fs->destroyed = true;
  fs->nodes_alive++; /* keep fs while dropping the root */
  vnode_unref(&fs->root->vn);
  if (--fs->nodes_alive == 0)
    tmpfs_free(fs);
}

static const struct vnode_ops tmpfs_ops = {
    .lookup = tmpfs_lookup,
    .stat = tmpfs_stat,
    .open = tmpfs_open,
    .access = tmpfs_access,
    .create = tmpfs_create_op,
    .mkdir = tmpfs_mkdir,
    .symlink = tmpfs_symlink,
    .readlink = tmpfs_readlink,
    .unlink = tmpfs_unlink,
    .rename = tmpfs_rename,
    .release = tmpfs_release,
};
