/* sys_proc.c - the process family: exit, identity (proc.h explains the
 * numbers), thread-pointer and robust-list registration, arch_prctl,
 * resource limits, uname, sysinfo, CPU affinity, sched_yield, getrandom,
 * futex for a single thread, and clone/fork, which are not supported yet.
 * The guest is one process with one thread on one vCPU. */
#include <asm/prctl.h>
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>

#include "log.h"
#include "mem/gmem.h"
#include "mem/layout.h"
#include "mem/uaccess.h"
#include "proc.h"
#include "syscalls.h"
#include "timespec.h"
#include "vdso/vdso.h"
#include "vm.h"

#define GETRANDOM_MAX (32u << 20) /* per call; callers loop, as getrandom allows */
#define GETRANDOM_IOV 16
#define ROBUST_LIST_HEAD_SIZE 24 /* struct robust_list_head */
#define UTS_LEN 65

static bool proc_is_self(const struct vm *vm, int32_t pid) {
  return pid == 0 || pid == vm->proc.pid;
}

long sys_exit_group(struct vm *vm, const uint64_t *a) {
  vm_stop_exit(vm, (int)(a[0] & 0xff));
  return 0;
}

/* The only thread's exit is the process's. */
long sys_exit(struct vm *vm, const uint64_t *a) { return sys_exit_group(vm, a); }

long sys_getpid(struct vm *vm, const uint64_t *a) { return vm->proc.pid; }
long sys_gettid(struct vm *vm, const uint64_t *a) { return vm->proc.tid; }
long sys_getppid(struct vm *vm, const uint64_t *a) { return 0; }
long sys_getuid(struct vm *vm, const uint64_t *a) { return PROC_GUEST_UID; }
long sys_geteuid(struct vm *vm, const uint64_t *a) { return PROC_GUEST_UID; }
long sys_getgid(struct vm *vm, const uint64_t *a) { return PROC_GUEST_GID; }
long sys_getegid(struct vm *vm, const uint64_t *a) { return PROC_GUEST_GID; }

/* Kept for when threads exist: a process's last exit needs neither. */
long sys_set_tid_address(struct vm *vm, const uint64_t *a) {
  vm->proc.clear_child_tid = a[0];
  return vm->proc.tid;
}

long sys_set_robust_list(struct vm *vm, const uint64_t *a) {
  if (a[1] != ROBUST_LIST_HEAD_SIZE)
    return -EINVAL;
  vm->proc.robust_list = a[0];
  vm->proc.robust_len = a[1];
  return 0;
}

/* A KVM failure while serving a call is the VMM's: the VM ends. */
static long kvm_failed(struct vm *vm, const char *what, int rc) {
  vlog(VLOG_ERROR, "arch_prctl: cannot %s: %s", what, strerror(-rc));
  vm_stop_error(vm);
  return -EIO;
}

static long arch_prctl_set_base(struct vm *vm, bool fs, uint64_t base) {
  if (base >= LAYOUT_USER_TOP) /* Linux: -EPERM at or above TASK_SIZE_MAX */
    return -EPERM;
  int rc = fs ? vkvm_set_fs_base(&vm->kvm, base) : vkvm_set_gs_base(&vm->kvm, base);
  return rc < 0 ? kvm_failed(vm, "set a segment base", rc) : 0;
}

static long arch_prctl_get_base(struct vm *vm, bool fs, uint64_t gva) {
  uint64_t base;
  int rc = fs ? vkvm_get_fs_base(&vm->kvm, &base) : vkvm_get_gs_base(&vm->kvm, &base);
  if (rc < 0)
    return kvm_failed(vm, "read a segment base", rc);
  return uaccess_copy_to(&vm->mem, gva, &base, sizeof base);
}

