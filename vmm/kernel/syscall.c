/* syscall.c - the guest kernel's one dispatch table, from x86-64 system call
 * number to handler, with the argument shapes --trace-syscalls prints. */
#include "syscall.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "log.h"
#include "mem/uaccess.h"
#include "syscalls.h"
#include "vm.h"

/* Argument shapes, one letter per argument: d signed, u unsigned, x hex,
 * p pointer, s guest string, f descriptor (AT_FDCWD shown by name), o octal. */
struct syscall_entry {
  const char *name;
  sys_fn *fn;
  const char *args;
};

#define SC(nr, fn_, args_) [nr] = {#fn_, sys_##fn_, args_}
/* A call we know by name but do not serve: -ENOSYS, named in the log. */
#define SC_NAMED(nr, name_) [nr] = {#name_, NULL, ""}
/* A call answered -ENOSYS by design, as a kernel built without it answers
 * (glibc probes rseq at every start and copes): logged only at debug. */
#define SC_ABSENT(nr, name_) [nr] = {#name_, NULL, "-"}

static const struct syscall_entry syscall_table[] = {
    SC(SYS_read, read, "fpu"),
    SC(SYS_write, write, "fpu"),
    SC(SYS_open, open, "sxo"),
    SC(SYS_close, close, "f"),
    SC(SYS_stat, stat, "sp"),
    SC(SYS_fstat, fstat, "fp"),
    SC(SYS_lstat, lstat, "sp"),
    SC(SYS_poll, poll, "pud"),
    SC(SYS_lseek, lseek, "fdd"),
    SC(SYS_mmap, mmap, "pxxxfx"),
    SC(SYS_mprotect, mprotect, "pxx"),
    SC(SYS_munmap, munmap, "px"),
    SC(SYS_brk, brk, "p"),
    SC(SYS_rt_sigaction, rt_sigaction, "dppu"),
    SC(SYS_rt_sigprocmask, rt_sigprocmask, "dppu"),
    SC(SYS_rt_sigreturn, rt_sigreturn, ""),
    SC(SYS_rt_sigpending, rt_sigpending, "pu"),
    SC(SYS_ioctl, ioctl, "fxx"),
    SC(SYS_pread64, pread64, "fpud"),
    SC(SYS_pwrite64, pwrite64, "fpud"),
    SC(SYS_readv, readv, "fpd"),
    SC(SYS_writev, writev, "fpd"),
    SC(SYS_access, access, "so"),
    SC(SYS_pipe, pipe, "p"),
    SC(SYS_sched_yield, sched_yield, ""),
    SC(SYS_mremap, mremap, "pxxxp"),
    SC(SYS_madvise, madvise, "pxd"),
    SC(SYS_dup, dup, "f"),
    SC(SYS_dup2, dup2, "ff"),
    SC(SYS_nanosleep, nanosleep, "pp"),
    SC(SYS_getpid, getpid, ""),
    SC(SYS_clone, clone, "xpppx"),
    SC(SYS_fork, fork, ""),
    SC_NAMED(SYS_vfork, vfork),
    SC(SYS_execve, execve, "spp"),
    SC(SYS_exit, exit, "d"),
    SC(SYS_kill, kill, "dd"),
    SC(SYS_uname, uname, "p"),
    SC(SYS_fcntl, fcntl, "fdx"),
    SC(SYS_fsync, fsync, "f"),
    SC(SYS_fdatasync, fdatasync, "f"),
    SC(SYS_ftruncate, ftruncate, "fd"),
    SC(SYS_getcwd, getcwd, "pu"),
    SC(SYS_chdir, chdir, "s"),
    SC(SYS_fchdir, fchdir, "f"),
    SC(SYS_rename, rename, "ss"),
    SC(SYS_mkdir, mkdir, "so"),
    SC(SYS_rmdir, rmdir, "s"),
    SC(SYS_creat, creat, "so"),
    SC(SYS_unlink, unlink, "s"),
    SC(SYS_readlink, readlink, "spu"),
    SC(SYS_symlink, symlink, "ss"),
    SC(SYS_link, link, "ss"),
    SC(SYS_umask, umask, "o"),
    SC(SYS_gettimeofday, gettimeofday, "pp"),
    SC(SYS_getrlimit, getrlimit, "dp"),
    SC(SYS_sysinfo, sysinfo, "p"),
    SC(SYS_getuid, getuid, ""),
    SC(SYS_getgid, getgid, ""),
    SC(SYS_geteuid, geteuid, ""),
    SC(SYS_getegid, getegid, ""),
    SC(SYS_getppid, getppid, ""),
    SC(SYS_sigaltstack, sigaltstack, "pp"),
    SC(SYS_arch_prctl, arch_prctl, "xp"),
    SC(SYS_setrlimit, setrlimit, "dp"),
    SC(SYS_gettid, gettid, ""),
    SC(SYS_tkill, tkill, "dd"),
    SC(SYS_time, time, "p"),
    SC(SYS_futex, futex, "pdxppx"),
    SC(SYS_sched_getaffinity, sched_getaffinity, "dup"),
    SC(SYS_getdents64, getdents64, "fpu"),
    SC(SYS_set_tid_address, set_tid_address, "p"),
    SC(SYS_clock_gettime, clock_gettime, "dp"),
    SC(SYS_clock_getres, clock_getres, "dp"),
    SC(SYS_clock_nanosleep, clock_nanosleep, "dxpp"),
    SC(SYS_exit_group, exit_group, "d"),
    SC(SYS_tgkill, tgkill, "ddd"),
    SC(SYS_openat, openat, "fsxo"),
    SC(SYS_mkdirat, mkdirat, "fso"),
    SC(SYS_newfstatat, newfstatat, "fspx"),
    SC(SYS_unlinkat, unlinkat, "fsx"),
    SC(SYS_renameat, renameat, "fsfs"),
    SC(SYS_readlinkat, readlinkat, "fspu"),
    SC(SYS_symlinkat, symlinkat, "sfs"),
    SC(SYS_linkat, linkat, "fsfsx"),
    SC(SYS_faccessat, faccessat, "fso"),
    SC(SYS_ppoll, ppoll, "pupp"),
    SC(SYS_set_robust_list, set_robust_list, "pu"),
    SC(SYS_dup3, dup3, "ffx"),
    SC(SYS_pipe2, pipe2, "px"),
    SC(SYS_preadv, preadv, "fpdd"),
    SC(SYS_pwritev, pwritev, "fpdd"),
    SC(SYS_prlimit64, prlimit64, "ddpp"),
    SC(SYS_renameat2, renameat2, "fsfsx"),
    SC(SYS_getrandom, getrandom, "pux"),
    SC(SYS_statx, statx, "fsxxp"),
    SC_ABSENT(SYS_rseq, rseq),
    SC(SYS_faccessat2, faccessat2, "fsox"),
    SC_NAMED(SYS_clone3, clone3),
    SC_NAMED(SYS_wait4, wait4),
    SC(SYS_socket, socket, "dxd"),
    SC(SYS_socketpair, socketpair, "dxdp"),
    SC(SYS_connect, connect, "fpd"),
    SC(SYS_accept, accept, "fpp"),
    SC(SYS_sendto, sendto, "fpuxpd"),
    SC(SYS_recvfrom, recvfrom, "fpuxpp"),
    SC(SYS_sendmsg, sendmsg, "fpx"),
    SC(SYS_recvmsg, recvmsg, "fpx"),
    SC(SYS_shutdown, shutdown, "fd"),
    SC(SYS_bind, bind, "fpd"),
    SC(SYS_listen, listen, "fd"),
    SC(SYS_getsockname, getsockname, "fpp"),
    SC(SYS_getpeername, getpeername, "fpp"),
    SC(SYS_setsockopt, setsockopt, "fddpd"),
    SC(SYS_getsockopt, getsockopt, "fddpp"),
    SC(SYS_accept4, accept4, "fppx"),
    SC(SYS_epoll_create, epoll_create, "d"),
    SC(SYS_epoll_create1, epoll_create1, "x"),
    SC(SYS_epoll_ctl, epoll_ctl, "fdfp"),
    SC(SYS_epoll_wait, epoll_wait, "fpdd"),
    SC(SYS_epoll_pwait, epoll_pwait, "fpddpu"),
    SC(SYS_epoll_pwait2, epoll_pwait2, "fpdppu"),
    SC_NAMED(SYS_eventfd2, eventfd2),
    SC_NAMED(SYS_mlock, mlock),
    SC_NAMED(SYS_membarrier, membarrier),
};

