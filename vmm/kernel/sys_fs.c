/* sys_fs.c - the file system calls: moving data between descriptions and
 * guest memory (read/write and their vector and positioned forms), opening
 * and closing, stat, and the path operations, which copy their paths in and
 * leave the work to the namespace (vmm/fs/vfs.h), and the descriptor-table
 * calls (dup, fcntl, ioctl, pipe).
 *
 * Guest buffers are described as host iovecs with uaccess_iov() a step at a
 * time, so a host-backed file reads straight into guest memory. A call that
 * would block waits in the host (fs/wait.h) and ends with -EINTR when the VM
 * is being stopped. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "fs/stat_abi.h"
#include "fs/vfs.h"
#include "fs/wait.h"
#include "kernel/fdtable.h"
#include "kernel/file.h"
#include "kernel/signal.h"
#include "kernel/syscalls.h"
#include "mem/uaccess.h"
#include "vm.h"

#define MAX_RW_COUNT 0x7ffff000L  /* Linux's cap on one transfer */
#define IOV_STEP 64               /* host iovecs per step */
#define GUEST_UIO_MAXIOV 1024     /* Linux's UIO_MAXIOV */
#define LINUX_O_LARGEFILE 0100000 /* forced on every open of a 64-bit kernel */

/* One guest buffer of a transfer. */
struct seg {
  uint64_t base;
  size_t len;
};

struct guest_iovec {
  uint64_t base, len;
};

static bool stopping(const struct vm *vm) { return vm->vcpu_wanted || vm->stop != VM_RUNNING; }

/* The description behind a descriptor argument; O_PATH ones serve only
 * the calls that say so. */
static struct file *get_file(struct vm *vm, uint64_t fd) {
  struct file *f = fdtable_get(&vm->fds, (int)(uint32_t)fd); /* fd is an unsigned int */
  return f && !(f->flags & O_PATH) ? f : NULL;
}

static long get_path(struct vm *vm, uint64_t gva, char *buf) {
  long n = uaccess_strncpy_from(&vm->mem, buf, gva, PATH_MAX);
  return n < 0 ? n : 0;
}

/* Whether another step would not block (always, for files without poll). */
static bool ready(struct file *f, bool write) {
  short want = write ? POLLOUT : POLLIN;
  return !f->ops->poll || (f->ops->poll(f, want) & (want | POLLHUP | POLLERR));
}

static ssize_t call_op(struct file *f, const struct iovec *iov, int n, bool write, off_t off) {
  if (off < 0)
    return write ? f->ops->write(f, iov, n) : f->ops->read(f, iov, n);
  return write ? f->ops->pwrite(f, iov, n, off) : f->ops->pread(f, iov, n, off);
}

/* One pass over the buffers: stops at the first short transfer, at a fault
 * (a count if something moved, else -EFAULT), or when going on could
 * block. off < 0: at the file position. */
static ssize_t transfer_once(struct vm *vm, struct file *f, const struct seg *segs, int nsegs,
                             bool write, off_t off) {
  size_t done = 0;
  for (int i = 0; i < nsegs; i++) {
    for (size_t k = 0; k < segs[i].len;) {
      if (done > 0 && !ready(f, write))
        return (ssize_t)done;
      struct iovec iov[IOV_STEP];
      size_t covered;
      int n =
          uaccess_iov(&vm->mem, segs[i].base + k, segs[i].len - k, !write, iov, IOV_STEP, &covered);
      ssize_t r = n < 0 ? n : call_op(f, iov, n, write, off < 0 ? off : off + (off_t)done);
      if (r < 0)
        return done ? (ssize_t)done : r;
      done += (size_t)r;
      k += (size_t)r;
      if ((size_t)r < covered)
        return (ssize_t)done;
    }
  }
  return (ssize_t)done;
}

