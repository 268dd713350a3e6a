/* unpack.h - the cache's unpacker: a tar_sink (tarcheck.h) that creates
 * each checked entry inside a fresh private directory, with the modes
 * made read-only and the mtimes of the manifest. Everything is created
 * with *at() calls on the directory of the entry's parent, opened through
 * openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, and never replaces
 * anything (O_EXCL, mkdirat, symlinkat): no entry can reach outside the
 * tree or through a symlink of the image. Directories stay 0700 (so they
 * can be filled and, on failure, removed) until unpack_finish. */
#ifndef HEARTH_IMAGES_UNPACK_H
#define HEARTH_IMAGES_UNPACK_H

#include <stddef.h>

#include "imgerr.h"
#include "manifest.h"
#include "tarcheck.h"

struct unpack {
  int rootfd; /* the tree being made (borrowed) */
  int parentfd;
  size_t parent;                    /* manifest index parentfd belongs to; MANIFEST_NONE: rootfd */
  int filefd;                       /* the file being written, or -1 */
  const struct manifest_entry *cur; /* the entry being made */
  const struct manifest *m;
};

/* Starts unpacking m's entries into the empty directory rootfd. */
void unpack_init(struct unpack *u, int rootfd, const struct manifest *m);

/* The sink to hand tarcheck_stream. */
struct tar_sink unpack_sink(struct unpack *u);

/* After a pass that succeeded: each directory, and the root, gets its
 * read-only mode and its mtime (last, since making entries changes it). */
int unpack_finish(struct unpack *u, struct img_err *err);

/* Closes what is still open (any time). */
void unpack_fini(struct unpack *u);

/* A manifest mode as the cache holds it: no write bits. */
#define UNPACK_MODE(mode) ((mode)&0555u)

#endif
