/* The file system calls as the guest makes them: arguments in registers,
 * pointers into real guest memory (gmem + uaccess), results as Linux gives
 * them, struct layouts as x86-64 Linux lays them out. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fs/stat_abi.h"
#include "fs/vfs.h"
#include "fs_test.h"
#include "kernel/fdtable.h"
#include "kernel/file.h"
#include "kernel/syscalls.h"
#include "mem/gmem.h"
#include "mem/layout.h"
#include "mem/uaccess.h"
#include "vm.h"

#define BASE 0x400000ULL
#define PAGE GUEST_PAGE_SIZE
#define RW_PAGES 64
#define RO_PAGE (BASE + RW_PAGES * PAGE) /* read-only; the hole follows */
#define HOLE (RO_PAGE + PAGE)
#define PATH_AT BASE /* scratch for path strings */
#define PATH2_AT (BASE + 0x800)
#define BUF (BASE + PAGE) /* data buffers from here to RO_PAGE */
#define DATA_SIZE (100 * 1000)

static int last_signal;
void sig_send(struct vm *vm, int sig) { last_signal = sig; }

struct fixture {
  struct vm vm;
  char *top;
  unsigned char data[DATA_SIZE];
};

#define CALL(fn, ...) fn(&fx->vm, (const uint64_t[6]){__VA_ARGS__})

static int setup(void **state) {
  struct fixture *fx = calloc(1, sizeof *fx);
  struct vm *vm = &fx->vm;
  assert_int_equal(gmem_init(&vm->mem, 8ULL << 20), 0);
  assert_int_equal(
      gmem_populate(&vm->mem, BASE, RW_PAGES * PAGE, GMEM_ACC_READ | GMEM_ACC_WRITE, true), 0);
  assert_int_equal(gmem_populate(&vm->mem, RO_PAGE, PAGE, GMEM_ACC_READ, true), 0);
  fx->top = fst_mkdtemp();
  for (size_t i = 0; i < DATA_SIZE; i++)
    fx->data[i] = (unsigned char)(i * 7 + i / 251);
  char *path;
  assert_true(asprintf(&path, "%s/data", fx->top) > 0);
  FILE *f = fopen(path, "w");
  assert_int_equal(fwrite(fx->data, 1, DATA_SIZE, f), DATA_SIZE);
  fclose(f);
  free(path);
  fst_mkdir(fx->top, "dir");
  fst_symlink(fx->top, "link", "/data");
  fdtable_init(&vm->fds);
  vm->vfs = fst_vfs(fx->top, &vm->fds, 1 << 20, 0);
  last_signal = 0;
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  struct fixture *fx = *state;
  fdtable_fini(&fx->vm.fds);
  vfs_destroy(fx->vm.vfs);
  gmem_fini(&fx->vm.mem);
  fst_rmtree(fx->top);
  free(fx);
  return 0;
}

static uint64_t gstr(struct fixture *fx, uint64_t at, const char *s) {
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, at, s, strlen(s) + 1), 0);
  return at;
}

static long open_path(struct fixture *fx, const char *path, int flags, int mode) {
  return CALL(sys_openat, (uint64_t)AT_FDCWD, gstr(fx, PATH_AT, path), (uint64_t)flags,
              (uint64_t)mode);
}

static void guest_read(struct fixture *fx, uint64_t gva, void *out, size_t len) {
  assert_int_equal(uaccess_copy_from(&fx->vm.mem, out, gva, len), 0);
}