static int wait_ready(struct vm *vm, struct file *f, short events) {
  struct pollfd p[FILE_WATCH_MAX];
  int n = file_host_watch(f, events, p, FILE_WATCH_MAX);
  int r = fs_wait(p, (nfds_t)n, NULL, &vm->vcpu_wanted);
  return r < 0 ? r : 0;
}

/* One transfer as a read: waits while the file is not ready (unless
 * O_NONBLOCK) and retries after host signals that do not stop the VM; any
 * progress is returned at once. */
static ssize_t transfer_some(struct vm *vm, struct file *f, const struct seg *segs, int nsegs,
                             bool write, off_t off) {
  for (;;) {
    ssize_t r = transfer_once(vm, f, segs, nsegs, write, off);
    if (r == -EAGAIN && (f->flags & O_NONBLOCK))
      return r;
    if (r != -EAGAIN && r != -EINTR)
      return r;
    if (stopping(vm))
      return -EINTR;
    if (r == -EAGAIN && wait_ready(vm, f, write ? POLLOUT : POLLIN) < 0)
      return -EINTR;
  }
}

/* Drops the first n bytes of segs[0..nsegs) in place; returns how many
 * segments are left. */
static int segs_advance(struct seg *segs, int nsegs, size_t n) {
  int i = 0;
  while (i < nsegs && n >= segs[i].len)
    n -= segs[i++].len;
  if (i < nsegs) {
    segs[i].base += n;
    segs[i].len -= n;
  }
  memmove(segs, segs + i, (size_t)(nsegs - i) * sizeof *segs);
  return nsegs - i;
}

/* A blocking write to a stream (pipe, socket, stdio) goes on until every
 * byte is taken, as Linux's does; a stop or an error after some progress
 * returns the count so far. Reads, O_NONBLOCK and positioned writes take
 * what one pass gives. */
static ssize_t transfer(struct vm *vm, struct file *f, struct seg *segs, int nsegs, bool write,
                        off_t off) {
  size_t want = 0, done = 0;
  for (int i = 0; i < nsegs; i++)
    want += segs[i].len;
  for (;;) {
    ssize_t r = transfer_some(vm, f, segs, nsegs, write, off);
    if (r < 0)
      return done ? (ssize_t)done : r;
    done += (size_t)r;
    if (!write || off >= 0 || (f->flags & O_NONBLOCK) || r == 0 || done >= want)
      return (ssize_t)done;
    nsegs = segs_advance(segs, nsegs, (size_t)r);
  }
}

/* What Linux answers for a file that cannot do the transfer asked. */
static long rw_unsupported(struct file *f, bool positioned) {
  if (f->ops->getdents)
    return -EISDIR;
  return positioned ? -ESPIPE : -EINVAL;
}

static long rw_check(struct file *f, bool write, bool positioned) {
  if (!f || !(write ? file_writable(f) : file_readable(f)))
    return -EBADF;
  bool have = positioned ? (write ? f->ops->pwrite : f->ops->pread) != NULL
                         : (write ? f->ops->write : f->ops->read) != NULL;
  return have ? 0 : rw_unsupported(f, positioned);
}

/* The offset a positioned transfer starts at, or -EINVAL when it is
 * negative or the transfer would end past the largest offset (Linux's
 * rw_verify_area), so that no piece's offset can overflow. */
static off_t rw_position(uint64_t pos, size_t count) {
  off_t off = (off_t)pos;
  return off < 0 || count > (uint64_t)(INT64_MAX - off) ? -EINVAL : off;
}

static long rw_finish(struct vm *vm, ssize_t r) {
  if (r == -EPIPE)
    sig_send(vm, SIGPIPE);
  return r;
}

