/* workdir.h - the benchmark's private temporary directory: hearth's root
 * (holding only /hello), hearth-vmm's stats file, and runsc's state and
 * temporary directories, all removed at the end. */
#ifndef HEARTH_BENCH_WORKDIR_H
#define HEARTH_BENCH_WORKDIR_H

#include <limits.h>

struct workdir {
  char path[PATH_MAX];       /* $TMPDIR/hearth-bench.XXXXXX */
  char root[PATH_MAX];       /* hearth-vmm --root: holds only hello */
  char hello[PATH_MAX];      /* root/hello, the copy every kind runs */
  char stats[PATH_MAX];      /* hearth-vmm --stats FILE */
  char runsc_root[PATH_MAX]; /* runsc --root: its container state */
  char runsc_tmp[PATH_MAX];  /* runsc's TMPDIR: `runsc do` makes its bundle there */
};

/* Creates the directory tree and copies hello_src into it (mode 0755).
 * Returns 0 or a negative errno (-ENAMETOOLONG for an overlong $TMPDIR);
 * on failure nothing is left behind. */
int workdir_create(struct workdir *w, const char *hello_src);

/* Removes the whole tree (without following symlinks). Returns 0 or the
 * first negative errno met. */
int workdir_remove(const struct workdir *w);

#endif