static void read_a_host_file_across_pages(void **state) {
  struct fixture *fx = *state;
  long fd = open_path(fx, "/data", O_RDONLY, 0);
  assert_int_equal(fd, 0);
  assert_int_equal(CALL(sys_fcntl, fd, F_GETFL), O_RDONLY | 0100000 /* O_LARGEFILE */);
  assert_int_equal(CALL(sys_read, fd, BUF + 123, DATA_SIZE), DATA_SIZE);
  static unsigned char back[DATA_SIZE];
  guest_read(fx, BUF + 123, back, DATA_SIZE);
  assert_memory_equal(back, fx->data, DATA_SIZE);
  assert_int_equal(CALL(sys_read, fd, BUF, 10), 0);
  assert_int_equal(CALL(sys_lseek, fd, 1000, SEEK_SET), 1000);
  assert_int_equal(CALL(sys_pread64, fd, BUF, 100, 5000), 100);
  guest_read(fx, BUF, back, 100);
  assert_memory_equal(back, fx->data + 5000, 100);
  assert_int_equal(CALL(sys_lseek, fd, 0, SEEK_CUR), 1000); /* pread left it */
  assert_int_equal(CALL(sys_pread64, fd, BUF, 1, (uint64_t)-1), -EINVAL);
  assert_int_equal(CALL(sys_lseek, fd, 0, 9), -EINVAL);
  assert_int_equal(CALL(sys_write, fd, BUF, 1), -EBADF);
  assert_int_equal(CALL(sys_close, fd), 0);
  assert_int_equal(CALL(sys_close, fd), -EBADF);
  assert_int_equal(CALL(sys_read, fd, BUF, 1), -EBADF);
}

static void bad_pointers_fault_and_faults_midway_are_short(void **state) {
  struct fixture *fx = *state;
  long fd = open_path(fx, "/data", O_RDONLY, 0);
  assert_int_equal(CALL(sys_read, fd, HOLE, 10), -EFAULT);
  assert_int_equal(CALL(sys_read, fd, RO_PAGE, 10), -EFAULT); /* read into read-only */
  assert_int_equal(CALL(sys_read, fd, 0, 10), -EFAULT);
  /* The buffer runs into the read-only page: the bytes before it arrive. */
  assert_int_equal(CALL(sys_read, fd, RO_PAGE - 100, 1000), 100);
  assert_int_equal(CALL(sys_lseek, fd, 0, SEEK_CUR), 100);
  assert_int_equal(CALL(sys_openat, (uint64_t)AT_FDCWD, HOLE, O_RDONLY), -EFAULT);
  /* A path with no NUL within PATH_MAX. */
  char *longp = malloc(PATH_MAX + 10);
  memset(longp, 'a', PATH_MAX + 9);
  longp[PATH_MAX + 9] = '\0';
  gstr(fx, BUF, longp);
  free(longp);
  assert_int_equal(CALL(sys_openat, (uint64_t)AT_FDCWD, BUF, O_RDONLY), -ENAMETOOLONG);
  assert_int_equal(CALL(sys_open, gstr(fx, PATH_AT, ""), O_RDONLY), -ENOENT);
}

struct guest_iovec {
  uint64_t base, len;
};

static void vectors_and_positions_in_tmp(void **state) {
  struct fixture *fx = *state;
  long fd = open_path(fx, "/tmp/v", O_RDWR | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  gstr(fx, BUF, "hello ");
  gstr(fx, BUF + 100, "vectored ");
  gstr(fx, BUF + 200, "world");
  struct guest_iovec iov[3] = {{BUF, 6}, {BUF + 100, 9}, {BUF + 200, 5}};
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, BUF + 1000, iov, sizeof iov), 0);
  assert_int_equal(CALL(sys_writev, fd, BUF + 1000, 3), 20);
  assert_int_equal(CALL(sys_pwrite64, fd, BUF + 100, 3, 20), 3);
  struct guest_iovec riov[2] = {{BUF + 2000, 4}, {BUF + 3000, 100}};
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, BUF + 1000, riov, sizeof riov), 0);
  assert_int_equal(CALL(sys_preadv, fd, BUF + 1000, 2, 2), 21);
  char a[5] = {0}, b[20] = {0};
  guest_read(fx, BUF + 2000, a, 4);
  guest_read(fx, BUF + 3000, b, 17);
  assert_string_equal(a, "llo ");
  assert_string_equal(b, "vectored worldvec");
  assert_int_equal(CALL(sys_readv, fd, BUF + 1000, 1025), -EINVAL);
  assert_int_equal(CALL(sys_readv, fd, BUF + 1000, 0), 0);
  struct guest_iovec neg = {BUF, (uint64_t)-1};
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, BUF + 1000, &neg, sizeof neg), 0);
  assert_int_equal(CALL(sys_readv, fd, BUF + 1000, 1), -EINVAL);
  assert_int_equal(CALL(sys_readv, fd, HOLE, 1), -EFAULT);
  assert_int_equal(CALL(sys_ftruncate, fd, 5), 0);
  struct stat st;
  assert_int_equal(CALL(sys_fstat, fd, BUF), 0);
  guest_read(fx, BUF, &st, sizeof st);
  assert_int_equal(st.st_size, 5);
  assert_int_equal(CALL(sys_fsync, fd), 0);
  assert_int_equal(CALL(sys_fdatasync, fd), 0);
  long ro = open_path(fx, "/tmp/v", O_RDONLY, 0);
  assert_int_equal(CALL(sys_ftruncate, ro, 0), -EINVAL);
  assert_int_equal(CALL(sys_ftruncate, fd, (uint64_t)-1), -EINVAL);
}

