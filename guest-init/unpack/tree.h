/* tree.h - creates a code bundle's entries under a directory fd, never
 * following a symlink and never replacing an existing entry: parents are
 * walked one component at a time with openat(O_DIRECTORY|O_NOFOLLOW) and
 * created as needed; leaves are created with O_EXCL / mkdirat / symlinkat.
 * Every entry it creates, implicit parent directories included, is counted
 * against the limits. Paths given here are code_path_check's normal form. */
#ifndef HEARTH_UNPACK_TREE_H
#define HEARTH_UNPACK_TREE_H

#include <stddef.h>

#include "codelimits.h"

struct tree {
  int root; /* borrowed */
  const struct code_limits *lim;
  struct code_totals *totals;
  /* The last parent directory walked to, kept open: archives list a
   * directory's entries together, so most entries reuse it. */
  char *cached_path;
  int cached_fd;
  char *component; /* scratch, max_path + 1 bytes */
};

/* 0 or -ENOMEM. lim and totals must outlive t. */
int tree_init(struct tree *t, int root, const struct code_limits *lim, struct code_totals *totals);
void tree_fini(struct tree *t);

/* Creates directory path (and missing parents); an existing directory is
 * fine (and not counted again). 0 or -errno. */
int tree_mkdir(struct tree *t, const char *path, unsigned mode);

/* Creates regular file path for writing: an fd (O_CLOEXEC) or -errno
 * (-EEXIST when something is there already). */
int tree_create_file(struct tree *t, const char *path, unsigned mode);

/* Creates symlink path -> target (checked by the caller). 0 or -errno. */
int tree_symlink(struct tree *t, const char *path, const char *target);

#endif
