/* snapstore.c - the snapshot directory (snapstore.h). */
#include "snapstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdir.h"

static int fmt(char *out, size_t cap, const char *f, const char *a, const char *b) {
  int n = snprintf(out, cap, f, a, b);
  return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int snapstore_init(struct snapstore *s, const char *state_dir, const char *prefix,
                   const char *key) {
  memset(s, 0, sizeof *s);
  s->lock_fd = -1;
  char abs[PATH_MAX];
  if (realpath(state_dir, abs) == NULL)
    return -errno;
  int rc = fmt(s->dir, sizeof s->dir, "%s/%s", abs, "snapshots");
  if (rc == 0)
    rc = fmt(s->name, sizeof s->name, "%s%s", prefix, key);
  if (rc == 0)
    rc = fmt(s->path, sizeof s->path, "%s/%s", s->dir, s->name);
  if (rc < 0)
    return rc;
  if (mkdir(s->dir, 0700) != 0 && errno != EEXIST)
    return -errno;
  return 0;
}

ino_t snapstore_find(const struct snapstore *s) {
  char state[PATH_MAX];
  struct stat st;
  if (fmt(state, sizeof state, "%s/%s", s->path, "state.snap") < 0 || stat(state, &st) != 0 ||
      stat(s->path, &st) != 0)
    return 0;
  return st.st_ino;
}

int snapstore_lock(struct snapstore *s) {
  char lock[PATH_MAX];
  int rc = fmt(lock, sizeof lock, "%s/%s", s->dir, ".lock");
  if (rc < 0)
    return rc;
  s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (s->lock_fd < 0)
    return -errno;
  if (flock(s->lock_fd, LOCK_EX) != 0) { /* no SA_RESTART: a signal ends the wait */
    int err = -errno;
    close(s->lock_fd);
    s->lock_fd = -1;
    return err;
  }
  return 0;
}

void snapstore_unlock(struct snapstore *s) {
  if (s->lock_fd >= 0)
    close(s->lock_fd); /* drops the flock */
  s->lock_fd = -1;
}

int snapstore_discard(struct snapstore *s, ino_t ino) {
  struct stat st;
  if (lstat(s->path, &st) != 0 || st.st_ino != ino)
    return 0; /* gone, or already rebuilt */
  return vmdir_rmtree(s->path);
}

int snapstore_begin(struct snapstore *s) {
  int rc = fmt(s->tmp, sizeof s->tmp, "%s/%s", s->dir, ".tmp-XXXXXX");
  if (rc == 0 && mkdtemp(s->tmp) == NULL)
    rc = -errno;
  if (rc < 0)
    s->tmp[0] = '\0';
  return rc;
}

int snapstore_publish(struct snapstore *s) {
  if (rename(s->tmp, s->path) != 0)
    return -errno;
  s->tmp[0] = '\0';
  return 0;
}

void snapstore_end(struct snapstore *s) {
  if (s->tmp[0])
    vmdir_rmtree(s->tmp);
  s->tmp[0] = '\0';
  snapstore_unlock(s);
}
