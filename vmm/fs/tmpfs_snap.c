/* tmpfs_snap.c - a tmpfs tree as plain values for a snapshot, and the
 * rebuilding of one (see tmpfs.h). Rebuilding goes through the same vnode
 * ops as the guest's own creations, so the caps and name checks apply to a
 * snapshot's tree exactly as they did to the guest; only the inode numbers,
 * getdents cookies, times and permissions are then set to the saved ones. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "tmpfs_impl.h"

static void node_state(struct tmpfs_node *n, struct tmpfs_node_state *out) {
  *out = (struct tmpfs_node_state){.name = n->vn.name,
                                   .mode = n->vn.type | n->perm,
                                   .ino = n->ino,
                                   .cookie = n->dirent ? n->dirent->cookie : 0,
                                   .atime = n->atime,
                                   .mtime = n->mtime,
                                   .ctime = n->ctime};
  if (S_ISDIR(n->vn.type)) {
    out->next_cookie = n->dir.next_cookie;
  } else if (S_ISLNK(n->vn.type)) {
    out->data = n->link.target;
    out->len = n->link.len;
  } else {
    out->data = n->file.data;
    out->len = n->file.size;
  }
}

void tmpfs_root_state(struct tmpfs *fs, struct tmpfs_node_state *out) {
  node_state(fs->root, out);
  out->name = NULL;
}

uint64_t tmpfs_next_ino(const struct tmpfs *fs) { return fs->next_ino; }

/* The preorder indices of the directories from the root down to the one
 * being listed: a stack grown as the walk descends. */
struct index_stack {
  uint64_t *v;
  size_t n, cap;
};

static int push(struct index_stack *s, uint64_t index) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 32;
    uint64_t *v = realloc(s->v, cap * sizeof *v);
    if (!v)
      return -ENOMEM;
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n++] = index;
  return 0;
}

/* The entry after e in preorder once e's subtree is done: its next
 * sibling, or the next sibling of the nearest ancestor that has one
 * (popping a directory index per level climbed). */
static struct tmpfs_dirent *after_subtree(struct tmpfs *fs, struct tmpfs_dirent *e,
                                          struct index_stack *s) {
  while (e && !e->next) {
    struct tmpfs_node *dir = tmpfs_node(e->node->vn.parent);
    s->n--;
    e = dir == fs->root ? NULL : dir->dirent;
  }
  return e ? e->next : NULL;
}

int tmpfs_walk(struct tmpfs *fs, tmpfs_visit_fn *fn, void *ctx) {
  struct index_stack s = {0};
  uint64_t index = 0;
  int r = push(&s, 0);
  struct tmpfs_dirent *e = fs->root->dir.head;
  while (r == 0 && e) {
    struct tmpfs_node_state st;
    node_state(e->node, &st);
    r = fn(ctx, s.v[s.n - 1], &st);
    index++;
    if (r != 0)
      break;
    if (S_ISDIR(e->node->vn.type) && e->node->dir.head) {
      r = push(&s, index);
      e = e->node->dir.head;
    } else {
      e = after_subtree(fs, e, &s);
    }
  }
  free(s.v);
  return r;
}

static void set_meta(struct tmpfs_node *n, const struct tmpfs_node_state *st) {
  n->ino = st->ino;
  n->perm = st->mode & 07777;
  n->atime = st->atime;
  n->mtime = st->mtime;
  n->ctime = st->ctime;
  if (S_ISDIR(n->vn.type) && st->next_cookie > n->dir.next_cookie)
    n->dir.next_cookie = st->next_cookie;
}

int tmpfs_restore_root(struct tmpfs *fs, const struct tmpfs_node_state *root, uint64_t next_ino) {
  if (!S_ISDIR(root->mode) || root->ino == 0 || next_ino < 2 || next_ino <= root->ino ||
      root->next_cookie < TMPFS_FIRST_COOKIE)
    return -EINVAL;
  fs->next_ino = next_ino;
  set_meta(fs->root, root);
  return 0;
}

