/* snap_vfs.c - the namespace's section (SNAP_SEC_VFS): the working
 * directory as a guest path, the umask, the pipe inode counter, the
 * program's path (/proc/self/exe: no loader runs on restore), and the
 * /tmp and /code trees whole, contents included, so that a restored guest
 * finds the same files with the same stat answers (inode numbers, modes,
 * times) and its open directory listings resume where they were.
 *
 * Layout (little-endian, snapfile.h's encoders):
 *   str cwd, u32 umask, u64 next_pipe_ino, str exe (/proc/self/exe, or
 *   NULL), tree /tmp, tree /code
 *   tree: u64 next_ino, node root, u64 count, count x (u64 parent, node)
 *   node: str name (NULL for the root), u32 mode, u64 ino, u64 cookie,
 *         u64 next_cookie, ts atime, ts mtime, ts ctime,
 *         u64 len, len bytes (a file's data or a link's target)
 * Nodes come in preorder; parent is the index of an earlier directory (0
 * the root, nodes from 1). Loading rebuilds through tmpfs's own creation
 * paths, so the restoring VM's caps bound the tree (-ENOSPC), and the
 * section's own bound (SNAP_SECTION_MAX) bounds every length read. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs/tmpfs.h"
#include "fs/vfs.h"
#include "snapshot/snap_parts.h"
#include "snapshot/snap_ts.h"
#include "vm.h"

/* --- saving --- */

static void put_node(struct snap_buf *b, const struct tmpfs_node_state *n) {
  snap_put_str(b, n->name);
  snap_put_u32(b, (uint32_t)n->mode);
  snap_put_u64(b, n->ino);
  snap_put_u64(b, n->cookie);
  snap_put_u64(b, n->next_cookie);
  snap_put_ts(b, n->atime);
  snap_put_ts(b, n->mtime);
  snap_put_ts(b, n->ctime);
  snap_put_u64(b, n->len);
  if (n->len)
    snap_put_bytes(b, n->data, n->len);
}

/* The node count is not known before the walk: the walk counts, and the
 * count is written into the slot reserved for it. */
struct tree_save {
  struct snap_buf *b;
  uint64_t count;
};

static int save_one(void *ctx, uint64_t parent, const struct tmpfs_node_state *n) {
  struct tree_save *t = ctx;
  snap_put_u64(t->b, parent);
  put_node(t->b, n);
  t->count++;
  return t->b->err;
}

static int save_tree(struct snap_buf *b, struct tmpfs *fs) {
  struct tmpfs_node_state root;
  tmpfs_root_state(fs, &root);
  snap_put_u64(b, tmpfs_next_ino(fs));
  put_node(b, &root);
  size_t count_at = b->len;
  snap_put_u64(b, 0);
  if (b->err)
    return b->err;
  struct tree_save t = {.b = b};
  int r = tmpfs_walk(fs, save_one, &t);
  if (r < 0)
    return r;
  for (int i = 0; i < 8; i++) /* the count, little-endian, into its slot */
    b->p[count_at + (size_t)i] = (uint8_t)(t.count >> (8 * i));
  return 0;
}

int snap_save_vfs(const struct vm *vm, struct snap_buf *b) {
  struct vfs *v = vm->vfs;
  char cwd[PATH_MAX];
  ssize_t n = vfs_getcwd(v, cwd, sizeof cwd);
  if (n < 0)
    return n == -ENOENT ? -EOPNOTSUPP : (int)n; /* a removed working directory */
  mode_t mask = vfs_umask(v, 0);                /* read by setting it, then set back */
  vfs_umask(v, mask);
  snap_put_str(b, cwd);
  snap_put_u32(b, (uint32_t)mask);
  snap_put_u64(b, vfs_next_pipe_ino(v));
  snap_put_str(b, vfs_exe(v));
  int r = save_tree(b, vfs_tmpfs(v, false));
  if (r == 0)
    r = save_tree(b, vfs_tmpfs(v, true));
  return r < 0 ? r : b->err;
}

/* --- loading --- */

/* A node's fields; the name lives in the caller's buffer, the data in the
 * section (borrowed). -EBADMSG in c->err for anything malformed. */