/* A positioned transfer whose end is past the largest offset is -EINVAL, as
 * Linux's rw_verify_area answers; computing later pieces' offsets from such
 * a start overflowed (undefined behaviour, and a negative offset turned the
 * rest of a preadv into a read at the file position). /dev/zero takes any
 * offset, so only this check stands between the guest and the overflow. */
static void positions_past_the_largest_offset(void **state) {
  struct fixture *fx = *state;
  long zero = open_path(fx, "/dev/zero", O_RDWR, 0);
  assert_true(zero >= 0);
  const uint64_t near_end = INT64_MAX - 10;
  assert_int_equal(CALL(sys_pread64, zero, BUF, 4096, near_end), -EINVAL);
  assert_int_equal(CALL(sys_pwrite64, zero, BUF, 4096, near_end), -EINVAL);
  assert_int_equal(CALL(sys_pread64, zero, BUF, 10, near_end), 10); /* ends at INT64_MAX */
  struct guest_iovec iov[2] = {{BUF, 4096}, {BUF + 8192, 4096}};
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, BUF + 20000, iov, sizeof iov), 0);
  assert_int_equal(CALL(sys_preadv, zero, BUF + 20000, 2, near_end), -EINVAL);
  assert_int_equal(CALL(sys_pwritev, zero, BUF + 20000, 2, near_end), -EINVAL);
  assert_int_equal(CALL(sys_preadv, zero, BUF + 20000, 2, INT64_MAX - 8192), 8192);
  long tmp = open_path(fx, "/tmp/far", O_RDWR | O_CREAT, 0600);
  assert_int_equal(CALL(sys_pwrite64, tmp, BUF, 4096, near_end), -EINVAL);
}

static void stat_family_layouts(void **state) {
  struct fixture *fx = *state;
  struct stat host, st;
  char *p;
  assert_true(asprintf(&p, "%s/data", fx->top) > 0);
  assert_int_equal(stat(p, &host), 0);
  free(p);
  memset(&st, 0xa5, sizeof st);
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, BUF, &st, sizeof st), 0);
  assert_int_equal(CALL(sys_stat, gstr(fx, PATH_AT, "/link"), BUF), 0);
  guest_read(fx, BUF, &st, sizeof st);
  assert_int_equal(st.st_ino, host.st_ino);
  assert_int_equal(st.st_size, DATA_SIZE);
  assert_int_equal(st.__glibc_reserved[0], 0); /* padding zeroed, not leaked */
  assert_int_equal(CALL(sys_lstat, gstr(fx, PATH_AT, "/link"), BUF), 0);
  guest_read(fx, BUF, &st, sizeof st);
  assert_true(S_ISLNK(st.st_mode));
  long fd = open_path(fx, "/data", O_RDONLY, 0);
  assert_int_equal(CALL(sys_newfstatat, fd, gstr(fx, PATH_AT, ""), BUF, AT_EMPTY_PATH), 0);
  guest_read(fx, BUF, &st, sizeof st);
  assert_int_equal(st.st_ino, host.st_ino);
  assert_int_equal(CALL(sys_newfstatat, fd, 0, BUF, AT_EMPTY_PATH), 0);
  assert_int_equal(CALL(sys_newfstatat, fd, gstr(fx, PATH_AT, ""), BUF, 0), -ENOENT);
  assert_int_equal(CALL(sys_newfstatat, fd, gstr(fx, PATH_AT, "/data"), BUF, 0x4000), -EINVAL);
  assert_int_equal(CALL(sys_fstat, fd, RO_PAGE), -EFAULT);
  assert_int_equal(
      CALL(sys_statx, (uint64_t)AT_FDCWD, gstr(fx, PATH_AT, "/dev/zero"), 0, 0xfff, BUF), 0);
  struct guest_statx stx;
  guest_read(fx, BUF, &stx, sizeof stx);
  assert_int_equal(stx.stx_mask, GUEST_STATX_BASIC_STATS);
  assert_true(S_ISCHR(stx.stx_mode));
  assert_int_equal(stx.stx_rdev_major, 1);
  assert_int_equal(stx.stx_rdev_minor, 5);
  assert_int_equal(
      CALL(sys_statx, (uint64_t)AT_FDCWD, gstr(fx, PATH_AT, "/data"), 0, 0x80000000ULL, BUF),
      -EINVAL);
}

