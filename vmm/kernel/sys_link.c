/* sys_link.c - symlink, symlinkat, link and linkat: the paths are copied
 * in (in Linux's order: the target or old path first) and the namespace
 * (fs/vfs.h) does the rest. Symlinks live in /tmp and /code; hard links do
 * not exist in hearth, so link and linkat end in -EPERM once both paths
 * check out. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>

#include "fs/vfs.h"
#include "kernel/syscalls.h"
#include "mem/uaccess.h"
#include "vm.h"

/* A guest path: -EFAULT, or -ENAMETOOLONG at PATH_MAX bytes or more. */
static long get_path(struct vm *vm, uint64_t gva, char *buf) {
  long n = uaccess_strncpy_from(&vm->mem, buf, gva, PATH_MAX);
  return n < 0 ? n : 0;
}

static long do_symlinkat(struct vm *vm, uint64_t target_gva, int dirfd, uint64_t path_gva) {
  char target[PATH_MAX], path[PATH_MAX];
  long r = get_path(vm, target_gva, target);
  if (r == 0)
    r = get_path(vm, path_gva, path);
  return r < 0 ? r : vfs_symlinkat(vm->vfs, &vm->fds, target, dirfd, path);
}

long sys_symlink(struct vm *vm, const uint64_t *a) {
  return do_symlinkat(vm, a[0], AT_FDCWD, a[1]);
}
long sys_symlinkat(struct vm *vm, const uint64_t *a) {
  return do_symlinkat(vm, a[0], (int)a[1], a[2]);
}

static long do_linkat(struct vm *vm, int olddirfd, uint64_t old_gva, int newdirfd, uint64_t new_gva,
                      int flags) {
  char oldpath[PATH_MAX], newpath[PATH_MAX];
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
    return -EINVAL;
  long r = 0;
  oldpath[0] = '\0';
  if (old_gva != 0 || !(flags & AT_EMPTY_PATH)) /* AT_EMPTY_PATH may pass NULL (Linux 6.11+) */
    r = get_path(vm, old_gva, oldpath);
  if (r == 0)
    r = get_path(vm, new_gva, newpath);
  if (r < 0)
    return r;
  return vfs_linkat(vm->vfs, &vm->fds, olddirfd, oldpath, newdirfd, newpath, flags);
}

long sys_link(struct vm *vm, const uint64_t *a) {
  return do_linkat(vm, AT_FDCWD, a[0], AT_FDCWD, a[1], 0);
}
long sys_linkat(struct vm *vm, const uint64_t *a) {
  return do_linkat(vm, (int)a[0], a[1], (int)a[2], a[3], (int)a[4]);
}