static long rw_buffer(struct vm *vm, const uint64_t *a, bool write, bool positioned) {
  struct file *f = get_file(vm, a[0]);
  long r = rw_check(f, write, positioned);
  if (r < 0)
    return r;
  struct seg seg = {.base = a[1], .len = a[2] > MAX_RW_COUNT ? MAX_RW_COUNT : a[2]};
  off_t off = positioned ? rw_position(a[3], seg.len) : -1;
  if (positioned && off < 0)
    return off;
  if (seg.len == 0)
    return 0;
  return rw_finish(vm, transfer(vm, f, &seg, 1, write, off));
}

long sys_read(struct vm *vm, const uint64_t *a) { return rw_buffer(vm, a, false, false); }
long sys_write(struct vm *vm, const uint64_t *a) { return rw_buffer(vm, a, true, false); }
long sys_pread64(struct vm *vm, const uint64_t *a) { return rw_buffer(vm, a, false, true); }
long sys_pwrite64(struct vm *vm, const uint64_t *a) { return rw_buffer(vm, a, true, true); }

/* Copies in and checks an iovec array, clamping the total to MAX_RW_COUNT
 * as Linux does. Returns the number of segments and their total in *total. */
static long get_segs(struct vm *vm, uint64_t gva, uint64_t count, struct seg *segs,
                     size_t *total_out) {
  if (count > GUEST_UIO_MAXIOV)
    return -EINVAL;
  struct guest_iovec giov[GUEST_UIO_MAXIOV];
  if (uaccess_copy_from(&vm->mem, giov, gva, count * sizeof giov[0]) < 0)
    return -EFAULT;
  size_t total = 0;
  for (uint64_t i = 0; i < count; i++) {
    if (giov[i].len > SSIZE_MAX)
      return -EINVAL;
    size_t len = giov[i].len < MAX_RW_COUNT - total ? giov[i].len : MAX_RW_COUNT - total;
    segs[i] = (struct seg){.base = giov[i].base, .len = len};
    total += len;
  }
  *total_out = total;
  return (long)count;
}

static long rw_vector(struct vm *vm, const uint64_t *a, bool write, bool positioned) {
  struct file *f = get_file(vm, a[0]);
  long r = rw_check(f, write, positioned);
  if (r < 0)
    return r;
  if (positioned && (off_t)a[3] < 0) /* pos_l: pos_h adds nothing on 64-bit */
    return -EINVAL;                  /* before the vector is read, as Linux */
  struct seg segs[GUEST_UIO_MAXIOV];
  size_t total = 0;
  long n = get_segs(vm, a[1], a[2], segs, &total);
  if (n < 0)
    return n;
  off_t off = positioned ? rw_position(a[3], total) : -1;
  if (positioned && off < 0)
    return off;
  if (n == 0)
    return 0;
  return rw_finish(vm, transfer(vm, f, segs, (int)n, write, off));
}

long sys_readv(struct vm *vm, const uint64_t *a) { return rw_vector(vm, a, false, false); }
long sys_writev(struct vm *vm, const uint64_t *a) { return rw_vector(vm, a, true, false); }
long sys_preadv(struct vm *vm, const uint64_t *a) { return rw_vector(vm, a, false, true); }
long sys_pwritev(struct vm *vm, const uint64_t *a) { return rw_vector(vm, a, true, true); }

/* --- opening and closing --- */

static long do_openat(struct vm *vm, int dirfd, uint64_t path_gva, int flags, mode_t mode) {
  char path[PATH_MAX];
  long r = get_path(vm, path_gva, path);
  if (r < 0)
    return r;
  struct file *f;
  flags |= LINUX_O_LARGEFILE;
  r = vfs_openat(vm->vfs, &vm->fds, dirfd, path, flags, mode & 07777, &f);
  if (r < 0)
    return r;
  r = fdtable_install(&vm->fds, f, flags & O_CLOEXEC, 0);
  if (r < 0)
    file_unref(f);
  return r;
}