static void directories_and_paths(void **state) {
  struct fixture *fx = *state;
  long fd = open_path(fx, "/", O_RDONLY | O_DIRECTORY, 0);
  assert_true(fd >= 0);
  long n = CALL(sys_getdents64, fd, BUF, 8192);
  assert_true(n > 0);
  static unsigned char recs[8192];
  guest_read(fx, BUF, recs, (size_t)n);
  int names = 0;
  for (long off = 0; off < n;) {
    uint16_t reclen;
    memcpy(&reclen, recs + off + 16, 2);
    const char *name = (const char *)recs + off + 19;
    names += !strcmp(name, "data") || !strcmp(name, "tmp") || !strcmp(name, "proc");
    off += reclen;
  }
  assert_int_equal(names, 3);
  assert_int_equal(CALL(sys_getdents64, fd, BUF, 8192), 0);
  assert_int_equal(CALL(sys_lseek, fd, 0, SEEK_SET), 0);
  assert_int_equal(CALL(sys_getdents64, fd, BUF, 10), -EINVAL);
  assert_int_equal(CALL(sys_getdents64, fd, HOLE, 8192), -EFAULT);
  assert_int_equal(CALL(sys_read, fd, BUF, 10), -EISDIR);
  long file = open_path(fx, "/data", O_RDONLY, 0);
  assert_int_equal(CALL(sys_getdents64, file, BUF, 8192), -ENOTDIR);
  assert_int_equal(CALL(sys_readlink, gstr(fx, PATH_AT, "/proc/self/exe"), BUF, 100), 9);
  char exe[10] = {0};
  guest_read(fx, BUF, exe, 9);
  assert_string_equal(exe, "/bin/prog");
  assert_int_equal(CALL(sys_readlink, PATH_AT, BUF, 0), -EINVAL);
  assert_int_equal(CALL(sys_readlinkat, (uint64_t)AT_FDCWD, gstr(fx, PATH_AT, "/link"), BUF, 3), 3);
  assert_int_equal(CALL(sys_chdir, gstr(fx, PATH_AT, "/dir")), 0);
  assert_int_equal(CALL(sys_getcwd, BUF, 100), 5);
  char cwd[8];
  guest_read(fx, BUF, cwd, 5);
  assert_string_equal(cwd, "/dir");
  assert_int_equal(CALL(sys_getcwd, BUF, 3), -ERANGE);
  assert_int_equal(CALL(sys_fchdir, fd), 0);
  assert_int_equal(CALL(sys_getcwd, BUF, 100), 2);
  assert_int_equal(CALL(sys_fchdir, file), -ENOTDIR);
  assert_int_equal(CALL(sys_access, gstr(fx, PATH_AT, "/data"), R_OK), 0);
  assert_int_equal(CALL(sys_access, gstr(fx, PATH_AT, "/data"), W_OK), -EROFS);
  assert_int_equal(CALL(sys_faccessat, (uint64_t)AT_FDCWD, gstr(fx, PATH_AT, "nope"), F_OK),
                   -ENOENT);
  assert_int_equal(CALL(sys_faccessat2, file, gstr(fx, PATH_AT, ""), R_OK, AT_EMPTY_PATH), 0);
  assert_int_equal(CALL(sys_mkdir, gstr(fx, PATH_AT, "/tmp/d"), 0700), 0);
  assert_int_equal(CALL(sys_mkdirat, (uint64_t)AT_FDCWD, gstr(fx, PATH_AT, "/tmp/d"), 0700),
                   -EEXIST);
  assert_int_equal(CALL(sys_mkdir, gstr(fx, PATH_AT, "/dir/x"), 0700), -EROFS);
  assert_int_equal(CALL(sys_creat, gstr(fx, PATH_AT, "/tmp/d/f"), 0600), 2);
  assert_int_equal(CALL(sys_rename, gstr(fx, PATH_AT, "/tmp/d/f"), gstr(fx, PATH2_AT, "/tmp/g")),
                   0);
  assert_int_equal(CALL(sys_renameat2, (uint64_t)AT_FDCWD, gstr(fx, PATH_AT, "/tmp/g"),
                        (uint64_t)AT_FDCWD, gstr(fx, PATH2_AT, "/data"), 0),
                   -EXDEV);
  assert_int_equal(CALL(sys_rmdir, gstr(fx, PATH_AT, "/tmp/d")), 0);
  assert_int_equal(CALL(sys_unlink, gstr(fx, PATH_AT, "/tmp/g")), 0);
  assert_int_equal(CALL(sys_unlinkat, (uint64_t)AT_FDCWD, gstr(fx, PATH_AT, "/tmp/g"), 0), -ENOENT);
  assert_int_equal(CALL(sys_umask, 077), 022);
  assert_int_equal(CALL(sys_umask, 022), 077);
}

