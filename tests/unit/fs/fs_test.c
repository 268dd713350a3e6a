/* fs_test.c - helpers for the vmm/fs unit tests (see fs_test.h). */
#include "fs_test.h"

#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fs/vfs.h"
#include "kernel/file.h"

char *fst_mkdtemp(void) {
  const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  char *path;
  assert_true(asprintf(&path, "%s/hearth-fs-test.XXXXXX", base) > 0);
  assert_non_null(mkdtemp(path));
  return path;
}

static char *join(const char *dir, const char *rel) {
  char *p;
  assert_true(asprintf(&p, "%s/%s", dir, rel) > 0);
  return p;
}

void fst_write(const char *dir, const char *rel, const char *content) {
  char *p = join(dir, rel);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  assert_int_equal(fputs(content, f) >= 0, 1);
  assert_int_equal(fclose(f), 0);
  free(p);
}

void fst_mkdir(const char *dir, const char *rel) {
  char *p = join(dir, rel);
  assert_int_equal(mkdir(p, 0755), 0);
  free(p);
}

void fst_symlink(const char *dir, const char *rel, const char *target) {
  char *p = join(dir, rel);
  assert_int_equal(symlink(target, p), 0);
  free(p);
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  return remove(path);
}

void fst_rmtree(char *path) {
  nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  free(path);
}

struct vfs *fst_vfs(const char *host_root, const struct fdtable *fds, uint64_t tmp_bytes,
                    uint64_t tmp_entries) {
  struct vfs_config cfg = {.host_root = host_root,
                           .tmp_max_bytes = tmp_bytes,
                           .tmp_max_entries = tmp_entries,
                           .exe_path = "/bin/prog",
                           .fds = fds,
                           .uid = 1000,
                           .gid = 1000};
  struct vfs *v = NULL;
  assert_int_equal(vfs_create(&cfg, &v), 0);
  return v;
}

int fst_open(struct vfs *v, const struct fdtable *fds, const char *path, int flags, mode_t mode,
             struct file **out) {
  return vfs_openat(v, fds, AT_FDCWD, path, flags, mode, out);
}

ssize_t fst_read(struct file *f, void *buf, size_t len) {
  struct iovec iov = {.iov_base = buf, .iov_len = len};
  return f->ops->read(f, &iov, 1);
}

ssize_t fst_write_str(struct file *f, const char *s) {
  struct iovec iov = {.iov_base = (void *)s, .iov_len = strlen(s)};
  return f->ops->write(f, &iov, 1);
}

ssize_t fst_slurp(struct vfs *v, const struct fdtable *fds, const char *path, char *buf,
                  size_t len) {
  struct file *f;
  int r = fst_open(v, fds, path, O_RDONLY, 0, &f);
  if (r < 0)
    return r;
  size_t done = 0;
  ssize_t n;
  while (done < len - 1 && (n = fst_read(f, buf + done, len - 1 - done)) > 0)
    done += (size_t)n;
  buf[done] = '\0';
  file_unref(f);
  return (ssize_t)done;
}

/* Appends the records of one getdents answer to out. */
static int parse_records(const unsigned char *buf, size_t n, char *out, size_t outlen) {
  int count = 0;
  for (size_t off = 0; off < n;) {
    uint16_t reclen;
    memcpy(&reclen, buf + off + 16, 2);
    assert_true(reclen >= 24 && reclen % 8 == 0 && off + reclen <= n);
    const char *name = (const char *)buf + off + 19;
    assert_true(strnlen(name, reclen - 19) < reclen - 19u);
    size_t used = strlen(out);
    snprintf(out + used, outlen - used, "%s/%d ", name, buf[off + 18]);
    off += reclen;
    count++;
  }
  return count;
}

int fst_listdir(struct vfs *v, const struct fdtable *fds, const char *path, size_t bufsize,
                char *out, size_t outlen) {
  struct file *f;
  int r = fst_open(v, fds, path, O_RDONLY | O_DIRECTORY, 0, &f);
  if (r < 0)
    return r;
  unsigned char *buf = malloc(bufsize);
  out[0] = '\0';
  int count = 0;
  ssize_t n;
  while ((n = f->ops->getdents(f, buf, bufsize)) > 0)
    count += parse_records(buf, (size_t)n, out, outlen);
  free(buf);
  file_unref(f);
  return n < 0 ? (int)n : count;
}

int fst_listed(const char *listing, const char *name, int type) {
  char want[300];
  snprintf(want, sizeof want, "%s/%d ", name, type);
  for (const char *p = listing; (p = strstr(p, want)); p++)
    if (p == listing || p[-1] == ' ')
      return 1;
  return 0;
}
