/* vmdir.c - creating and removing a VM's directory (vmdir.h). Removal walks
 * the tree through directory descriptors (unlinkat, O_NOFOLLOW), so a
 * symlink inside is removed, never followed. */
#include "vmdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VMS_SUBDIR "vms"
#define ID_TEMPLATE "XXXXXX"
#define RMTREE_MAX_DEPTH 16 /* hearth-vmm makes only flat files here */

size_t vmdir_sock_len(const char *state_dir) {
  return strlen(state_dir) + strlen("/" VMS_SUBDIR "/" ID_TEMPLATE "/" VMDIR_SOCK_NAME);
}

static int mkdir_if_missing(const char *path) {
  if (mkdir(path, 0700) == 0 || errno == EEXIST)
    return 0;
  return -errno;
}

/* snprintf that reports truncation as -ENAMETOOLONG. */
static int format_path(char *out, size_t cap, const char *a, const char *b) {
  int n = snprintf(out, cap, "%s/%s", a, b);
  return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int vmdir_create(struct vmdir *d, const char *state_dir) {
  d->path[0] = d->sock[0] = d->api[0] = '\0';
  if (state_dir[0] == '\0' || vmdir_sock_len(state_dir) > VMDIR_SOCK_MAX)
    return -ENAMETOOLONG;
  char vms[PATH_MAX], path[PATH_MAX];
  int rc = format_path(vms, sizeof vms, state_dir, VMS_SUBDIR);
  if (rc == 0)
    rc = format_path(path, sizeof path, vms, ID_TEMPLATE);
  if (rc == 0)
    rc = mkdir_if_missing(state_dir);
  if (rc == 0)
    rc = mkdir_if_missing(vms);
  if (rc < 0)
    return rc;
  if (mkdtemp(path) == NULL)
    return -errno;
  memcpy(d->path, path, sizeof path);
  rc = format_path(d->sock, sizeof d->sock, path, VMDIR_SOCK_NAME);
  return rc == 0 ? format_path(d->api, sizeof d->api, path, VMDIR_API_NAME) : rc;
}

static int rmtree_at(int parent, const char *name, int depth);

/* Removes every entry of the open directory fd (consumed). */
static int empty_dir(int fd, int depth) {
  DIR *dir = fdopendir(fd);
  if (dir == NULL) {
    int err = -errno;
    close(fd);
    return err;
  }
  int rc = 0;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    int r = rmtree_at(dirfd(dir), e->d_name, depth + 1);
    if (rc == 0)
      rc = r;
  }
  closedir(dir);
  return rc;
}

static int rmtree_at(int parent, const char *name, int depth) {
  if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM) /* Linux answers EISDIR for a directory */
    return -errno;
  if (depth >= RMTREE_MAX_DEPTH)
    return -ELOOP;
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int rc = empty_dir(fd, depth);
  if (unlinkat(parent, name, AT_REMOVEDIR) != 0 && rc == 0)
    rc = -errno;
  return rc;
}

int vmdir_remove(struct vmdir *d) {
  if (d->path[0] == '\0')
    return 0;
  int rc = rmtree_at(AT_FDCWD, d->path, 0);
  d->path[0] = d->sock[0] = d->api[0] = '\0';
  return rc;
}

int vmdir_rmtree(const char *path) { return rmtree_at(AT_FDCWD, path, 0); }