static void pipes_eof_epipe_and_sigpipe(void **state) {
  struct fixture *fx = *state;
  assert_int_equal(CALL(sys_pipe2, BUF, O_CLOEXEC | O_NONBLOCK), 0);
  int fds[2];
  guest_read(fx, BUF, fds, sizeof fds);
  assert_int_equal(fds[0], 0);
  assert_int_equal(fds[1], 1);
  assert_int_equal(CALL(sys_fcntl, fds[0], F_GETFD), FD_CLOEXEC);
  assert_int_equal(CALL(sys_read, fds[0], BUF, 10), -EAGAIN);
  gstr(fx, BUF + 100, "ping");
  assert_int_equal(CALL(sys_write, fds[1], BUF + 100, 4), 4);
  assert_int_equal(CALL(sys_ioctl, fds[0], FIONREAD, BUF), 0);
  int avail;
  guest_read(fx, BUF, &avail, sizeof avail);
  assert_int_equal(avail, 4);
  assert_int_equal(CALL(sys_read, fds[0], BUF, 10), 4);
  assert_int_equal(CALL(sys_pread64, fds[0], BUF, 10, 0), -ESPIPE);
  assert_int_equal(CALL(sys_lseek, fds[0], 0, SEEK_SET), -ESPIPE);
  assert_int_equal(CALL(sys_fsync, fds[0]), -EINVAL);
  assert_int_equal(CALL(sys_close, fds[1]), 0);
  assert_int_equal(CALL(sys_read, fds[0], BUF, 10), 0); /* EOF */
  assert_int_equal(CALL(sys_pipe, BUF), 0);
  guest_read(fx, BUF, fds, sizeof fds);
  assert_int_equal(fds[0], 1);
  assert_int_equal(fds[1], 2);
  assert_int_equal(CALL(sys_close, fds[0]), 0);
  assert_int_equal(CALL(sys_write, fds[1], BUF + 100, 4), -EPIPE);
  assert_int_equal(last_signal, SIGPIPE);
  assert_int_equal(CALL(sys_pipe2, BUF, O_DIRECT), -EINVAL);
  int before = fdtable_count(&fx->vm.fds);
  assert_int_equal(CALL(sys_pipe2, RO_PAGE, 0), -EFAULT);
  assert_int_equal(fdtable_count(&fx->vm.fds), before); /* nothing leaked */
}

