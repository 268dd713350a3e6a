/* snap_tmpdir.h - a fresh directory under TMPDIR for one test, removed with
 * everything in it (a flat directory: the snapshot files only). */
#ifndef HEARTH_TESTS_UNIT_SNAPSHOT_SNAP_TMPDIR_H
#define HEARTH_TESTS_UNIT_SNAPSHOT_SNAP_TMPDIR_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct snap_tmpdir {
  char path[256];
  int fd;
};

static inline int snap_tmpdir_make(struct snap_tmpdir *d) {
  const char *base = getenv("TMPDIR");
  snprintf(d->path, sizeof d->path, "%s/hearth-snap-XXXXXX", base ? base : "/tmp");
  if (!mkdtemp(d->path))
    return -1;
  d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return d->fd < 0 ? -1 : 0;
}

/* Entries in the directory, "." and ".." aside. */
static inline int snap_tmpdir_count(const struct snap_tmpdir *d) {
  DIR *dir = opendir(d->path);
  int n = 0;
  for (struct dirent *e; dir && (e = readdir(dir));)
    n += e->d_name[0] != '.' || (e->d_name[1] && (e->d_name[1] != '.' || e->d_name[2]));
  if (dir)
    closedir(dir);
  return n;
}

static inline void snap_tmpdir_remove(struct snap_tmpdir *d) {
  DIR *dir = opendir(d->path);
  for (struct dirent *e; dir && (e = readdir(dir));)
    unlinkat(d->fd, e->d_name, e->d_type == DT_DIR ? AT_REMOVEDIR : 0);
  if (dir)
    closedir(dir);
  close(d->fd);
  rmdir(d->path);
}

#endif