long sys_open(struct vm *vm, const uint64_t *a) {
  return do_openat(vm, AT_FDCWD, a[0], (int)a[1], (mode_t)a[2]);
}
long sys_openat(struct vm *vm, const uint64_t *a) {
  return do_openat(vm, (int)a[0], a[1], (int)a[2], (mode_t)a[3]);
}
long sys_creat(struct vm *vm, const uint64_t *a) {
  return do_openat(vm, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, (mode_t)a[1]);
}

long sys_close(struct vm *vm, const uint64_t *a) {
  return fdtable_close(&vm->fds, (int)(uint32_t)a[0]);
}

/* --- stat --- */

static long put_stat(struct vm *vm, uint64_t gva, const struct stat *st) {
  struct stat out;
  stat_for_guest(st, &out);
  return uaccess_copy_to(&vm->mem, gva, &out, sizeof out);
}

long sys_fstat(struct vm *vm, const uint64_t *a) {
  struct file *f = fdtable_get(&vm->fds, (int)(uint32_t)a[0]); /* O_PATH may fstat */
  if (!f)
    return -EBADF;
  struct stat st;
  int r = f->ops->fstat ? f->ops->fstat(f, &st) : -EBADF;
  return r < 0 ? r : put_stat(vm, a[1], &st);
}

/* A path argument that AT_EMPTY_PATH lets be NULL (Linux 6.11+). */
static long get_path_or_empty(struct vm *vm, uint64_t gva, int flags, char *buf) {
  if (gva == 0 && (flags & AT_EMPTY_PATH)) {
    buf[0] = '\0';
    return 0;
  }
  return get_path(vm, gva, buf);
}

static long do_fstatat(struct vm *vm, int dirfd, uint64_t path_gva, struct stat *st, int flags) {
  char path[PATH_MAX];
  long r = get_path_or_empty(vm, path_gva, flags, path);
  return r < 0 ? r : vfs_fstatat(vm->vfs, &vm->fds, dirfd, path, st, flags);
}

static long stat_out(struct vm *vm, int dirfd, uint64_t path_gva, uint64_t buf, int flags) {
  struct stat st;
  long r = do_fstatat(vm, dirfd, path_gva, &st, flags);
  return r < 0 ? r : put_stat(vm, buf, &st);
}

long sys_newfstatat(struct vm *vm, const uint64_t *a) {
  return stat_out(vm, (int)a[0], a[1], a[2], (int)a[3]);
}
long sys_stat(struct vm *vm, const uint64_t *a) { return stat_out(vm, AT_FDCWD, a[0], a[1], 0); }
long sys_lstat(struct vm *vm, const uint64_t *a) {
  return stat_out(vm, AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW);
}

long sys_statx(struct vm *vm, const uint64_t *a) {
  int flags = (int)a[2];
  if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE || ((uint32_t)a[3] & GUEST_STATX_RESERVED))
    return -EINVAL;
  struct stat st;
  long r = do_fstatat(vm, (int)a[0], a[1], &st, flags & ~AT_STATX_SYNC_TYPE);
  if (r < 0)
    return r;
  struct guest_statx stx;
  statx_for_guest(&st, &stx);
  return uaccess_copy_to(&vm->mem, a[4], &stx, sizeof stx);
}

/* --- positions and directories --- */

long sys_lseek(struct vm *vm, const uint64_t *a) {
  struct file *f = get_file(vm, a[0]);
  if (!f)
    return -EBADF;
  int whence = (int)a[2];
  if (whence < SEEK_SET || whence > SEEK_HOLE)
    return -EINVAL;
  return f->ops->lseek ? f->ops->lseek(f, (off_t)a[1], whence) : -ESPIPE;
}

#define GETDENTS_BOUNCE 32768 /* records per call; the rest come next call */