static struct fixture *alarm_fx;
static void on_alarm(int sig) { alarm_fx->vm.vcpu_wanted = 1; }

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A blocking read on a pipe only the guest could write sleeps for real
 * until the VM is stopped (here the timeout's signal), then is -EINTR. */
static void blocking_read_ends_when_the_vm_stops(void **state) {
  struct fixture *fx = *state;
  assert_int_equal(CALL(sys_pipe2, BUF, 0), 0);
  int fds[2];
  guest_read(fx, BUF, fds, sizeof fds);
  alarm_fx = fx;
  struct sigaction sa = {.sa_handler = on_alarm};
  sigaction(SIGALRM, &sa, NULL);
  struct timespec cpu0, cpu1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
  double t0 = now_s();
  alarm(1);
  assert_int_equal(CALL(sys_read, fds[0], BUF, 10), -EINTR);
  double waited = now_s() - t0;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
  double cpu = (cpu1.tv_sec - cpu0.tv_sec) + (cpu1.tv_nsec - cpu0.tv_nsec) / 1e9;
  assert_true(waited > 0.5);
  assert_true(cpu < 0.2); /* slept, did not spin */
  /* Once stopped, nothing blocks again. */
  assert_int_equal(CALL(sys_read, fds[0], BUF, 10), -EINTR);
  signal(SIGALRM, SIG_DFL);
}

static void descriptor_calls(void **state) {
  struct fixture *fx = *state;
  long fd = open_path(fx, "/data", O_RDONLY, 0);
  assert_int_equal(CALL(sys_dup, fd), 1);
  assert_int_equal(CALL(sys_dup2, fd, 7), 7);
  assert_int_equal(CALL(sys_dup2, fd, fd), fd);
  assert_int_equal(CALL(sys_dup2, 50, 50), -EBADF);
  assert_int_equal(CALL(sys_dup3, fd, fd, 0), -EINVAL);
  assert_int_equal(CALL(sys_dup3, fd, 8, O_CLOEXEC), 8);
  assert_int_equal(CALL(sys_fcntl, 8, F_GETFD), FD_CLOEXEC);
  assert_int_equal(CALL(sys_dup3, fd, 9, 1), -EINVAL);
  assert_int_equal(CALL(sys_dup2, fd, 100000), -EBADF);
  assert_int_equal(CALL(sys_fcntl, fd, F_DUPFD, 5), 5);
  assert_int_equal(CALL(sys_fcntl, fd, F_DUPFD_CLOEXEC, 5), 6);
  assert_int_equal(CALL(sys_fcntl, 6, F_GETFD), FD_CLOEXEC);
  assert_int_equal(CALL(sys_fcntl, fd, F_DUPFD, 100000), -EINVAL);
  assert_int_equal(CALL(sys_fcntl, fd, F_SETFD, FD_CLOEXEC), 0);
  assert_int_equal(CALL(sys_fcntl, fd, F_GETFD), FD_CLOEXEC);
  assert_int_equal(CALL(sys_ioctl, fd, FIONCLEX, 0), 0);
  assert_int_equal(CALL(sys_fcntl, fd, F_GETFD), 0);
  assert_int_equal(CALL(sys_ioctl, fd, FIOCLEX, 0), 0);
  assert_int_equal(CALL(sys_fcntl, fd, F_GETFD), FD_CLOEXEC);
  assert_int_equal(CALL(sys_fcntl, fd, F_SETFL, O_NONBLOCK | O_APPEND | O_RDWR), 0);
  assert_int_equal(CALL(sys_fcntl, fd, F_GETFL), O_RDONLY | O_NONBLOCK | O_APPEND | 0100000);
  int on = 0;
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, BUF, &on, sizeof on), 0);
  assert_int_equal(CALL(sys_ioctl, fd, FIONBIO, BUF), 0);
  assert_int_equal(CALL(sys_fcntl, fd, F_GETFL) & O_NONBLOCK, 0);
  assert_int_equal(CALL(sys_fcntl, fd, 12345), -EINVAL);
  assert_int_equal(CALL(sys_ioctl, fd, TCGETS, BUF), -ENOTTY);
  assert_int_equal(CALL(sys_ioctl, fd, TIOCGWINSZ, BUF), -ENOTTY);
  assert_int_equal(CALL(sys_ioctl, fd, FIONREAD, BUF), 0);
  int avail;
  guest_read(fx, BUF, &avail, sizeof avail);
  assert_int_equal(avail, DATA_SIZE);
  assert_int_equal(CALL(sys_ioctl, 77, FIONREAD, BUF), -EBADF);
  /* struct flock: l_type, l_whence, l_start, l_len, l_pid. */
  struct {
    int16_t type, whence;
    int32_t pad;
    int64_t start, len;
    int32_t pid, pad2;
  } fl = {.type = F_RDLCK, .whence = SEEK_SET, .len = 10};
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, BUF, &fl, sizeof fl), 0);
  assert_int_equal(CALL(sys_fcntl, fd, F_SETLK, BUF), 0);
  assert_int_equal(CALL(sys_fcntl, fd, F_GETLK, BUF), 0);
  guest_read(fx, BUF, &fl, sizeof fl);
  assert_int_equal(fl.type, F_UNLCK);
  assert_int_equal(fl.len, 10);
  fl.type = F_WRLCK;
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, BUF, &fl, sizeof fl), 0);
  assert_int_equal(CALL(sys_fcntl, fd, F_SETLKW, BUF), -EBADF); /* read-only description */
  fl.type = 9;
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, BUF, &fl, sizeof fl), 0);
  assert_int_equal(CALL(sys_fcntl, fd, F_SETLK, BUF), -EINVAL);
  assert_int_equal(CALL(sys_fcntl, fd, F_GETLK, HOLE), -EFAULT);
  /* O_PATH descriptors: fstat yes, read no. */
  long pfd = open_path(fx, "/data", O_PATH, 0);
  assert_true(pfd >= 0);
  assert_int_equal(CALL(sys_read, pfd, BUF, 1), -EBADF);
  assert_int_equal(CALL(sys_fstat, pfd, BUF), 0);
  assert_int_equal(CALL(sys_ioctl, pfd, FIONREAD, BUF), -EBADF);
}