#define SYSCALL_TABLE_SIZE (sizeof syscall_table / sizeof syscall_table[0])

static const struct syscall_entry *syscall_lookup(uint64_t nr) {
  return nr < SYSCALL_TABLE_SIZE && syscall_table[nr].name ? &syscall_table[nr] : NULL;
}

const char *syscall_name(uint64_t nr) {
  static char unknown[32];
  const struct syscall_entry *e = syscall_lookup(nr);
  if (e)
    return e->name;
  snprintf(unknown, sizeof unknown, "syscall_%llu", (unsigned long long)nr);
  return unknown;
}

/* Once per VM and name: "unsupported system call". A bitmap covers the
 * table; unknown numbers share one budget. */
static void syscall_log_unsupported(uint64_t nr) {
  static uint8_t logged[(SYSCALL_TABLE_SIZE + 7) / 8];
  /* Numbers the table lists no entry for have no args string at all. */
  const struct syscall_entry *e = syscall_lookup(nr);
  if (e && e->args[0] == '-') {
    vlog(VLOG_DEBUG, "%s: ENOSYS (not provided by design)", e->name);
    return;
  }
  if (nr < SYSCALL_TABLE_SIZE) {
    if (logged[nr / 8] & (1u << (nr % 8)))
      return;
    logged[nr / 8] |= (uint8_t)(1u << (nr % 8));
    vlog(VLOG_WARN, "unsupported system call %s (%llu): returning ENOSYS", syscall_name(nr),
         (unsigned long long)nr);
    return;
  }
  VLOG_LIMITED(VLOG_WARN, "unknown system call %llu: returning ENOSYS", (unsigned long long)nr);
}