long sys_getdents64(struct vm *vm, const uint64_t *a) {
  struct file *f = get_file(vm, a[0]);
  if (!f)
    return -EBADF;
  if (!f->ops->getdents)
    return -ENOTDIR;
  size_t len = (uint32_t)a[2];
  len = len < GETDENTS_BOUNCE ? len : GETDENTS_BOUNCE;
  struct iovec first;
  size_t covered;
  if (len && uaccess_iov(&vm->mem, a[1], len, true, &first, 1, &covered) < 0)
    return -EFAULT; /* before consuming entries the guest could not get */
  unsigned char bounce[GETDENTS_BOUNCE];
  ssize_t n = f->ops->getdents(f, bounce, len);
  if (n > 0 && uaccess_copy_to(&vm->mem, a[1], bounce, (size_t)n) < 0)
    return -EFAULT;
  return n;
}

/* --- readlink, access, working directory --- */

static long do_readlinkat(struct vm *vm, int dirfd, uint64_t path_gva, uint64_t buf, int bufsiz) {
  if (bufsiz <= 0)
    return -EINVAL;
  char path[PATH_MAX], target[PATH_MAX];
  long r = get_path(vm, path_gva, path);
  if (r < 0)
    return r;
  size_t len = (size_t)bufsiz < sizeof target ? (size_t)bufsiz : sizeof target;
  ssize_t n = vfs_readlinkat(vm->vfs, &vm->fds, dirfd, path, target, len);
  if (n > 0 && uaccess_copy_to(&vm->mem, buf, target, (size_t)n) < 0)
    return -EFAULT;
  return n;
}

long sys_readlink(struct vm *vm, const uint64_t *a) {
  return do_readlinkat(vm, AT_FDCWD, a[0], a[1], (int)a[2]);
}
long sys_readlinkat(struct vm *vm, const uint64_t *a) {
  return do_readlinkat(vm, (int)a[0], a[1], a[2], (int)a[3]);
}

static long do_faccessat(struct vm *vm, int dirfd, uint64_t path_gva, int mode, int flags) {
  char path[PATH_MAX];
  long r = get_path_or_empty(vm, path_gva, flags, path);
  return r < 0 ? r : vfs_faccessat(vm->vfs, &vm->fds, dirfd, path, mode, flags);
}

long sys_access(struct vm *vm, const uint64_t *a) {
  return do_faccessat(vm, AT_FDCWD, a[0], (int)a[1], 0);
}
long sys_faccessat(struct vm *vm, const uint64_t *a) {
  return do_faccessat(vm, (int)a[0], a[1], (int)a[2], 0);
}
long sys_faccessat2(struct vm *vm, const uint64_t *a) {
  return do_faccessat(vm, (int)a[0], a[1], (int)a[2], (int)a[3]);
}

long sys_getcwd(struct vm *vm, const uint64_t *a) {
  char cwd[PATH_MAX];
  size_t len = a[1] < sizeof cwd ? (size_t)a[1] : sizeof cwd;
  ssize_t n = vfs_getcwd(vm->vfs, cwd, len);
  if (n > 0 && uaccess_copy_to(&vm->mem, a[0], cwd, (size_t)n) < 0)
    return -EFAULT;
  return n;
}

long sys_chdir(struct vm *vm, const uint64_t *a) {
  char path[PATH_MAX];
  long r = get_path(vm, a[0], path);
  return r < 0 ? r : vfs_chdir(vm->vfs, path);
}

long sys_fchdir(struct vm *vm, const uint64_t *a) {
  return vfs_fchdir(vm->vfs, &vm->fds, (int)(uint32_t)a[0]);
}

/* --- changing directories --- */

static long do_mkdirat(struct vm *vm, int dirfd, uint64_t path_gva, mode_t mode) {
  char path[PATH_MAX];
  long r = get_path(vm, path_gva, path);
  return r < 0 ? r : vfs_mkdirat(vm->vfs, &vm->fds, dirfd, path, mode);
}

long sys_mkdir(struct vm *vm, const uint64_t *a) {
  return do_mkdirat(vm, AT_FDCWD, a[0], (mode_t)a[1]);
}
long sys_mkdirat(struct vm *vm, const uint64_t *a) {
  return do_mkdirat(vm, (int)a[0], a[1], (mode_t)a[2]);
}

