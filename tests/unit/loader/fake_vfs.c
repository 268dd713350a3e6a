/* fake_vfs.c - the loader tests' stand-in for vmm/fs (see fake_vfs.h). */
#include "fake_vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fs/vfs.h"
#include "kernel/file.h"
#include "loader_test.h"

struct fake_file {
  int fd;
  mode_t mode; /* reported by fstat */
};

/* Reads only into the first iovec: the loader must cope with short reads. */
static ssize_t fake_pread(struct file *f, const struct iovec *iov, int cnt, off_t off) {
  struct fake_file *ff = f->priv;
  ssize_t n = pread(ff->fd, iov[0].iov_base, iov[0].iov_len, off);
  return n < 0 ? -errno : n;
}

static int fake_fstat(struct file *f, struct stat *st) {
  struct fake_file *ff = f->priv;
  if (fstat(ff->fd, st) != 0)
    return -errno;
  st->st_mode = ff->mode;
  return 0;
}

static const struct file_ops fake_ops = {.pread = fake_pread, .fstat = fake_fstat};

/* The fakes stand for host files (the site cache may keep their lists). */
bool vfs_file_is_host_regular(const struct file *f) { return f->ops == &fake_ops; }
int fake_vfs_open_files;
char fake_vfs_exe[256];

struct file *file_ref(struct file *f) {
  f->refs++;
  return f;
}

void file_unref(struct file *f) {
  if (--f->refs > 0)
    return;
  struct fake_file *ff = f->priv;
  close(ff->fd);
  free(ff);
  free(f);
  fake_vfs_open_files--;
}

static char garbage_path[64]; /* per process: tests may run in parallel */
static char nointerp_path[64];

/* Guest paths the fake vfs knows, and what they are. */
static const char *host_path_of(const char *path, mode_t *mode) {
  *mode = S_IFREG | 0755;
  if (strcmp(path, "/bin/hello") == 0)
    return loader_test_progs[0];
  if (strcmp(path, "/bin/pie") == 0)
    return loader_test_progs[1];
  if (strcmp(path, "/bin/dynamic") == 0)
    return "/proc/self/exe";
  if (strcmp(path, "/lib64/ld-linux-x86-64.so.2") == 0)
    return "/lib64/ld-linux-x86-64.so.2"; /* /bin/dynamic's interpreter */
  if (strcmp(path, "/bin/nointerp") == 0)
    return nointerp_path;
  if (strcmp(path, "/bin/garbage") == 0)
    return garbage_path;
  if (strcmp(path, "/bin/noexec") == 0) {
    *mode = S_IFREG | 0644;
    return loader_test_progs[0];
  }
  if (strcmp(path, "/etc") == 0) {
    *mode = S_IFDIR | 0755;
    return "/etc";
  }
  return NULL;
}

int vfs_openat(struct vfs *v, const struct fdtable *fds, int dirfd, const char *path, int flags,
               mode_t mode, struct file **out) {
  assert_int_equal(dirfd, AT_FDCWD);
  assert_int_equal(flags & O_ACCMODE, O_RDONLY);
  struct fake_file *ff = calloc(1, sizeof *ff);
  struct file *f = calloc(1, sizeof *f);
  const char *host = host_path_of(path, &ff->mode);
  ff->fd = host ? open(host, O_RDONLY) : -1;
  if (ff->fd < 0) {
    free(ff);
    free(f);
    return -ENOENT;
  }
  *f = (struct file){.refs = 1, .ops = &fake_ops, .flags = O_RDONLY, .priv = ff};
  *out = f;
  fake_vfs_open_files++;
  return 0;
}

int vfs_set_exe(struct vfs *v, const char *guest_path) {
  snprintf(fake_vfs_exe, sizeof fake_vfs_exe, "%s", guest_path);
  return 0;
}

/* A copy of this (dynamically linked) test whose PT_INTERP names a loader
 * the fake root does not have. */
static void write_nointerp(void) {
  static const char interp[] = "/lib64/ld-linux-x86-64.so.2";
  int in = open("/proc/self/exe", O_RDONLY);
  struct stat st;
  assert_true(in >= 0 && fstat(in, &st) == 0);
  uint8_t *image = malloc((size_t)st.st_size);
  assert_non_null(image);
  ssize_t n = read(in, image, (size_t)st.st_size);
  close(in);
  assert_int_equal(n, st.st_size);
  uint8_t *at = memmem(image, (size_t)n, interp, sizeof interp);
  assert_non_null(at);
  memcpy(at, "/lib64/ld-absnt-x86-64.so.2", sizeof interp - 1);
  snprintf(nointerp_path, sizeof nointerp_path, "/tmp/hearth-loader-nointerp-%d", (int)getpid());
  int out = open(nointerp_path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
  assert_true(out >= 0);
  assert_int_equal(write(out, image, (size_t)n), n);
  close(out);
  free(image);
}

void fake_vfs_setup(void) {
  write_nointerp();
  snprintf(garbage_path, sizeof garbage_path, "/tmp/hearth-loader-garbage-%d", (int)getpid());
  int fd = open(garbage_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "#!/bin/sh\necho not an ELF\n", 26), 26);
  close(fd);
  fake_vfs_exe[0] = '\0';
}

void fake_vfs_teardown(void) {
  unlink(garbage_path);
  unlink(nointerp_path);
  assert_int_equal(fake_vfs_open_files, 0);
}
