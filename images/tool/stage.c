/* stage.c - the staging tree of an image build (see stage.h). */
#include "stage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fileio.h"

#define MAX_TREE_DEPTH 64

static const char *const merged_usr[] = {"bin", "sbin", "lib", "lib64"};

int stage_open(struct stage *s, const char *dir, struct img_err *err) {
  *s = (struct stage){.rootfd = -1};
  if (img_path_join(s->path, sizeof s->path, dir, "stage"))
    return img_fail(err, -ENAMETOOLONG, "%s: path too long", dir);
  if (mkdir(s->path, 0755) < 0)
    return img_fail(err, -errno, "%s: %s", s->path, strerror(errno));
  s->rootfd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return s->rootfd < 0 ? img_fail(err, -errno, "%s: %s", s->path, strerror(errno)) : 0;
}

void stage_close(struct stage *s) {
  if (s->rootfd >= 0)
    close(s->rootfd);
  s->rootfd = -1;
}

/* Appends component c[0, n) to out (len bytes used so far). */
static int append(char *out, size_t cap, size_t *len, const char *c, size_t n) {
  if (*len + (*len > 0) + n + 1 > cap)
    return -ENAMETOOLONG;
  if (*len > 0)
    out[(*len)++] = '/';
  memcpy(out + *len, c, n);
  *len += n;
  out[*len] = '\0';
  return 0;
}

static bool is_merged(const char *c, size_t n) {
  for (size_t i = 0; i < sizeof merged_usr / sizeof *merged_usr; i++)
    if (strlen(merged_usr[i]) == n && memcmp(merged_usr[i], c, n) == 0)
      return true;
  return false;
}

int stage_guest_path(const char *guest, char *out, size_t cap, struct img_err *err) {
  size_t len = 0;
  out[0] = '\0';
  for (const char *c = guest; *c;) {
    size_t n = strcspn(c, "/");
    if (n == 2 && c[0] == '.' && c[1] == '.')
      return img_fail(err, -EINVAL, "%s: '..' in an image path", guest);
    bool skip = n == 0 || (n == 1 && c[0] == '.');
    if (!skip && len == 0 && is_merged(c, n) && append(out, cap, &len, "usr", 3))
      return img_fail(err, -ENAMETOOLONG, "%s: path too long", guest);
    if (!skip && append(out, cap, &len, c, n))
      return img_fail(err, -ENAMETOOLONG, "%s: path too long", guest);
    c += n + (c[n] == '/');
  }
  return len ? 0 : img_fail(err, -EINVAL, "'%s': not a path inside the image", guest);
}

/* One directory component down from fd (which it closes), made when
 * missing; never through a symlink. */
static int descend(int fd, const char *part, const char *rel, struct img_err *err) {
  int rc = mkdirat(fd, part, 0755) < 0 && errno != EEXIST ? -errno : 0;
  int next = rc ? -1 : openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (!rc && next < 0)
    rc = -errno;
  close(fd);
  if (rc)
    return img_fail(err, rc, "/%s: at %s: %s", rel, part,
                    rc == -ELOOP || rc == -ENOTDIR ? "a symlink or a file in the image"
                                                   : strerror(-rc));
  return next;
}

/* The directory holding `rel`, made when missing (0755), never through a
 * symlink; *name points at rel's last component. */
static int open_parent(struct stage *s, const char *rel, const char **name, struct img_err *err) {
  int fd = dup(s->rootfd);
  if (fd < 0)
    return img_fail(err, -errno, "%s: %s", s->path, strerror(errno));
  const char *c = rel;
  for (const char *slash; (slash = strchr(c, '/')); c = slash + 1) {
    char part[NAME_MAX + 1];
    size_t n = (size_t)(slash - c);
    if (n > NAME_MAX) {
      close(fd);
      return img_fail(err, -ENAMETOOLONG, "/%s: path component too long", rel);
    }
    memcpy(part, c, n);
    part[n] = '\0';
    if ((fd = descend(fd, part, rel, err)) < 0)
      return fd;
  }
  *name = c;
  return fd;
}

int stage_mkdirs(struct stage *s, const char *rel, struct img_err *err) {
  const char *name;
  int fd = open_parent(s, rel, &name, err);
  if (fd < 0)
    return fd;
  struct stat st;
  int rc = 0;
  if (mkdirat(fd, name, 0755) < 0 && errno != EEXIST)
    rc = img_fail(err, -errno, "/%s: mkdir: %s", rel, strerror(errno));
  else if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
    rc = img_fail(err, -ENOTDIR, "/%s: staged already, and not as a directory", rel);
  close(fd);
  return rc;
}

static int copy_data(int in, int out, off_t size) {
  char buf[1 << 16];
  while (size > 0) {
    ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)size, 0);
    if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
      n = read(in, buf, sizeof buf);
      if (n > 0 && img_write_all(out, buf, (size_t)n) < 0)
        return -errno;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? -errno : -EIO; /* shrank while we copied it */
    size -= n;
  }
  return 0;
}

/* Creates rel exclusively into *fd: 0; 1 when it is a regular file staged
 * already and dup says keep it (*fd is -1); or a negative errno. */