static long do_unlinkat(struct vm *vm, int dirfd, uint64_t path_gva, int flags) {
  char path[PATH_MAX];
  long r = get_path(vm, path_gva, path);
  return r < 0 ? r : vfs_unlinkat(vm->vfs, &vm->fds, dirfd, path, flags);
}

long sys_unlink(struct vm *vm, const uint64_t *a) { return do_unlinkat(vm, AT_FDCWD, a[0], 0); }
long sys_unlinkat(struct vm *vm, const uint64_t *a) {
  return do_unlinkat(vm, (int)a[0], a[1], (int)a[2]);
}
long sys_rmdir(struct vm *vm, const uint64_t *a) {
  return do_unlinkat(vm, AT_FDCWD, a[0], AT_REMOVEDIR);
}

static long do_renameat2(struct vm *vm, int olddirfd, uint64_t old_gva, int newdirfd,
                         uint64_t new_gva, unsigned flags) {
  char oldpath[PATH_MAX], newpath[PATH_MAX];
  long r = get_path(vm, old_gva, oldpath);
  if (r == 0)
    r = get_path(vm, new_gva, newpath);
  if (r < 0)
    return r;
  return vfs_renameat2(vm->vfs, &vm->fds, olddirfd, oldpath, newdirfd, newpath, flags);
}

long sys_rename(struct vm *vm, const uint64_t *a) {
  return do_renameat2(vm, AT_FDCWD, a[0], AT_FDCWD, a[1], 0);
}
long sys_renameat(struct vm *vm, const uint64_t *a) {
  return do_renameat2(vm, (int)a[0], a[1], (int)a[2], a[3], 0);
}
long sys_renameat2(struct vm *vm, const uint64_t *a) {
  return do_renameat2(vm, (int)a[0], a[1], (int)a[2], a[3], (unsigned)a[4]);
}

long sys_umask(struct vm *vm, const uint64_t *a) { return vfs_umask(vm->vfs, (mode_t)a[0] & 0777); }

/* --- descriptors: dup, pipe, fcntl, ioctl --- */

static int fd_limit(struct vm *vm) { return vm->fds.limit; }

/* Installs another reference to f at the lowest free fd >= minfd. */
static long dup_from(struct vm *vm, struct file *f, int minfd, bool cloexec) {
  long r = fdtable_install(&vm->fds, file_ref(f), cloexec, minfd);
  if (r < 0)
    file_unref(f);
  return r;
}

long sys_dup(struct vm *vm, const uint64_t *a) {
  struct file *f = fdtable_get(&vm->fds, (int)(uint32_t)a[0]);
  return f ? dup_from(vm, f, 0, false) : -EBADF;
}

static long do_dup3(struct vm *vm, uint64_t oldfd, uint64_t newfd, int flags) {
  struct file *f = fdtable_get(&vm->fds, (int)(uint32_t)oldfd);
  int to = (int)(uint32_t)newfd;
  if (!f)
    return -EBADF;
  if (to < 0 || to >= fd_limit(vm))
    return -EBADF;
  long r = fdtable_install_at(&vm->fds, to, file_ref(f), flags & O_CLOEXEC);
  if (r < 0)
    file_unref(f);
  return r;
}

long sys_dup2(struct vm *vm, const uint64_t *a) {
  if ((uint32_t)a[0] == (uint32_t)a[1]) /* nothing to do, if oldfd is open */
    return fdtable_get(&vm->fds, (int)(uint32_t)a[0]) ? (long)(uint32_t)a[1] : -EBADF;
  return do_dup3(vm, a[0], a[1], 0);
}