long sys_arch_prctl(struct vm *vm, const uint64_t *a) {
  switch ((int)a[0]) {
  case ARCH_SET_FS:
  case ARCH_SET_GS:
    return arch_prctl_set_base(vm, (int)a[0] == ARCH_SET_FS, a[1]);
  case ARCH_GET_FS:
  case ARCH_GET_GS:
    return arch_prctl_get_base(vm, (int)a[0] == ARCH_GET_FS, a[1]);
  case ARCH_GET_CPUID:
    return 1; /* cpuid works, and nothing makes it fault */
  case ARCH_SET_CPUID:
    return -ENODEV; /* Linux's answer on a CPU without CPUID faulting */
  default:
    return -EINVAL;
  }
}

static void rlimit_warn_unenforced(unsigned resource, const struct guest_rlimit *want) {
  static bool warned;
  if (proc_rlimit_enforced(resource) || want->cur == GUEST_RLIM_INFINITY || warned)
    return;
  warned = true;
  vlog(VLOG_WARN, "the guest set resource limit %u, which hearth does not enforce yet", resource);
}

/* Sets a limit the caller has range-checked `resource` for. */
static long rlimit_apply(struct vm *vm, unsigned resource, const struct guest_rlimit *want) {
  int rc = proc_rlimit_check(&vm->proc, resource, want);
  if (rc < 0)
    return rc;
  rlimit_warn_unenforced(resource, want);
  vm->proc.rlim_cur[resource] = want->cur;
  vm->proc.rlim_max[resource] = want->max;
  if (resource == RLIMIT_NOFILE)
    vm->fds.limit = (int)want->cur; /* <= FDTABLE_HARD_MAX: checked */
  return 0;
}

static long rlimit_copy_out(struct vm *vm, unsigned resource, uint64_t gva) {
  struct guest_rlimit r = {vm->proc.rlim_cur[resource], vm->proc.rlim_max[resource]};
  return uaccess_copy_to(&vm->mem, gva, &r, sizeof r);
}

long sys_prlimit64(struct vm *vm, const uint64_t *a) {
  unsigned resource = (unsigned)a[1];
  struct guest_rlimit want, old;
  if (a[2] && uaccess_copy_from(&vm->mem, &want, a[2], sizeof want) < 0)
    return -EFAULT;
  if (!proc_is_self(vm, (int32_t)a[0]))
    return -ESRCH;
  if (resource >= PROC_RLIMIT_COUNT)
    return -EINVAL;
  old = (struct guest_rlimit){vm->proc.rlim_cur[resource], vm->proc.rlim_max[resource]};
  long rc = a[2] ? rlimit_apply(vm, resource, &want) : 0;
  if (rc == 0 && a[3] && uaccess_copy_to(&vm->mem, a[3], &old, sizeof old) < 0)
    rc = -EFAULT;
  return rc;
}

long sys_getrlimit(struct vm *vm, const uint64_t *a) {
  unsigned resource = (unsigned)a[0];
  if (resource >= PROC_RLIMIT_COUNT)
    return -EINVAL;
  return rlimit_copy_out(vm, resource, a[1]);
}

long sys_setrlimit(struct vm *vm, const uint64_t *a) {
  unsigned resource = (unsigned)a[0];
  struct guest_rlimit want;
  if (uaccess_copy_from(&vm->mem, &want, a[1], sizeof want) < 0)
    return -EFAULT;
  if (resource >= PROC_RLIMIT_COUNT)
    return -EINVAL;
  return rlimit_apply(vm, resource, &want);
}

struct guest_utsname {
  char sysname[UTS_LEN], nodename[UTS_LEN], release[UTS_LEN], version[UTS_LEN], machine[UTS_LEN],
      domainname[UTS_LEN];
};

long sys_uname(struct vm *vm, const uint64_t *a) {
  /* A release glibc and musl accept (they want >= 3.2), and that reads as
   * what it is. */
  static const struct guest_utsname uts = {"Linux",         "hearth", "6.1.0-hearth",
                                           "#1 SMP hearth", "x86_64", "(none)"};
  return uaccess_copy_to(&vm->mem, a[0], &uts, sizeof uts);
}

