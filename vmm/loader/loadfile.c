/* loadfile.c - opening and reading the file a program is loaded from (see
 * loadfile.h). */
#include "loader/loadfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs/vfs.h"
#include "kernel/file.h"
#include "log.h"
#include "mem/uaccess.h"
#include "vm.h"

static int check_executable(struct file *f, const char *path, uint64_t *size) {
  struct stat st;
  if (!f->ops->fstat || !f->ops->pread) {
    vlog(VLOG_ERROR, "%s: cannot be read as a program", path);
    return -EACCES;
  }
  int err = f->ops->fstat(f, &st);
  if (err < 0) {
    vlog(VLOG_ERROR, "%s: cannot stat the program (%d)", path, err);
    return -EACCES;
  }
  if (!S_ISREG(st.st_mode) || !(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))) {
    vlog(VLOG_ERROR, "%s: not a regular file with an execute bit", path);
    return -EACCES;
  }
  *size = (uint64_t)st.st_size;
  return 0;
}

int load_file_open(struct vm *vm, const char *path, struct load_file *out) {
  struct file *f = NULL;
  int err = vfs_openat(vm->vfs, &vm->fds, AT_FDCWD, path, O_RDONLY, 0, &f);
  if (err < 0) {
    /* Passed on as is: main.c turns ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG
     * into 127 and EACCES into 126, as shells do. */
    vlog(VLOG_ERROR, "%s: %s", path, err == -ENOENT ? "program not found" : strerror(-err));
    return err;
  }
  *out = (struct load_file){.file = f, .path = path};
  err = check_executable(f, path, &out->size);
  if (err) {
    load_file_close(out);
    return err;
  }
  return 0;
}

void load_file_close(struct load_file *lf) {
  if (lf->file)
    file_unref(lf->file);
  lf->file = NULL;
}

/* preads into iov (covering up to `want` bytes) at off: the bytes read,
 * at least one, or -EIO when the read fails or the file ends early. */
static ssize_t pread_some(const struct load_file *lf, const struct iovec *iov, int cnt, size_t want,
                          uint64_t off) {
  ssize_t got = lf->file->ops->pread(lf->file, iov, cnt, (off_t)off);
  if (got < 0 || (size_t)got > want) {
    vlog(VLOG_ERROR, "%s: read failed at offset %llu (error %zd)", lf->path,
         (unsigned long long)off, -got);
    return -EIO;
  }
  if (got == 0) {
    vlog(VLOG_ERROR, "%s: file ended early at offset %llu: it changed while loading", lf->path,
         (unsigned long long)off);
    return -EIO;
  }
  return got;
}

int load_file_read(const struct load_file *lf, void *buf, size_t len, uint64_t off) {
  uint8_t *p = buf;
  while (len > 0) {
    struct iovec iov = {.iov_base = p, .iov_len = len};
    ssize_t got = pread_some(lf, &iov, 1, len, off);
    if (got < 0)
      return (int)got;
    p += got;
    off += (uint64_t)got;
    len -= (size_t)got;
  }
  return 0;
}

int load_file_read_alloc(const struct load_file *lf, uint64_t off, size_t len, uint8_t **out) {
  *out = malloc(len ? len : 1);
  if (!*out)
    return -ENOMEM;
  int err = load_file_read(lf, *out, len, off);
  if (err) {
    free(*out);
    *out = NULL;
  }
  return err;
}

int load_file_read_guest(struct vm *vm, const struct load_file *lf, uint64_t gva, size_t len,
                         uint64_t off) {
  while (len > 0) {
    struct iovec iov[LOADFILE_IOV_MAX];
    size_t covered = 0;
    int cnt = uaccess_iov(&vm->mem, gva, len, true, iov, LOADFILE_IOV_MAX, &covered);
    if (cnt <= 0 || covered == 0) {
      vlog(VLOG_ERROR, "%s: guest memory at %#llx is not writable while loading", lf->path,
           (unsigned long long)gva);
      return -EFAULT;
    }
    ssize_t got = pread_some(lf, iov, cnt, covered, off);
    if (got < 0)
      return (int)got;
    gva += (uint64_t)got; /* a short read continues where it stopped */
    off += (uint64_t)got;
    len -= (size_t)got;
  }
  return 0;
}
