/* exec_check.c - execve's checks before the point of no return (see
 * exec_check.h): the program file and its ELF headers, read through the
 * description's own pread into host buffers, parsed by loader/elf.h. */
#include "exec_check.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs/vfs.h"
#include "kernel/file.h"
#include "loader/elf.h"
#include "log.h"
#include "vm.h"

int exec_open(struct vm *vm, const char *path, struct exec_image *out) {
  struct file *f = NULL;
  int r = vfs_openat(vm->vfs, &vm->fds, AT_FDCWD, path, O_RDONLY, 0, &f);
  if (r < 0)
    return r;
  struct stat st;
  bool runnable = f->ops->fstat && f->ops->pread && f->ops->fstat(f, &st) == 0 &&
                  S_ISREG(st.st_mode) && (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH));
  if (!runnable) {
    file_unref(f);
    return -EACCES;
  }
  *out = (struct exec_image){.file = f, .size = (uint64_t)st.st_size, .path = path};
  return 0;
}

void exec_close(struct exec_image *img) {
  file_unref(img->file);
  img->file = NULL;
}

char *exec_canonical_path(const struct exec_image *img) {
  const char *canonical = img->file->ops->path ? img->file->ops->path(img->file) : NULL;
  return strdup(canonical ? canonical : img->path);
}

/* Reads exactly len bytes at off: 0, -ENOEXEC when the file ends first
 * (the headers point past it), -EIO when the read fails. */
static int read_exact(const struct exec_image *img, void *buf, size_t len, uint64_t off) {
  uint8_t *p = buf;
  while (len > 0) {
    struct iovec iov = {.iov_base = p, .iov_len = len};
    ssize_t n = img->file->ops->pread(img->file, &iov, 1, (off_t)off);
    if (n < 0)
      return -EIO;
    if (n == 0 || (size_t)n > len)
      return -ENOEXEC;
    p += n;
    len -= (size_t)n;
    off += (uint64_t)n;
  }
  return 0;
}

/* The file header and program headers of img into *info. */
static int read_headers(const struct exec_image *img, struct elf_info *info, const char **why) {
  uint8_t ehdr[ELF_EHDR_SIZE];
  uint8_t phdrs[ELF_MAX_PHNUM * ELF_PHENT_SIZE];
  size_t n = img->size < sizeof ehdr ? (size_t)img->size : sizeof ehdr;
  int r = read_exact(img, ehdr, n, 0);
  if (r == 0 && n >= 2 && ehdr[0] == '#' && ehdr[1] == '!') {
    *why = "a #! script (hearth runs ELF programs only)";
    return -ENOEXEC;
  }
  if (r == 0)
    r = elf_parse_ehdr(ehdr, n, img->size, info, why);
  size_t phsize = (size_t)info->phnum * ELF_PHENT_SIZE;
  if (r == 0)
    r = read_exact(img, phdrs, phsize, info->phoff);
  if (r == 0)
    r = elf_parse_phdrs(phdrs, phsize, img->size, info, why);
  return r;
}

/* The PT_INTERP loader of a program: opened as a program itself (as
 * Linux's open_exec does) and a position-independent ELF without a loader
 * of its own, which is what the loader can place. */
static int check_interp(struct vm *vm, const struct exec_image *img, const struct elf_info *info,
                        const char **why) {
  char path[ELF_INTERP_MAX];
  size_t len = (size_t)info->interp.filesz; /* at most ELF_INTERP_MAX: elf.c */
  int r = read_exact(img, path, len, info->interp.offset);
  if (r == 0)
    r = elf_check_interp(path, len, why);
  struct exec_image interp;
  if (r == 0 && (r = exec_open(vm, path, &interp)) < 0)
    *why = "its interpreter cannot be opened";
  if (r < 0)
    return r;
  struct elf_info ii;
  r = read_headers(&interp, &ii, why);
  if (r == 0 && (ii.type != ET_DYN || ii.interp.present)) {
    *why = "its interpreter is not a position-independent loader";
    r = -ENOEXEC;
  }
  exec_close(&interp);
  return r;
}

int exec_check_format(struct vm *vm, const struct exec_image *img) {
  struct elf_info info;
  const char *why = "cannot be read";
  int r = read_headers(img, &info, &why);
  if (r == 0 && info.interp.present)
    r = check_interp(vm, img, &info, &why);
  if (r < 0)
    VLOG_LIMITED(VLOG_DEBUG, "execve %s: %s", img->path, why);
  return r;
}