/* struct sysinfo (x86-64). */
struct guest_sysinfo {
  int64_t uptime;
  uint64_t loads[3];
  uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
  uint16_t procs, pad;
  uint32_t pad2;
  uint64_t totalhigh, freehigh;
  uint32_t mem_unit;
  uint32_t pad3;
};
_Static_assert(sizeof(struct guest_sysinfo) == 112, "struct sysinfo is 112 bytes");

long sys_sysinfo(struct vm *vm, const uint64_t *a) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  uint64_t up_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec - vm->proc.start_ns;
  /* Load averages stay 0: one process, and no history to average. */
  struct guest_sysinfo si = {
      .uptime = (int64_t)((up_ns + 999999999ULL) / 1000000000ULL), /* rounded up, as Linux */
      .totalram = vm->mem.size,
      .freeram = gmem_free_pages(&vm->mem) * GUEST_PAGE_SIZE,
      .procs = 1,
      .mem_unit = 1};
  return uaccess_copy_to(&vm->mem, a[0], &si, sizeof si);
}

long sys_sched_getaffinity(struct vm *vm, const uint64_t *a) {
  uint32_t len = (uint32_t)a[1];
  uint64_t mask = 1; /* CPU 0, the one vCPU */
  /* Linux: room for every possible CPU (one here), in whole longs. */
  if (len == 0 || len % sizeof mask)
    return -EINVAL;
  if (!proc_is_self(vm, (int32_t)a[0]))
    return -ESRCH;
  if (uaccess_copy_to(&vm->mem, a[2], &mask, sizeof mask) < 0)
    return -EFAULT;
  return sizeof mask;
}

/* Nothing else is runnable: yielding returns at once, which is its job. */
long sys_sched_yield(struct vm *vm, const uint64_t *a) { return 0; }

/* Fills a host buffer from the host's generator. The bytes filled (short
 * only when a signal interrupts a large request), or -errno when none. */
static ssize_t random_fill(uint8_t *p, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t got = getrandom(p + done, n - done, 0);
    if (got < 0)
      return done ? (ssize_t)done : -errno;
    done += (size_t)got;
  }
  return (ssize_t)done;
}

/* Fills guest memory straight from the host's generator, piece by piece;
 * stops at the first unwritable page, as Linux's short copy does. */
static long random_to_guest(struct vm *vm, uint64_t gva, size_t len) {
  size_t done = 0;
  while (done < len) {
    struct iovec iov[GETRANDOM_IOV];
    size_t covered;
    int n = uaccess_iov(&vm->mem, gva + done, len - done, true, iov, GETRANDOM_IOV, &covered);
    if (n < 0)
      return done ? (long)done : -EFAULT;
    for (int i = 0; i < n; i++) {
      ssize_t got = random_fill(iov[i].iov_base, iov[i].iov_len);
      if (got < 0)
        return done ? (long)done : got;
      done += (size_t)got;
      if ((size_t)got < iov[i].iov_len)
        return (long)done;
    }
  }
  return (long)done;
}

