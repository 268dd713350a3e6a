/* packages.c - Debian packages' installed files into the staging tree
 * (see packages.h). */
#include "packages.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fileio.h"

static const char *const merged_links[] = {"/bin", "/sbin", "/lib", "/lib64"};

bool packages_excluded(char *const *patterns, size_t n, const char *path) {
  char p[PATH_MAX];
  if (strlen(path) >= sizeof p)
    return false;
  strcpy(p, path);
  for (;;) {
    for (size_t i = 0; i < n; i++)
      if (fnmatch(patterns[i], p, 0) == 0)
        return true;
    char *slash = strrchr(p, '/');
    if (!slash || slash == p)
      return false;
    *slash = '\0';
  }
}

static int read_list(const char *name, char **text, size_t *len, struct img_err *err) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, PACKAGES_DPKG_INFO "/%s.list", name);
  if (access(path, F_OK) < 0) {
    char arch[PATH_MAX];
    snprintf(arch, sizeof arch, PACKAGES_DPKG_INFO "/%s:amd64.list", name);
    if (access(arch, F_OK) < 0)
      return img_fail(err, -ENOENT, "package %s is not installed (no %s)", name, path);
    strcpy(path, arch);
  }
  return img_read_file(AT_FDCWD, path, path, PACKAGES_LIST_MAX, text, len, err);
}

static bool is_merged_link(const char *path, const struct stat *st) {
  for (size_t i = 0; i < sizeof merged_links / sizeof *merged_links; i++)
    if (S_ISLNK(st->st_mode) && strcmp(path, merged_links[i]) == 0)
      return true;
  return false;
}

/* One path of the list. */
static int stage_listed(struct stage *s, const char *pkg, const char *path, char *const *excludes,
                        size_t nexcludes, size_t *paths, struct img_err *err) {
  char rel[PATH_MAX], abs[PATH_MAX + 1], target[PATH_MAX];
  struct stat st;
  if (strcmp(path, "/.") == 0 || strcmp(path, "/") == 0)
    return 0;
  if (lstat(path, &st) < 0)
    return img_fail(err, -errno, "package %s: %s: %s", pkg, path, strerror(errno));
  if (is_merged_link(path, &st))
    return 0;
  int rc = stage_host_rel(path, rel, sizeof rel, err);
  snprintf(abs, sizeof abs, "/%s", rel);
  if (rc || packages_excluded(excludes, nexcludes, abs) ||
      packages_excluded(excludes, nexcludes, path))
    return rc;
  (*paths)++;
  if (S_ISDIR(st.st_mode))
    return stage_mkdirs(s, rel, err);
  if (S_ISREG(st.st_mode))
    return stage_copy(s, path, rel, st.st_mode, STAGE_DUP_KEEP, err);
  ssize_t n = S_ISLNK(st.st_mode) ? readlink(path, target, sizeof target - 1) : -1;
  if (n < 0)
    return img_fail(err, -EINVAL, "package %s: %s: not a file, directory or symlink", pkg, path);
  target[n] = '\0';
  return stage_symlink(s, rel, target, st.st_mtim.tv_sec, err);
}

int packages_stage(struct stage *s, const char *name, char *const *excludes, size_t nexcludes,
                   size_t *paths, struct img_err *err) {
  char *text = NULL;
  size_t len = 0;
  int rc = read_list(name, &text, &len, err);
  for (char *line = text, *end; !rc && line < text + len; line = end + 1) {
    end = memchr(line, '\n', (size_t)(text + len - line));
    if (!end)
      end = text + len;
    *end = '\0';
    if (line[0] == '/')
      rc = stage_listed(s, name, line, excludes, nexcludes, paths, err);
    else if (line[0])
      rc = img_fail(err, -EINVAL, "package %s: its file list has a relative path", name);
  }
  free(text);
  return rc;
}