long sys_dup3(struct vm *vm, const uint64_t *a) {
  int flags = (int)a[2];
  if ((flags & ~O_CLOEXEC) || (uint32_t)a[0] == (uint32_t)a[1])
    return -EINVAL;
  return do_dup3(vm, a[0], a[1], flags);
}

static long do_pipe2(struct vm *vm, uint64_t gva, int flags) {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK))
    return -EINVAL; /* O_DIRECT (packet mode) is not offered */
  struct file *rd, *wr;
  long r = vfs_pipe(vm->vfs, flags & O_NONBLOCK, &rd, &wr);
  if (r < 0)
    return r;
  int fds[2] = {-1, -1};
  fds[0] = fdtable_install(&vm->fds, rd, flags & O_CLOEXEC, 0);
  if (fds[0] >= 0)
    fds[1] = fdtable_install(&vm->fds, wr, flags & O_CLOEXEC, 0);
  r = fds[0] < 0 ? fds[0] : fds[1] < 0 ? fds[1] : uaccess_copy_to(&vm->mem, gva, fds, sizeof fds);
  if (r == 0)
    return 0;
  /* Undo: descriptors installed own their description; the rest we drop. */
  if (fds[0] >= 0)
    fdtable_close(&vm->fds, fds[0]);
  else
    file_unref(rd);
  if (fds[1] >= 0)
    fdtable_close(&vm->fds, fds[1]);
  else
    file_unref(wr);
  return r;
}

long sys_pipe(struct vm *vm, const uint64_t *a) { return do_pipe2(vm, a[0], 0); }
long sys_pipe2(struct vm *vm, const uint64_t *a) { return do_pipe2(vm, a[0], (int)a[1]); }

/* struct flock on x86-64. */
struct guest_flock {
  int16_t l_type, l_whence;
  int32_t pad0;
  int64_t l_start, l_len;
  int32_t l_pid, pad1;
};

/* The guest is one process: its POSIX locks never conflict with anyone's,
 * so F_SETLK(W) succeeds once the request is valid and F_GETLK reports the
 * range unlocked. */
static long do_lock(struct vm *vm, struct file *f, int cmd, uint64_t gva) {
  struct guest_flock fl;
  if (uaccess_copy_from(&vm->mem, &fl, gva, sizeof fl) < 0)
    return -EFAULT;
  if (fl.l_whence < SEEK_SET || fl.l_whence > SEEK_END)
    return -EINVAL;
  if (fl.l_type != F_RDLCK && fl.l_type != F_WRLCK && fl.l_type != F_UNLCK)
    return -EINVAL;
  if (cmd == F_GETLK) {
    if (fl.l_type == F_UNLCK)
      return -EINVAL;
    fl.l_type = F_UNLCK;
    return uaccess_copy_to(&vm->mem, gva, &fl, sizeof fl);
  }
  if ((fl.l_type == F_RDLCK && !file_readable(f)) || (fl.l_type == F_WRLCK && !file_writable(f)))
    return -EBADF;
  return 0;
}

#define SETFL_FLAGS (O_APPEND | O_NONBLOCK)

long sys_fcntl(struct vm *vm, const uint64_t *a) {
  int fd = (int)(uint32_t)a[0], cmd = (int)a[1];
  struct file *f = fdtable_get(&vm->fds, fd);
  if (!f)
    return -EBADF;
  switch (cmd) {
  case F_DUPFD:
  case F_DUPFD_CLOEXEC:
    if (a[2] >= (uint64_t)fd_limit(vm))
      return -EINVAL;
    return dup_from(vm, f, (int)a[2], cmd == F_DUPFD_CLOEXEC);
  case F_GETFD:
    return fdtable_get_cloexec(&vm->fds, fd) > 0 ? FD_CLOEXEC : 0;
  case F_SETFD:
    return fdtable_set_cloexec(&vm->fds, fd, a[2] & FD_CLOEXEC);
  case F_GETFL:
    return f->flags;
  }
  if (f->flags & O_PATH)
    return -EBADF;
  if (cmd == F_SETFL) {
    f->flags = (f->flags & ~SETFL_FLAGS) | ((int)a[2] & SETFL_FLAGS);
    return 0;
  }
  if (cmd == F_GETLK || cmd == F_SETLK || cmd == F_SETLKW)
    return do_lock(vm, f, cmd, a[2]);
  return -EINVAL;
}