static int create(struct stage *s, const char *rel, enum stage_dup dup, int *fd,
                  struct img_err *err) {
  const char *name;
  int dirfd = open_parent(s, rel, &name, err);
  if (dirfd < 0)
    return dirfd;
  *fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  int e = errno, rc = 0;
  struct stat st;
  if (*fd < 0 && e == EEXIST && dup == STAGE_DUP_KEEP &&
      fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
    rc = 1;
  else if (*fd < 0)
    rc = img_fail(err, -e, "/%s: %s", rel, e == EEXIST ? "staged twice" : strerror(e));
  close(dirfd);
  return rc;
}

static int finish_file(int fd, const char *rel, mode_t mode, int64_t mtime, struct img_err *err) {
  struct timespec t[2] = {{.tv_sec = mtime}, {.tv_sec = mtime}};
  int rc = 0;
  if (fchmod(fd, mode & 0777) < 0 || futimens(fd, t) < 0)
    rc = img_fail(err, -errno, "/%s: %s", rel, strerror(errno));
  if (close(fd) < 0 && !rc)
    rc = img_fail(err, -errno, "/%s: %s", rel, strerror(errno));
  return rc;
}

static int open_source(const char *src, struct stat *st, struct img_err *err) {
  int fd = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return img_fail(err, -errno, "%s: %s", src, strerror(errno));
  if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
    int rc = img_fail(err, -EINVAL, "%s: not a regular file", src);
    close(fd);
    return rc;
  }
  return fd;
}

int stage_copy(struct stage *s, const char *src, const char *rel, mode_t mode, enum stage_dup dup,
               struct img_err *err) {
  struct stat st;
  int in = open_source(src, &st, err), out;
  if (in < 0)
    return in;
  int rc = create(s, rel, dup, &out, err);
  if (rc == 0) {
    if ((rc = copy_data(in, out, st.st_size)) < 0)
      img_fail(err, rc, "%s: copy to /%s: %s", src, rel, strerror(-rc));
    int done = finish_file(out, rel, mode, st.st_mtim.tv_sec, err);
    rc = rc ? rc : done;
    s->files++;
    s->bytes += (size_t)st.st_size;
    if (st.st_mtim.tv_sec > s->newest)
      s->newest = st.st_mtim.tv_sec;
  }
  close(in);
  return rc < 0 ? rc : 0;
}

int stage_put(struct stage *s, const char *rel, const void *data, size_t len, mode_t mode,
              int64_t stamp, struct img_err *err) {
  int fd;
  int rc = create(s, rel, STAGE_DUP_FAIL, &fd, err);
  if (rc)
    return rc;
  rc = img_write_all(fd, data, len);
  if (rc)
    img_fail(err, rc, "/%s: %s", rel, strerror(-rc));
  int done = finish_file(fd, rel, mode, stamp, err);
  return rc ? rc : done;
}

int stage_stamp(struct stage *s, const char *rel, int64_t stamp, struct img_err *err) {
  const char *name;
  int fd = open_parent(s, rel, &name, err);
  if (fd < 0)
    return fd;
  struct timespec t[2] = {{.tv_sec = stamp}, {.tv_sec = stamp}};
  int rc = utimensat(fd, name, t, AT_SYMLINK_NOFOLLOW) < 0
               ? img_fail(err, -errno, "/%s: %s", rel, strerror(errno))
               : 0;
  close(fd);
  return rc;
}

int stage_symlink(struct stage *s, const char *rel, const char *target, int64_t stamp,
                  struct img_err *err) {
  const char *name;
  int fd = open_parent(s, rel, &name, err);
  if (fd < 0)
    return fd;
  int rc = 0;
  if (symlinkat(target, fd, name) == 0) {
    struct timespec t[2] = {{.tv_sec = stamp}, {.tv_sec = stamp}};
    if (utimensat(fd, name, t, AT_SYMLINK_NOFOLLOW) < 0)
      rc = img_fail(err, -errno, "/%s: %s", rel, strerror(errno));
  } else {
    char have[PATH_MAX];
    ssize_t n = errno == EEXIST ? readlinkat(fd, name, have, sizeof have - 1) : -1;
    if (n >= 0)
      have[n] = '\0';
    if (n < 0 || strcmp(have, target) != 0)
      rc = img_fail(err, -EEXIST, "/%s: staged already as something else than a symlink to %s", rel,
                    target);
  }
  close(fd);
  return rc;
}

/* The host directory of `host` with its symlinks resolved (dir, PATH_MAX
 * bytes) and the staged form of `host` (rel, cap bytes). */
