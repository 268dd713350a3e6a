/* pycompile.c - compileall over the staged tree (see pycompile.h). */
#include "pycompile.h"

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tree.h"

#define MAX_DIRS 32

static int spawn_and_wait(char *const argv[], char *const envp[], struct img_err *err) {
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, envp);
  if (rc)
    return img_fail(err, -rc, "cannot run %s: %s", argv[0], strerror(rc));
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return img_fail(err, -errno, "waiting for %s: %s", argv[0], strerror(errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return img_fail(err, -EIO, "%s -m compileall failed (%s %d): see its messages above", argv[0],
                    WIFEXITED(status) ? "exit status" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  return 0;
}

static int compile(struct stage *s, const char *python, char *const *dirs, size_t n,
                   struct img_err *err) {
  static char dir_args[MAX_DIRS][PATH_MAX];
  char *argv[16 + MAX_DIRS] = {
      (char *)python,        "-s",        "-m", "compileall", "-q", "-j", "0",
      "--invalidation-mode", "timestamp", "-s", s->path,      "-p", "/"};
  char *envp[] = {"PYTHONHASHSEED=0", "LC_ALL=C.UTF-8", "PATH=/usr/bin:/bin", NULL};
  size_t argc = 13;
  if (python[0] != '/')
    return img_fail(err, -EINVAL, "recipe: python_compile.python must be an absolute path");
  if (n > MAX_DIRS)
    return img_fail(err, -E2BIG, "recipe: more than %d python_compile dirs", MAX_DIRS);
  for (size_t i = 0; i < n; i++) {
    char rel[PATH_MAX];
    int rc = stage_guest_path(dirs[i], rel, sizeof rel, err);
    if (rc)
      return rc;
    if (snprintf(dir_args[i], PATH_MAX, "%s/%s", s->path, rel) >= PATH_MAX)
      return img_fail(err, -ENAMETOOLONG, "%s: path too long", dirs[i]);
    argv[argc++] = dir_args[i];
  }
  argv[argc] = NULL;
  return spawn_and_wait(argv, envp, err);
}

static bool is_pyc(const char *path) {
  size_t n = strlen(path);
  return strstr(path, "__pycache__/") && n > 4 && strcmp(path + n - 4, ".pyc") == 0;
}

int pycompile_run(struct stage *s, const char *python, char *const *dirs, size_t n, int64_t stamp,
                  size_t *compiled, struct img_err *err) {
  struct tree t;
  *compiled = 0;
  int rc = compile(s, python, dirs, n, err);
  if (rc || (rc = tree_scan(s->rootfd, &t, err)))
    return rc;
  for (size_t i = 0; !rc && i < t.n; i++) {
    if (t.v[i].type != MANIFEST_FILE || !is_pyc(t.v[i].path))
      continue;
    rc = stage_stamp(s, t.v[i].path, stamp, err);
    (*compiled)++;
  }
  tree_free(&t);
  return rc;
}