long sys_getrandom(struct vm *vm, const uint64_t *a) {
  uint32_t flags = (uint32_t)a[2];
  if (flags & ~(uint32_t)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
    return -EINVAL;
  if ((flags & (GRND_INSECURE | GRND_RANDOM)) == (GRND_INSECURE | GRND_RANDOM))
    return -EINVAL;
  /* The host's pool is long initialised: no flag changes what we give. */
  return random_to_guest(vm, a[0], a[1] < GETRANDOM_MAX ? a[1] : GETRANDOM_MAX);
}

/* A wait on a word no other thread can ever change or wake: it ends at its
 * deadline (-ETIMEDOUT), or never, until the VM is stopped (-EINTR). */
static long futex_wait(struct vm *vm, uint64_t uaddr, uint32_t val, clockid_t clk,
                       const struct timespec *deadline) {
  uint32_t word;
  if (uaddr % sizeof word)
    return -EINVAL;
  if (uaccess_copy_from(&vm->mem, &word, uaddr, sizeof word) < 0)
    return -EFAULT;
  if (word != val)
    return -EAGAIN;
  if (!deadline)
    VLOG_LIMITED(VLOG_WARN,
                 "futex wait at %#llx that no other thread can end: blocked until the "
                 "VM is stopped",
                 (unsigned long long)uaddr);
  /* The deadline is on the guest's clock, which a restore shifts from the host's. */
  int rc = vdso_sleep_until(vm, clk, deadline);
  return rc == 0 ? -ETIMEDOUT : rc;
}

/* Nobody waits: 0 woken, once the address passes Linux's checks. */
static long futex_wake(struct vm *vm, uint64_t uaddr, bool private) {
  if (uaddr % sizeof(uint32_t))
    return -EINVAL;
  if (!private && !uaccess_ptr(&vm->mem, uaddr, sizeof(uint32_t), false))
    return -EFAULT; /* a shared futex's key needs its page */
  return 0;
}

/* The deadline of a wait on the guest's clock: FUTEX_WAIT's timeout is
 * relative (monotonic), FUTEX_WAIT_BITSET's absolute on the clock the op
 * names. */
static long futex_deadline(struct vm *vm, uint64_t gva, bool relative, clockid_t clk,
                           struct timespec *deadline) {
  struct guest_timespec g;
  if (uaccess_copy_from(&vm->mem, &g, gva, sizeof g) < 0)
    return -EFAULT;
  if (!ts_valid(&g))
    return -EINVAL;
  *deadline = ts_from_guest(&g);
  if (relative) {
    struct timespec now;
    vdso_clock_now(vm, clk, &now);
    *deadline = ts_add(now, *deadline);
  }
  return 0;
}

long sys_futex(struct vm *vm, const uint64_t *a) {
  int op = (int)a[1], cmd = op & FUTEX_CMD_MASK;
  uint32_t val = (uint32_t)a[2], bitset = (uint32_t)a[5];
  clockid_t clk = (op & FUTEX_CLOCK_REALTIME) ? CLOCK_REALTIME : CLOCK_MONOTONIC;
  bool waits = cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET;
  struct timespec deadline;
  if (waits && a[3]) {
    long rc = futex_deadline(vm, a[3], cmd == FUTEX_WAIT, clk, &deadline);
    if (rc < 0)
      return rc;
  }
  if ((op & FUTEX_CLOCK_REALTIME) && cmd != FUTEX_WAIT_BITSET)
    return -ENOSYS; /* Linux allows it on the waits by bitset and the PI ops only */
  switch (cmd) {
  case FUTEX_WAIT:
  case FUTEX_WAIT_BITSET:
    if (cmd == FUTEX_WAIT_BITSET && bitset == 0)
      return -EINVAL;
    return futex_wait(vm, a[0], val, clk, a[3] ? &deadline : NULL);
  case FUTEX_WAKE:
  case FUTEX_WAKE_BITSET:
    if (cmd == FUTEX_WAKE_BITSET && bitset == 0)
      return -EINVAL;
    return futex_wake(vm, a[0], op & FUTEX_PRIVATE_FLAG);
  default:
    VLOG_LIMITED(VLOG_WARN, "futex op %d is not supported: ENOSYS", cmd);
    return -ENOSYS;
  }
}

static void proc_creation_unsupported(void) {
  static bool logged;
  if (!logged) {
    logged = true;
    vlog(VLOG_WARN, "process/thread creation is not supported yet");
  }
}

/* A new thread fails as it would past RLIMIT_NPROC (which is 1 here), so
 * pthread_create reports EAGAIN; a new process is not implemented. */
long sys_clone(struct vm *vm, const uint64_t *a) {
  proc_creation_unsupported();
  return (a[0] & CLONE_THREAD) ? -EAGAIN : -ENOSYS;
}

long sys_fork(struct vm *vm, const uint64_t *a) {
  proc_creation_unsupported();
  return -ENOSYS;
}