/* A guest string as strace shows it: quoted, with control and non-ASCII
 * bytes escaped, so a guest cannot forge trace lines. */
static void trace_string(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(out, "\\%c", *p);
    else if (*p == '\n')
      fputs("\\n", out);
    else if (*p == '\t')
      fputs("\\t", out);
    else if (*p < 0x20 || *p >= 0x7f)
      fprintf(out, "\\x%02x", *p);
    else
      fputc(*p, out);
  }
  fputc('"', out);
}

static void trace_arg(struct vm *vm, FILE *out, char shape, uint64_t v) {
  switch (shape) {
  case 'd':
    fprintf(out, "%lld", (long long)v);
    break;
  case 'u':
    fprintf(out, "%llu", (unsigned long long)v);
    break;
  case 'o':
    fprintf(out, "%#llo", (unsigned long long)v);
    break;
  case 'f':
    if ((int)v == -100)
      fputs("AT_FDCWD", out);
    else
      fprintf(out, "%d", (int)v);
    break;
  case 's': {
    char s[64];
    long n = uaccess_strncpy_from(&vm->mem, s, v, sizeof s);
    if (n == -EFAULT)
      fprintf(out, "%#llx", (unsigned long long)v);
    else {
      trace_string(out, s);
      if (n < 0)
        fputs("...", out);
    }
    break;
  }
  default:
    fprintf(out, v ? "%#llx" : "NULL", (unsigned long long)v);
  }
}

static void trace_call(struct vm *vm, uint64_t nr, const uint64_t *a, long ret, double secs) {
  FILE *out = vm->cfg->trace;
  const struct syscall_entry *e = syscall_lookup(nr);
  fprintf(out, "%s(", syscall_name(nr));
  const char *shapes = e && e->fn ? e->args : "xxxxxx";
  for (int i = 0; shapes[i] && i < 6; i++) {
    if (i)
      fputs(", ", out);
    trace_arg(vm, out, shapes[i], a[i]);
  }
  if (ret < 0 && ret > -4096)
    fprintf(out, ") = -1 %s (%s) <%.6f>\n",
            strerrorname_np((int)-ret) ? strerrorname_np((int)-ret) : "E?", strerror((int)-ret),
            secs);
  else
    fprintf(out, ") = %#lx <%.6f>\n", ret, secs);
}

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

long syscall_dispatch(struct vm *vm, uint64_t nr, const uint64_t *a) {
  const struct syscall_entry *e = syscall_lookup(nr);
  double start = vm->cfg->trace ? now_seconds() : 0;
  long ret;
  vm->stats.syscalls++;
  if (nr < VM_STATS_SYSCALL_NRS)
    vm->stats.syscalls_by_nr[nr]++;
  else
    vm->stats.syscalls_other++;
  if (e && e->fn) {
    ret = e->fn(vm, a);
  } else {
    syscall_log_unsupported(nr);
    ret = -ENOSYS;
  }
  if (vm->cfg->trace)
    trace_call(vm, nr, a, ret, now_seconds() - start);
  return ret;
}
