/* workdir.h - the benchmark's private temporary directory: hearth's root
 * for the hello (holding only /hello), hearth-vmm's stats file, runsc's
 * state and temporary directories, and the warm sandbox's bundle and stdio
 * file, all removed at the end. */
#ifndef HEARTH_BENCH_WORKDIR_H
#define HEARTH_BENCH_WORKDIR_H

#include <limits.h>

struct workdir {
  char path[PATH_MAX];          /* $TMPDIR/hearth-bench.XXXXXX */
  char root[PATH_MAX];          /* hearth-vmm --root: holds only hello */
  char hello[PATH_MAX];         /* root/hello, the copy every kind runs */
  char stats[PATH_MAX];         /* hearth-vmm --stats FILE */
  char runsc_root[PATH_MAX];    /* runsc --root: its container state */
  char runsc_tmp[PATH_MAX];     /* runsc's TMPDIR: `runsc do` makes its bundle there */
  char bundle[PATH_MAX];        /* the warm sandbox's OCI bundle (config.json) */
  char sandbox_stdio[PATH_MAX]; /* the warm sandbox's stdin, stdout and stderr */
};

/* Creates the directory tree and copies hello_src into it (mode 0755).
 * Returns 0 or a negative errno (-ENAMETOOLONG for an overlong $TMPDIR);
 * on failure nothing is left behind. */
int workdir_create(struct workdir *w, const char *hello_src);

/* The parent's environment with TMPDIR pointing at runsc_tmp, so that
 * `runsc do` leaves its bundle there; the same for every kind. NULL when out
 * of memory. Free with workdir_env_free. */
char **workdir_env(const struct workdir *w);
void workdir_env_free(char **env);

/* Removes the whole tree (without following symlinks). Returns 0 or the
 * first negative errno met. */
int workdir_remove(const struct workdir *w);

#endif