static int host_split(const char *host, char *dir, char *rel, size_t cap, struct img_err *err) {
  char copy[PATH_MAX], joined[PATH_MAX];
  if (host[0] != '/' || strlen(host) >= sizeof copy)
    return img_fail(err, -EINVAL, "%s: want an absolute host path", host);
  strcpy(copy, host);
  const char *base = strrchr(host, '/') + 1;
  if (!base[0] || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
    return img_fail(err, -EINVAL, "%s: want a path to a file", host);
  if (!realpath(dirname(copy), dir))
    return img_fail(err, -errno, "%s: %s", host, strerror(errno));
  if (img_path_join(joined, sizeof joined, strcmp(dir, "/") ? dir : "", base))
    return img_fail(err, -ENAMETOOLONG, "%s: path too long", host);
  return stage_guest_path(joined, rel, cap, err);
}

int stage_host_rel(const char *host, char *out, size_t cap, struct img_err *err) {
  char dir[PATH_MAX];
  return host_split(host, dir, out, cap, err);
}

/* One step of a chain: a symlink staged and *next set to its target. */
static int stage_link_step(struct stage *s, const char *cur, const char *dir, const char *rel,
                           const struct stat *st, char *next, struct img_err *err) {
  char target[PATH_MAX];
  ssize_t n = readlink(cur, target, sizeof target - 1);
  if (n < 0)
    return img_fail(err, -errno, "%s: %s", cur, strerror(errno));
  target[n] = '\0';
  int rc = stage_symlink(s, rel, target, st->st_mtim.tv_sec, err);
  if (rc)
    return rc;
  if (target[0] == '/')
    strcpy(next, target);
  else if (img_path_join(next, PATH_MAX, dir, target))
    return img_fail(err, -ENAMETOOLONG, "%s: path too long", cur);
  return 1;
}

int stage_host_path(struct stage *s, const char *host, char *final, size_t cap,
                    struct img_err *err) {
  char cur[PATH_MAX], dir[PATH_MAX], rel[PATH_MAX];
  if (strlen(host) >= sizeof cur)
    return img_fail(err, -ENAMETOOLONG, "%s: path too long", host);
  strcpy(cur, host);
  for (int hops = 0; hops <= STAGE_MAX_CHAIN; hops++) {
    struct stat st;
    int rc = host_split(cur, dir, rel, sizeof rel, err);
    if (rc)
      return rc;
    if (lstat(cur, &st) < 0)
      return errno == ENOENT ? -ENOENT : img_fail(err, -errno, "%s: %s", cur, strerror(errno));
    if (strlen(rel) >= cap)
      return img_fail(err, -ENAMETOOLONG, "%s: path too long", cur);
    strcpy(final, rel);
    if (S_ISREG(st.st_mode))
      return stage_copy(s, cur, rel, st.st_mode, STAGE_DUP_KEEP, err);
    if (S_ISDIR(st.st_mode))
      return stage_mkdirs(s, rel, err);
    if (!S_ISLNK(st.st_mode))
      return img_fail(err, -EINVAL, "%s: not a file, directory or symlink", cur);
    char next[PATH_MAX];
    if ((rc = stage_link_step(s, cur, dir, rel, &st, next, err)) < 0)
      return rc;
    strcpy(cur, next);
  }
  return img_fail(err, -ELOOP, "%s: more than %d symlinks", host, STAGE_MAX_CHAIN);
}

static int copy_tree_at(struct stage *s, const char *src, const char *rel, int depth,
                        struct img_err *err);

static int copy_tree_entry(struct stage *s, const char *src, const char *rel, int depth,
                           struct img_err *err) {
  struct stat st;
  if (lstat(src, &st) < 0)
    return img_fail(err, -errno, "%s: %s", src, strerror(errno));
  if (S_ISDIR(st.st_mode))
    return copy_tree_at(s, src, rel, depth + 1, err);
  if (S_ISREG(st.st_mode))
    return stage_copy(s, src, rel, st.st_mode, STAGE_DUP_FAIL, err);
  if (!S_ISLNK(st.st_mode))
    return img_fail(err, -EINVAL, "%s: not a file, directory or symlink", src);
  char target[PATH_MAX];
  ssize_t n = readlink(src, target, sizeof target - 1);
  if (n < 0)
    return img_fail(err, -errno, "%s: %s", src, strerror(errno));
  target[n] = '\0';
  return stage_symlink(s, rel, target, st.st_mtim.tv_sec, err);
}

static int copy_tree_at(struct stage *s, const char *src, const char *rel, int depth,
                        struct img_err *err) {
  if (depth > MAX_TREE_DEPTH)
    return img_fail(err, -ELOOP, "%s: deeper than %d directories", src, MAX_TREE_DEPTH);
  int rc = stage_mkdirs(s, rel, err);
  DIR *d = rc ? NULL : opendir(src);
  if (!rc && !d)
    return img_fail(err, -errno, "%s: %s", src, strerror(errno));
  for (struct dirent *e; !rc && (e = readdir(d));) {
    char child_src[PATH_MAX], child_rel[PATH_MAX];
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (img_path_join(child_src, sizeof child_src, src, e->d_name) ||
        img_path_join(child_rel, sizeof child_rel, rel, e->d_name))
      rc = img_fail(err, -ENAMETOOLONG, "%s/%s: path too long", src, e->d_name);
    else
      rc = copy_tree_entry(s, child_src, child_rel, depth, err);
  }
  if (d)
    closedir(d);
  return rc;
}

int stage_copy_tree(struct stage *s, const char *src, const char *rel, struct img_err *err) {
  return copy_tree_at(s, src, rel, 0, err);
}
