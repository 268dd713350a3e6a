/* tree.c - the staged tree, listed and sorted (see tree.h). */
#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fileio.h"

static int add(struct tree *t, const char *path, enum manifest_type type, struct img_err *err) {
  if (t->n == MANIFEST_MAX_ENTRIES)
    return img_fail(err, -E2BIG, "the image would have more than %u entries", MANIFEST_MAX_ENTRIES);
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 1024;
    struct tree_node *v = reallocarray(t->v, cap, sizeof *v);
    if (!v)
      return img_fail(err, -ENOMEM, "out of memory");
    t->v = v;
    t->cap = cap;
  }
  char *copy = strdup(path);
  if (!copy)
    return img_fail(err, -ENOMEM, "out of memory");
  t->v[t->n++] = (struct tree_node){.path = copy, .type = type};
  return 0;
}

static int scan_dir(int dirfd, const char *prefix, unsigned depth, struct tree *t,
                    struct img_err *err);

static int scan_entry(int dirfd, const char *name, const char *path, unsigned depth, struct tree *t,
                      struct img_err *err) {
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return img_fail(err, -errno, "/%s: %s", path, strerror(errno));
  if (S_ISREG(st.st_mode))
    return add(t, path, MANIFEST_FILE, err);
  if (S_ISLNK(st.st_mode))
    return add(t, path, MANIFEST_SYMLINK, err);
  if (!S_ISDIR(st.st_mode))
    return img_fail(err, -EINVAL, "/%s: not a file, directory or symlink", path);
  int rc = add(t, path, MANIFEST_DIR, err);
  int fd = rc ? -1 : openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (!rc && fd < 0)
    return img_fail(err, -errno, "/%s: %s", path, strerror(errno));
  return rc ? rc : scan_dir(fd, path, depth + 1, t, err);
}

/* Lists the directory fd (closed here) whose path is `prefix`. */
static int scan_dir(int fd, const char *prefix, unsigned depth, struct tree *t,
                    struct img_err *err) {
  if (depth > MANIFEST_MAX_DEPTH) {
    close(fd);
    return img_fail(err, -ELOOP, "/%s: deeper than %u levels", prefix, MANIFEST_MAX_DEPTH);
  }
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return img_fail(err, -errno, "/%s: %s", prefix, strerror(errno));
  }
  int rc = 0;
  for (struct dirent *e; !rc && (e = readdir(d));) {
    char path[MANIFEST_MAX_PATH + 1];
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (prefix[0] ? img_path_join(path, sizeof path, prefix, e->d_name) != 0
                  : strlen(e->d_name) >= sizeof path)
      rc = img_fail(err, -ENAMETOOLONG, "/%s/%s: path too long", prefix, e->d_name);
    else if (!prefix[0])
      strcpy(path, e->d_name);
    if (!rc)
      rc = scan_entry(dirfd(d), e->d_name, path, depth, t, err);
  }
  closedir(d);
  return rc;
}

static int by_path(const void *a, const void *b) {
  return strcmp(((const struct tree_node *)a)->path, ((const struct tree_node *)b)->path);
}

int tree_scan(int rootfd, struct tree *out, struct img_err *err) {
  *out = (struct tree){0};
  int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int rc = fd < 0 ? img_fail(err, -errno, "staging tree: %s", strerror(errno))
                  : scan_dir(fd, "", 0, out, err);
  if (rc) {
    tree_free(out);
    return rc;
  }
  qsort(out->v, out->n, sizeof *out->v, by_path);
  return 0;
}

void tree_free(struct tree *t) {
  for (size_t i = 0; i < t->n; i++)
    free(t->v[i].path);
  free(t->v);
  *t = (struct tree){0};
}