static void emfile_at_the_limit(void **state) {
  struct fixture *fx = *state;
  fx->vm.fds.limit = 4;
  for (int i = 0; i < 4; i++)
    assert_int_equal(open_path(fx, "/dev/null", O_RDONLY, 0), i);
  assert_int_equal(open_path(fx, "/dev/null", O_RDONLY, 0), -EMFILE);
  assert_int_equal(CALL(sys_pipe2, BUF, 0), -EMFILE);
  assert_int_equal(fdtable_count(&fx->vm.fds), 4);
}

struct delayed_write {
  int fd;
  unsigned ms;
};

static void *write_later(void *arg) {
  struct delayed_write *d = arg;
  usleep(d->ms * 1000);
  assert_int_equal(write(d->fd, "x", 1), 1);
  return NULL;
}

static void poll_and_ppoll(void **state) {
  struct fixture *fx = *state;
  assert_int_equal(CALL(sys_pipe2, BUF, 0), 0);
  int p[2];
  guest_read(fx, BUF, p, sizeof p);
  long dev = open_path(fx, "/dev/null", O_WRONLY, 0);
  struct pollfd pfd[4] = {{.fd = p[0], .events = POLLIN},
                          {.fd = p[1], .events = POLLOUT},
                          {.fd = 99, .events = POLLIN},
                          {.fd = -1, .events = POLLIN}};
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, BUF, pfd, sizeof pfd), 0);
  assert_int_equal(CALL(sys_poll, BUF, 4, 0), 2);
  guest_read(fx, BUF, pfd, sizeof pfd);
  assert_int_equal(pfd[0].revents, 0);
  assert_int_equal(pfd[1].revents, POLLOUT);
  assert_int_equal(pfd[2].revents, POLLNVAL);
  assert_int_equal(pfd[3].revents, 0);
  /* Only the empty pipe: the timeout passes, asleep. */
  double t0 = now_s();
  assert_int_equal(CALL(sys_poll, BUF, 1, 150), 0);
  assert_true(now_s() - t0 >= 0.14);
  gstr(fx, BUF + 500, "z");
  assert_int_equal(CALL(sys_write, p[1], BUF + 500, 1), 1);
  assert_int_equal(CALL(sys_poll, BUF, 1, -1), 1);
  guest_read(fx, BUF, pfd, sizeof pfd[0]);
  assert_int_equal(pfd[0].revents, POLLIN);
  /* A file with no poll op is always ready. */
  struct pollfd d = {.fd = (int)dev, .events = POLLIN | POLLOUT};
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, BUF, &d, sizeof d), 0);
  assert_int_equal(CALL(sys_poll, BUF, 1, 0), 1);
  guest_read(fx, BUF, &d, sizeof d);
  assert_int_equal(d.revents, POLLIN | POLLOUT);
  assert_int_equal(CALL(sys_poll, BUF, 100000, 0), -EINVAL);
  assert_int_equal(CALL(sys_poll, HOLE, 1, 0), -EFAULT);
  /* ppoll: a bad timespec, a sigmask of the wrong size. */
  struct {
    int64_t sec, nsec;
  } ts = {0, 2000000000};
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, BUF + 800, &ts, sizeof ts), 0);
  assert_int_equal(CALL(sys_ppoll, BUF, 1, BUF + 800, 0, 8), -EINVAL);
  ts.nsec = 0;
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, BUF + 800, &ts, sizeof ts), 0);
  assert_int_equal(CALL(sys_ppoll, BUF, 1, BUF + 800, BUF + 900, 4), -EINVAL);
  assert_int_equal(CALL(sys_ppoll, BUF, 1, BUF + 800, BUF + 900, 8), 1);
}

