/* workdir.c - creates and removes the benchmark's temporary directory, and
 * gives the measured commands an environment whose TMPDIR is inside it. */
#include "workdir.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int join(char *dst, const char *dir, const char *name) {
  int n = snprintf(dst, PATH_MAX, "%s/%s", dir, name);
  return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int copy_fd(int from, int to) {
  char buf[65536];
  ssize_t n;
  while ((n = read(from, buf, sizeof buf)) > 0) {
    for (ssize_t done = 0, w; done < n; done += w)
      if ((w = write(to, buf + done, (size_t)(n - done))) < 0)
        return -errno;
  }
  return n < 0 ? -errno : 0;
}

static int copy_file(const char *src, const char *dst) {
  int from = open(src, O_RDONLY | O_CLOEXEC);
  if (from < 0)
    return -errno;
  int to = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
  int rc = to < 0 ? -errno : copy_fd(from, to);
  if (to >= 0 && close(to) < 0 && rc == 0)
    rc = -errno;
  close(from);
  return rc;
}

static int make_paths(struct workdir *w) {
  int rc = join(w->root, w->path, "root");
  if (rc == 0)
    rc = join(w->hello, w->root, "hello");
  if (rc == 0)
    rc = join(w->stats, w->path, "hearth-stats.json");
  if (rc == 0)
    rc = join(w->runsc_root, w->path, "runsc-state");
  if (rc == 0)
    rc = join(w->runsc_tmp, w->path, "runsc-tmp");
  if (rc == 0)
    rc = join(w->bundle, w->path, "warm-bundle");
  if (rc == 0)
    rc = join(w->sandbox_stdio, w->path, "warm-sandbox-stdio");
  return rc;
}

static int make_dirs(const struct workdir *w) {
  const char *dirs[] = {w->root, w->runsc_root, w->runsc_tmp, w->bundle};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
    if (mkdir(dirs[i], 0755) < 0)
      return -errno;
  return 0;
}

int workdir_create(struct workdir *w, const char *hello_src) {
  const char *tmp = getenv("TMPDIR");
  int rc = join(w->path, tmp && *tmp ? tmp : "/tmp", "hearth-bench.XXXXXX");
  if (rc < 0)
    return rc;
  if (!mkdtemp(w->path))
    return -errno;
  /* runsc's sandbox runs as nobody and must traverse to its bundle and to
   * hello: with mkdtemp's 0700 it fails to start. */
  rc = chmod(w->path, 0755) < 0 ? -errno : 0;
  if (rc == 0)
    rc = make_paths(w);
  if (rc == 0)
    rc = make_dirs(w);
  if (rc == 0)
    rc = copy_file(hello_src, w->hello);
  if (rc < 0)
    workdir_remove(w);
  return rc;
}

char **workdir_env(const struct workdir *w) {
  size_t n = 0;
  while (environ[n])
    n++;
  char **env = calloc(n + 2, sizeof *env);
  size_t tmp_len = strlen(w->runsc_tmp) + sizeof "TMPDIR=";
  char *tmp_var = malloc(tmp_len);
  if (!env || !tmp_var) {
    free(env);
    free(tmp_var);
    return NULL;
  }
  size_t out = 0;
  for (size_t i = 0; i < n; i++)
    if (strncmp(environ[i], "TMPDIR=", 7) != 0)
      env[out++] = environ[i];
  snprintf(tmp_var, tmp_len, "TMPDIR=%s", w->runsc_tmp);
  env[out] = tmp_var;
  return env;
}

void workdir_env_free(char **env) {
  if (!env)
    return;
  size_t i = 0;
  while (env[i + 1])
    i++;
  free(env[i]); /* the TMPDIR entry, always last */
  free(env);
}

static int remove_errno; /* nftw passes its callback no context */

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st;
  (void)type;
  (void)ftw;
  if (remove(path) == 0)
    return 0;
  remove_errno = errno;
  return 1; /* stop the walk */
}

int workdir_remove(const struct workdir *w) {
  int rc = nftw(w->path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  return rc == 0 ? 0 : rc == 1 ? -remove_errno : -errno;
}
