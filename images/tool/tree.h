/* tree.h - the staged tree listed: every directory, file and symlink under
 * a directory descriptor (not the directory itself), by relative path in
 * byte order, which is the manifest's and rootfs.tar's order (a parent
 * sorts before its children). At most MANIFEST_MAX_ENTRIES entries and
 * MANIFEST_MAX_DEPTH levels; anything but a directory, regular file or
 * symlink is refused. */
#ifndef HEARTH_IMAGES_TOOL_TREE_H
#define HEARTH_IMAGES_TOOL_TREE_H

#include <stddef.h>

#include "lib/imgerr.h"
#include "lib/manifest.h"

struct tree_node {
  char *path;
  enum manifest_type type;
};

struct tree {
  struct tree_node *v;
  size_t n, cap;
};

int tree_scan(int rootfd, struct tree *out, struct img_err *err);
void tree_free(struct tree *t);

#endif
