/* tree.c - entries of a code bundle created under a directory fd without
 * ever following a symlink (tree.h). */
#include "tree.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tree_init(struct tree *t, int root, const struct code_limits *lim, struct code_totals *totals) {
  memset(t, 0, sizeof *t);
  t->root = root;
  t->lim = lim;
  t->totals = totals;
  t->cached_fd = -1;
  t->cached_path = calloc(1, lim->max_path + 1);
  t->component = calloc(1, lim->max_path + 1);
  if (!t->cached_path || !t->component) {
    tree_fini(t);
    return -ENOMEM;
  }
  return 0;
}

void tree_fini(struct tree *t) {
  if (t->cached_fd >= 0)
    close(t->cached_fd);
  t->cached_fd = -1;
  free(t->cached_path);
  free(t->component);
  t->cached_path = t->component = NULL;
}

/* Opens directory name in at without following a symlink. Refusals are
 * told apart (Linux says ENOTDIR for a symlink here, hearth-vmm ELOOP):
 * -ELOOP for a symlink, -ENOTDIR for any other non-directory. */
static int open_dir(int at, const char *name) {
  int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0)
    return fd;
  int err = -errno;
  struct stat st;
  if ((err == -ENOTDIR || err == -ELOOP) && fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR;
  return err;
}

/* Opens (creating when missing, counted) the directory name in at; the
 * caller closes it. A symlink here is -ELOOP, another file -ENOTDIR. */
static int enter_dir(struct tree *t, int at, const char *name) {
  int fd = open_dir(at, name);
  if (fd != -ENOENT)
    return fd;
  int err = code_count_entry(t->lim, t->totals);
  if (err < 0)
    return err;
  if (mkdirat(at, name, 0755) < 0)
    return -errno;
  return open_dir(at, name);
}

/* An fd for the directory dir[0..len) (a prefix of a normal path), walked
 * from the root; owned by the cache, the caller must not close it. */
static int parent_fd(struct tree *t, const char *dir, size_t len) {
  if (len == 0)
    return t->root;
  if (t->cached_fd >= 0 && strlen(t->cached_path) == len && memcmp(t->cached_path, dir, len) == 0)
    return t->cached_fd;
  int cur = t->root;
  size_t pos = 0;
  while (pos < len) {
    size_t n = strcspn(dir + pos, "/");
    if (n > len - pos)
      n = len - pos;
    memcpy(t->component, dir + pos, n);
    t->component[n] = '\0';
    int next = enter_dir(t, cur, t->component);
    if (cur != t->root)
      close(cur);
    if (next < 0)
      return next;
    cur = next;
    pos += n + 1;
  }
  if (t->cached_fd >= 0)
    close(t->cached_fd);
  t->cached_fd = cur;
  memcpy(t->cached_path, dir, len);
  t->cached_path[len] = '\0';
  return cur;
}

/* The parent directory fd of path and its last component. */
static int split(struct tree *t, const char *path, const char **leaf) {
  const char *slash = strrchr(path, '/');
  *leaf = slash ? slash + 1 : path;
  return parent_fd(t, path, slash ? (size_t)(slash - path) : 0);
}

int tree_mkdir(struct tree *t, const char *path, unsigned mode) {
  const char *leaf;
  int at = split(t, path, &leaf);
  if (at < 0)
    return at;
  int fd = open_dir(at, leaf);
  if (fd >= 0) { /* already there (an implicit parent, or listed twice) */
    close(fd);
    return 0;
  }
  if (fd != -ENOENT)
    return fd;
  int err = code_count_entry(t->lim, t->totals);
  if (err < 0)
    return err;
  /* Owner rwx always: later entries are created inside it. */
  return mkdirat(at, leaf, (mode & 0777) | 0700) < 0 ? -errno : 0;
}

int tree_create_file(struct tree *t, const char *path, unsigned mode) {
  const char *leaf;
  int at = split(t, path, &leaf);
  if (at < 0)
    return at;
  int err = code_count_entry(t->lim, t->totals);
  if (err < 0)
    return err;
  int fd = openat(at, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0777);
  return fd < 0 ? -errno : fd;
}

int tree_symlink(struct tree *t, const char *path, const char *target) {
  const char *leaf;
  int at = split(t, path, &leaf);
  if (at < 0)
    return at;
  int err = code_count_entry(t->lim, t->totals);
  if (err < 0)
    return err;
  return symlinkat(target, at, leaf) < 0 ? -errno : 0;
}
