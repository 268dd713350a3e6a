/* syscalls.h - every system call hearth-vmm serves: one handler per call,
 * grouped by family (one .c file per family), all listed in the single
 * dispatch table of syscall.c. A handler gets the six raw argument
 * registers and returns the value for RAX: a result, or -errno. It validates
 * every pointer, length and index itself (through uaccess.h). */
#ifndef HEARTH_VMM_SYSCALLS_H
#define HEARTH_VMM_SYSCALLS_H

#include <stdint.h>

struct vm;

typedef long sys_fn(struct vm *vm, const uint64_t *a);

/* sys_fs.c: files and descriptors */
sys_fn sys_read, sys_write, sys_readv, sys_writev, sys_pread64, sys_pwrite64, sys_preadv,
    sys_pwritev, sys_open, sys_openat, sys_creat, sys_close, sys_fstat, sys_newfstatat, sys_stat,
    sys_lstat, sys_statx, sys_lseek, sys_getdents64, sys_readlink, sys_readlinkat, sys_access,
    sys_faccessat, sys_faccessat2, sys_getcwd, sys_chdir, sys_fchdir, sys_mkdir, sys_mkdirat,
    sys_unlink, sys_unlinkat, sys_rmdir, sys_rename, sys_renameat, sys_renameat2, sys_ioctl,
    sys_fcntl, sys_dup, sys_dup2, sys_dup3, sys_pipe, sys_pipe2, sys_umask, sys_ftruncate,
    sys_fsync, sys_fdatasync;

/* sys_link.c: symbolic links (hard links are -EPERM) */
sys_fn sys_symlink, sys_symlinkat, sys_link, sys_linkat;

/* sys_poll.c: readiness */
sys_fn sys_poll, sys_ppoll;

/* sys_epoll.c: epoll instances */
sys_fn sys_epoll_create, sys_epoll_create1, sys_epoll_ctl, sys_epoll_wait, sys_epoll_pwait,
    sys_epoll_pwait2;

/* sys_mm.c: memory */
sys_fn sys_brk, sys_mmap, sys_munmap, sys_mprotect, sys_mremap, sys_madvise;

/* sys_proc.c: process identity, limits, exit */
sys_fn sys_exit, sys_exit_group, sys_getpid, sys_gettid, sys_getppid, sys_getuid, sys_geteuid,
    sys_getgid, sys_getegid, sys_set_tid_address, sys_set_robust_list, sys_arch_prctl,
    sys_prlimit64, sys_getrlimit, sys_setrlimit, sys_uname, sys_sysinfo, sys_sched_getaffinity,
    sys_sched_yield, sys_getrandom, sys_futex, sys_clone, sys_fork;

/* sys_time.c: clocks and sleeping */
sys_fn sys_clock_gettime, sys_clock_getres, sys_gettimeofday, sys_time, sys_nanosleep,
    sys_clock_nanosleep;

/* sys_net.c: sockets */
sys_fn sys_socket, sys_socketpair, sys_bind, sys_listen, sys_accept, sys_accept4, sys_connect,
    sys_getsockname, sys_getpeername, sys_shutdown, sys_setsockopt, sys_getsockopt, sys_sendto,
    sys_recvfrom, sys_sendmsg, sys_recvmsg;

/* sys_signal.c: signals */
sys_fn sys_execve;
sys_fn sys_rt_sigaction, sys_rt_sigprocmask, sys_rt_sigpending, sys_rt_sigreturn, sys_sigaltstack,
    sys_kill, sys_tkill, sys_tgkill;

#endif