/* FIONREAD: bytes a read would get now. */
static long fionread(struct vm *vm, struct file *f, uint64_t gva) {
  long n = vfs_pipe_nread(f);
  struct stat st;
  int host = f->ops->host_fd ? f->ops->host_fd(f) : -1, hn;
  if (n == -ENOTTY && host >= 0)
    n = ioctl(host, FIONREAD, &hn) < 0 ? -errno : hn;
  else if (n == -ENOTTY && f->ops->fstat && f->ops->fstat(f, &st) == 0 && S_ISREG(st.st_mode))
    n = st.st_size > f->pos ? st.st_size - f->pos : 0;
  if (n < 0)
    return n;
  int count = n > INT_MAX ? INT_MAX : (int)n;
  return uaccess_copy_to(&vm->mem, gva, &count, sizeof count);
}

static long fionbio(struct vm *vm, struct file *f, uint64_t gva) {
  int on;
  if (uaccess_copy_from(&vm->mem, &on, gva, sizeof on) < 0)
    return -EFAULT;
  f->flags = on ? f->flags | O_NONBLOCK : f->flags & ~O_NONBLOCK;
  return 0;
}

/* The generic requests any file takes; the rest go to the file's own ioctl,
 * and with none it is not a terminal or device: -ENOTTY (TCGETS, TIOCGWINSZ
 * included, so isatty() is false). */
long sys_ioctl(struct vm *vm, const uint64_t *a) {
  int fd = (int)(uint32_t)a[0];
  unsigned cmd = (uint32_t)a[1];
  struct file *f = get_file(vm, a[0]);
  if (!f)
    return -EBADF;
  switch (cmd) {
  case FIOCLEX:
    return fdtable_set_cloexec(&vm->fds, fd, true);
  case FIONCLEX:
    return fdtable_set_cloexec(&vm->fds, fd, false);
  case FIONBIO:
    return fionbio(vm, f, a[2]);
  }
  if (f->ops->ioctl)
    return f->ops->ioctl(vm, f, cmd, a[2]);
  return cmd == FIONREAD ? fionread(vm, f, a[2]) : -ENOTTY;
}

/* --- size and durability --- */

long sys_ftruncate(struct vm *vm, const uint64_t *a) {
  struct file *f = get_file(vm, a[0]);
  off_t len = (off_t)a[1];
  if (!f)
    return -EBADF;
  if (len < 0 || !file_writable(f) || !f->ops->truncate)
    return -EINVAL; /* Linux: not open for writing, or not a regular file */
  return f->ops->truncate(f, len);
}

/* /tmp lives in memory and the image tree is read-only: there is nothing
 * to flush but a host file behind the VMM's stdio. Pipes and sockets have
 * no fsync (EINVAL), as on Linux. */
static long do_fsync(struct vm *vm, uint64_t fd, bool data_only) {
  struct file *f = get_file(vm, fd);
  if (!f)
    return -EBADF;
  int host = f->ops->host_fd ? f->ops->host_fd(f) : -1;
  if (host >= 0)
    return (data_only ? fdatasync(host) : fsync(host)) < 0 ? -errno : 0;
  struct stat st;
  if (!f->ops->fstat || f->ops->fstat(f, &st) < 0 || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
    return -EINVAL;
  return 0;
}

long sys_fsync(struct vm *vm, const uint64_t *a) { return do_fsync(vm, a[0], false); }
long sys_fdatasync(struct vm *vm, const uint64_t *a) { return do_fsync(vm, a[0], true); }