/* The VMM's stdio: poll sleeps in the host until data arrives. */
static void poll_sleeps_on_host_stdio(void **state) {
  struct fixture *fx = *state;
  int hp[2];
  assert_int_equal(pipe(hp), 0);
  struct file *in = vfs_host_stdio(hp[0], O_RDONLY);
  assert_int_equal(fdtable_install_at(&fx->vm.fds, 0, in, false), 0);
  struct pollfd pfd = {.fd = 0, .events = POLLIN};
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, BUF, &pfd, sizeof pfd), 0);
  struct delayed_write d = {.fd = hp[1], .ms = 100};
  pthread_t t;
  pthread_create(&t, NULL, write_later, &d);
  double t0 = now_s();
  assert_int_equal(CALL(sys_poll, BUF, 1, 5000), 1);
  assert_true(now_s() - t0 < 4);
  guest_read(fx, BUF, &pfd, sizeof pfd);
  assert_int_equal(pfd.revents, POLLIN);
  pthread_join(t, NULL);
  assert_int_equal(CALL(sys_read, 0, BUF, 10), 1);
  /* A blocking read waits for the host, then gets the data. */
  d.ms = 50;
  pthread_create(&t, NULL, write_later, &d);
  assert_int_equal(CALL(sys_read, 0, BUF, 10), 1);
  pthread_join(t, NULL);
  assert_int_equal(CALL(sys_fcntl, 0, F_SETFL, O_NONBLOCK), 0);
  assert_int_equal(CALL(sys_read, 0, BUF, 10), -EAGAIN);
  close(hp[1]);
  assert_int_equal(CALL(sys_read, 0, BUF, 10), 0);
  assert_int_equal(CALL(sys_close, 0), 0);
  close(hp[0]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(read_a_host_file_across_pages, setup, teardown),
      cmocka_unit_test_setup_teardown(bad_pointers_fault_and_faults_midway_are_short, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(vectors_and_positions_in_tmp, setup, teardown),
      cmocka_unit_test_setup_teardown(positions_past_the_largest_offset, setup, teardown),
      cmocka_unit_test_setup_teardown(stat_family_layouts, setup, teardown),
      cmocka_unit_test_setup_teardown(directories_and_paths, setup, teardown),
      cmocka_unit_test_setup_teardown(pipes_eof_epipe_and_sigpipe, setup, teardown),
      cmocka_unit_test_setup_teardown(blocking_read_ends_when_the_vm_stops, setup, teardown),
      cmocka_unit_test_setup_teardown(descriptor_calls, setup, teardown),
      cmocka_unit_test_setup_teardown(emfile_at_the_limit, setup, teardown),
      cmocka_unit_test_setup_teardown(poll_and_ppoll, setup, teardown),
      cmocka_unit_test_setup_teardown(poll_sleeps_on_host_stdio, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
