/* vmmfind.c - finding hearth-vmm (vmmfind.h). */
#include "vmmfind.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int take(char *out, size_t cap, const char *path) {
  int n = snprintf(out, cap, "%s", path);
  if (n < 0 || (size_t)n >= cap)
    return -ENAMETOOLONG;
  return access(out, X_OK) == 0 ? 0 : -ENOENT;
}

/* dir/rel into out when executable. */
static int try_in(char *out, size_t cap, const char *dir, const char *rel) {
  char path[PATH_MAX];
  int n = snprintf(path, sizeof path, "%s/%s", dir, rel);
  if (n < 0 || (size_t)n >= sizeof path)
    return -ENAMETOOLONG;
  return take(out, cap, path);
}

/* The directory this program lives in, or -errno. */
static int self_dir(char *dir, size_t cap) {
  ssize_t n = readlink("/proc/self/exe", dir, cap - 1);
  if (n < 0)
    return -errno;
  if ((size_t)n >= cap - 1)
    return -ENAMETOOLONG;
  dir[n] = '\0';
  char *slash = strrchr(dir, '/');
  if (slash == NULL)
    return -ENOENT;
  *slash = '\0';
  return 0;
}

static int search_path(char *out, size_t cap) {
  const char *path = getenv("PATH");
  if (path == NULL)
    return -ENOENT;
  while (*path) {
    size_t len = strcspn(path, ":");
    char dir[PATH_MAX];
    if (len > 0 && len < sizeof dir) {
      memcpy(dir, path, len);
      dir[len] = '\0';
      if (try_in(out, cap, dir, VMMFIND_NAME) == 0)
        return 0;
    }
    path += len + (path[len] == ':');
  }
  return -ENOENT;
}

int vmmfind(char *out, size_t cap) {
  const char *env = getenv("HEARTH_VMM");
  if (env != NULL && env[0] != '\0')
    return take(out, cap, env);
  char dir[PATH_MAX];
  if (self_dir(dir, sizeof dir) == 0) {
    if (try_in(out, cap, dir, VMMFIND_NAME) == 0)
      return 0;
    if (try_in(out, cap, dir, "../vmm/" VMMFIND_NAME) == 0)
      return 0;
  }
  return search_path(out, cap);
}