static bool plain_name(const char *name) {
  return name[0] && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

/* A link's target as the symlink op takes it: NUL-terminated, non-empty,
 * shorter than PATH_MAX, with no NUL inside. */
static int link_target(const struct tmpfs_node_state *n, char *buf, size_t cap) {
  if (n->len == 0 || n->len >= cap || memchr(n->data, '\0', n->len))
    return -EINVAL;
  memcpy(buf, n->data, n->len);
  buf[n->len] = '\0';
  return 0;
}

/* Creates the node through the ordinary ops (caps, -EEXIST); borrowed. */
static int create(struct vnode *dir, const struct tmpfs_node_state *n, struct tmpfs_node **out) {
  struct vnode *vn = NULL;
  char target[PATH_MAX];
  int r;
  if (S_ISDIR(n->mode)) {
    r = dir->ops->mkdir(dir, n->name, n->mode & 07777);
  } else if (S_ISLNK(n->mode)) {
    r = link_target(n, target, sizeof target);
    if (r == 0)
      r = dir->ops->symlink(dir, n->name, target);
  } else {
    r = dir->ops->create(dir, n->name, n->mode & 07777, &vn);
  }
  if (r == 0 && !vn)
    r = dir->ops->lookup(dir, n->name, &vn);
  if (r < 0)
    return r;
  *out = tmpfs_node(vn);
  vnode_unref(vn); /* the directory entry keeps it */
  return 0;
}

/* A file's bytes (-ENOSPC past the byte cap, as a write would be). */
static int set_content(struct tmpfs_node *n, const struct tmpfs_node_state *st) {
  if (!S_ISREG(n->vn.type) || st->len == 0)
    return 0;
  if (st->len > n->fs->cfg.max_bytes)
    return -ENOSPC;
  int r = tmpfs_resize(n, st->len);
  if (r == 0)
    memcpy(n->file.data, st->data, st->len);
  return r;
}

static int check_node(struct tmpfs *fs, struct vnode *dir, const struct tmpfs_node_state *n) {
  mode_t type = n->mode & S_IFMT;
  if (dir->fs != FS_TMP || tmpfs_node(dir)->fs != fs || !S_ISDIR(dir->type))
    return -EINVAL;
  if (type != S_IFDIR && type != S_IFREG && type != S_IFLNK)
    return -EINVAL;
  if (!n->name || !plain_name(n->name) || strlen(n->name) > NAME_MAX)
    return -EINVAL;
  if (n->ino == 0 || n->ino >= fs->next_ino)
    return -EINVAL;
  struct tmpfs_dirent *tail = tmpfs_node(dir)->dir.tail;
  uint64_t last = tail ? tail->cookie : TMPFS_FIRST_COOKIE - 1;
  if (n->cookie <= last || n->cookie >= (1ull << 62))
    return -EINVAL; /* listing order is cookie order */
  if (type == S_IFDIR && n->next_cookie < TMPFS_FIRST_COOKIE)
    return -EINVAL;
  return 0;
}

int tmpfs_restore_node(struct tmpfs *fs, struct vnode *dir, const struct tmpfs_node_state *n,
                       struct vnode **out) {
  int r = check_node(fs, dir, n);
  if (r < 0)
    return r;
  struct tmpfs_node *parent = tmpfs_node(dir), *node;
  /* Adding an entry touches the directory: its saved times stay. */
  struct timespec mtime = parent->mtime, ctime = parent->ctime;
  uint64_t next_ino = fs->next_ino;
  r = create(dir, n, &node);
  fs->next_ino = next_ino; /* creating took one; the saved inode is set below */
  if (r == 0)
    r = set_content(node, n); /* on failure the node stays: the caller drops the tree */
  if (r < 0)
    return r;
  node->dirent->cookie = n->cookie;
  if (parent->dir.next_cookie <= n->cookie)
    parent->dir.next_cookie = n->cookie + 1;
  parent->mtime = mtime;
  parent->ctime = ctime;
  set_meta(node, n);
  *out = &node->vn;
  return 0;
}
