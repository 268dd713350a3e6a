/* snapstore.h - the snapshots of `hearth run`, kept under
 * <state-dir>/snapshots/: fn-<key>/ (a function snapshot) or image-<key>/
 * (an image snapshot) holds one (hearth-vmm's state.snap and memory.snap). A snapshot is made under
 * an exclusive flock of snapshots/.lock, written into snapshots/.tmp-XXXXXX and renamed to its
 * name, so a reader sees a whole snapshot or none and concurrent first runs make one. The state dir
 * is trusted (README, "Snapshots"): nothing here defends against another user writing in it. */
#ifndef HEARTH_CLI_SNAPSTORE_H
#define HEARTH_CLI_SNAPSTORE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "snapkey.h"

struct snapstore {
  char dir[PATH_MAX];  /* <state-dir>/snapshots (absolute) */
  char name[80];       /* fn-<key> or image-<key> */
  char path[PATH_MAX]; /* dir/name */
  char tmp[PATH_MAX];  /* dir/.tmp-XXXXXX while one is being made; "" else */
  int lock_fd;         /* >= 0 while the lock is held */
};

/* Points s at the snapshot named <prefix><key> under state_dir (made
 * absolute; snapshots/ is created 0700 when missing). 0 or -errno. */
int snapstore_init(struct snapstore *s, const char *state_dir, const char *prefix, const char *key);

/* The snapshot's directory inode, or 0 when there is none. */
ino_t snapstore_find(const struct snapstore *s);

/* Takes the exclusive lock (blocking; -EINTR when a signal came). */
int snapstore_lock(struct snapstore *s);

void snapstore_unlock(struct snapstore *s);

/* Under the lock: removes the snapshot if it is still the directory with
 * inode ino (one that failed to restore; a concurrent run may have rebuilt
 * it since). 0 or -errno. */
int snapstore_discard(struct snapstore *s, ino_t ino);

/* Under the lock: makes s->tmp, the empty directory a snapshot is written
 * into. 0 or -errno. */
int snapstore_begin(struct snapstore *s);

/* Under the lock: renames s->tmp to s->path. 0 or -errno. */
int snapstore_publish(struct snapstore *s);

/* Removes s->tmp if it is there and releases the lock. */
void snapstore_end(struct snapstore *s);

#endif