static void get_node(struct snap_cursor *c, struct tmpfs_node_state *n, char *name, size_t cap) {
  int s = snap_get_str(c, name, cap);
  *n = (struct tmpfs_node_state){.name = s == 1 ? name : NULL};
  n->mode = (mode_t)snap_get_u32(c);
  n->ino = snap_get_u64(c);
  n->cookie = snap_get_u64(c);
  n->next_cookie = snap_get_u64(c);
  n->atime = snap_get_ts(c);
  n->mtime = snap_get_ts(c);
  n->ctime = snap_get_ts(c);
  n->len = snap_get_u64(c);
  if (n->len > c->len) {
    c->err = c->err ? c->err : -EBADMSG;
    n->len = 0;
  }
  n->data = n->len ? snap_get_bytes(c, n->len) : NULL;
}

/* The directories made so far, by preorder index (0 the root): grown as
 * nodes are made, so bounded by what the caps let in. */
struct node_index {
  struct vnode **v;
  bool *dir;
  size_t n, cap;
};

static int index_add(struct node_index *x, struct vnode *vn, bool dir) {
  if (x->n == x->cap) {
    size_t cap = x->cap ? x->cap * 2 : 64;
    struct vnode **v = realloc(x->v, cap * sizeof *v);
    if (v)
      x->v = v;
    bool *d = v ? realloc(x->dir, cap * sizeof *d) : NULL;
    if (!d)
      return -ENOMEM;
    x->dir = d;
    x->cap = cap;
  }
  x->v[x->n] = vn;
  x->dir[x->n++] = dir;
  return 0;
}

static int load_nodes(struct snap_cursor *c, struct tmpfs *fs, struct node_index *x,
                      uint64_t count) {
  char name[NAME_MAX + 2];
  for (uint64_t i = 0; i < count; i++) {
    uint64_t parent = snap_get_u64(c);
    struct tmpfs_node_state n;
    get_node(c, &n, name, sizeof name);
    if (c->err)
      return c->err;
    if (parent >= x->n || !x->dir[parent])
      return -EBADMSG;
    struct vnode *vn;
    int r = tmpfs_restore_node(fs, x->v[parent], &n, &vn);
    if (r == 0)
      r = index_add(x, vn, S_ISDIR(n.mode));
    if (r < 0)
      return r == -EINVAL ? -EBADMSG : r;
  }
  return 0;
}

static int load_tree(struct snap_cursor *c, struct tmpfs *fs) {
  if (tmpfs_entries_used(fs) != 0)
    return -EEXIST; /* only into the empty tree of a VM being restored */
  uint64_t next_ino = snap_get_u64(c);
  struct tmpfs_node_state root;
  char name[2];
  get_node(c, &root, name, sizeof name);
  uint64_t count = snap_get_u64(c);
  if (c->err)
    return c->err;
  if (root.name || root.len || tmpfs_restore_root(fs, &root, next_ino) < 0)
    return -EBADMSG;
  struct node_index x = {0};
  int r = index_add(&x, tmpfs_root(fs), true);
  if (r == 0)
    r = load_nodes(c, fs, &x, count);
  free(x.v);
  free(x.dir);
  return r;
}

int snap_load_vfs(struct vm *vm, struct snap_cursor *c) {
  struct vfs *v = vm->vfs;
  char cwd[PATH_MAX];
  int s = snap_get_str(c, cwd, sizeof cwd);
  uint32_t mask = snap_get_u32(c);
  uint64_t next_pipe_ino = snap_get_u64(c);
  char exe[PATH_MAX];
  int has_exe = snap_get_str(c, exe, sizeof exe);
  if (c->err)
    return c->err;
  if (s != 1 || cwd[0] != '/' || (mask & ~0777u) || next_pipe_ino == 0)
    return -EBADMSG;
  int r = has_exe == 1 ? vfs_set_exe(v, exe) : 0;
  if (r == 0)
    r = load_tree(c, vfs_tmpfs(v, false));
  if (r == 0)
    r = load_tree(c, vfs_tmpfs(v, true));
  if (r == 0)
    r = snap_cursor_done(c);
  if (r == 0)
    r = vfs_chdir(v, cwd); /* after the trees: it may be in /tmp or /code */
  if (r < 0)
    return r;
  vfs_umask(v, mask);
  vfs_set_next_pipe_ino(v, next_pipe_ino);
  return 0;
}
