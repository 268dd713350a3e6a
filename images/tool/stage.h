/* stage.h - the staging tree of an image build: a private directory that
 * becomes the guest's "/", filled from host files (with their symlink
 * chains), inline contents and symlinks, then compiled (.pyc) and packed.
 * Guest paths are absolute ("/usr/bin/python3.11"); the merged-/usr
 * directories (/bin, /sbin, /lib, /lib64) are symlinks into /usr, so a path
 * under one is staged under /usr. Host files land at the path they have
 * on the host once their directory's symlinks are resolved (realpath of
 * the directory), which is where the guest's dynamic loader and
 * interpreter look for them. Nothing is ever staged through a symlink:
 * each directory component is opened with O_NOFOLLOW, and a path that runs
 * into a symlink or a file is refused. Every file keeps its host mtime
 * (whole seconds); what the build makes itself gets `stamp`. */
#ifndef HEARTH_IMAGES_TOOL_STAGE_H
#define HEARTH_IMAGES_TOOL_STAGE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/imgerr.h"

#define STAGE_MAX_CHAIN 40 /* symlinks followed for one host path, as Linux */

struct stage {
  int rootfd;
  char path[PATH_MAX]; /* host path of the staging root */
  int64_t newest;      /* newest mtime of the host files copied so far */
  size_t files, bytes; /* copied so far, for the report */
};

/* Creates `<dir>/stage` (dir is the build's private directory). */
int stage_open(struct stage *s, const char *dir, struct img_err *err);
void stage_close(struct stage *s);

/* The staged form of a guest path: relative, "." and empty components
 * dropped, ".." refused, a merged-/usr first component moved under usr/. */
int stage_guest_path(const char *guest, char *out, size_t cap, struct img_err *err);

/* What to do when a path is staged already. */
enum stage_dup { STAGE_DUP_KEEP, STAGE_DUP_FAIL };

/* The directory `rel` (staged form) and its parents, mode 0755. */
int stage_mkdirs(struct stage *s, const char *rel, struct img_err *err);

/* Host file `src` (followed if a symlink) as `rel`, with `mode` and its
 * host mtime. */
int stage_copy(struct stage *s, const char *src, const char *rel, mode_t mode, enum stage_dup dup,
               struct img_err *err);

/* data[0, len) as `rel`, with `mode` and mtime `stamp`. */
int stage_put(struct stage *s, const char *rel, const void *data, size_t len, mode_t mode,
              int64_t stamp, struct img_err *err);

/* A symlink `rel` -> target with mtime `stamp`; one already there with the
 * same target is fine. */
int stage_symlink(struct stage *s, const char *rel, const char *target, int64_t stamp,
                  struct img_err *err);

/* Host path `host` as it is on the host: each symlink of its chain staged
 * as a symlink (mtime from the host), the regular file or directory at its
 * end staged too (a directory empty). *final (cap bytes) receives the
 * staged form of the last path of the chain. Already staged parts are
 * kept. -ENOENT when the host path does not exist. */
int stage_host_path(struct stage *s, const char *host, char *final, size_t cap,
                    struct img_err *err);

/* Host directory `src` copied whole (files, symlinks, directories; host
 * modes and mtimes) to `rel`. */
int stage_copy_tree(struct stage *s, const char *src, const char *rel, struct img_err *err);

/* The staged form of a host path, realpath'ing its directory. */
int stage_host_rel(const char *host, char *out, size_t cap, struct img_err *err);

/* Sets the mtime of staged `rel` (not following a symlink). */
int stage_stamp(struct stage *s, const char *rel, int64_t stamp, struct img_err *err);

#endif
