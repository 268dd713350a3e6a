/* Unit tests of the process system calls (sys_proc.c) and the limits rules
 * (proc.c): identity, exit statuses, arch_prctl, resource limits, uname,
 * sysinfo, affinity, getrandom into guest memory, single-thread futexes,
 * and clone/fork refused with the errno Linux programs handle. */
#include <asm/prctl.h>
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>

#include <cmocka.h>

#include "fake_kvm.h"
#include "fake_vm.h"
#include "kernel/proc.h"
#include "kernel/syscalls.h"
#include "kernel/timespec.h"
#include "mem/layout.h"
#include "mem/uaccess.h"

#define DATA 0x400000ULL /* two writable pages, then a hole */
#define RO 0x500000ULL

static struct vm *alarm_vm;
static void on_alarm(int sig) { alarm_vm->vcpu_wanted = 1; }

static int setup(void **state) {
  struct vm *vm = test_vm_new();
  test_vm_map(vm, DATA, 0x2000, GMEM_ACC_READ | GMEM_ACC_WRITE);
  test_vm_map(vm, RO, 0x1000, GMEM_ACC_READ);
  fake_kvm_reset();
  *state = vm;
  return 0;
}

static int teardown(void **state) {
  struct itimerval off = {0};
  setitimer(ITIMER_REAL, &off, NULL);
  test_vm_free(*state);
  return 0;
}

static long call6(struct vm *vm, sys_fn *fn, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                  uint64_t a5) {
  const uint64_t a[6] = {a0, a1, a2, a3, 0, a5};
  return fn(vm, a);
}

static long call(struct vm *vm, sys_fn *fn, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3) {
  return call6(vm, fn, a0, a1, a2, a3, 0);
}

static void put(struct vm *vm, uint64_t gva, const void *p, size_t n) {
  assert_int_equal(uaccess_copy_to(&vm->mem, gva, p, n), 0);
}

static void get(struct vm *vm, uint64_t gva, void *p, size_t n) {
  assert_int_equal(uaccess_copy_from(&vm->mem, p, gva, n), 0);
}

static void identity_is_one_unprivileged_process(void **state) {
  struct vm *vm = *state;
  assert_int_equal(call(vm, sys_getpid, 0, 0, 0, 0), PROC_GUEST_PID);
  assert_int_equal(call(vm, sys_gettid, 0, 0, 0, 0), PROC_GUEST_PID);
  assert_int_not_equal(PROC_GUEST_PID, 1);
  assert_int_equal(call(vm, sys_getppid, 0, 0, 0, 0), 0);
  assert_int_equal(call(vm, sys_getuid, 0, 0, 0, 0), 1000);
  assert_int_equal(call(vm, sys_geteuid, 0, 0, 0, 0), 1000);
  assert_int_equal(call(vm, sys_getgid, 0, 0, 0, 0), 1000);
  assert_int_equal(call(vm, sys_getegid, 0, 0, 0, 0), 1000);
  assert_int_equal(call(vm, sys_set_tid_address, DATA, 0, 0, 0), PROC_GUEST_PID);
  assert_int_equal(vm->proc.clear_child_tid, DATA);
  assert_int_equal(call(vm, sys_set_robust_list, DATA, 16, 0, 0), -EINVAL);
  assert_int_equal(call(vm, sys_set_robust_list, DATA, 24, 0, 0), 0);
  assert_int_equal(vm->proc.robust_list, DATA);
}

static void exit_group_keeps_the_low_byte(void **state) {
  struct vm *vm = *state;
  call(vm, sys_exit_group, 257, 0, 0, 0);
  assert_int_equal(vm->stop, VM_STOP_EXIT);
  assert_int_equal(vm->stop_value, 1);
  vm->stop = VM_RUNNING;
  call(vm, sys_exit, (uint64_t)-1, 0, 0, 0);
  assert_int_equal(vm->stop, VM_STOP_EXIT);
  assert_int_equal(vm->stop_value, 255);
}

static void arch_prctl_sets_and_reads_segment_bases(void **state) {
  struct vm *vm = *state;
  assert_int_equal(call(vm, sys_arch_prctl, ARCH_SET_FS, 0x7f0000001000ULL, 0, 0), 0);
  assert_int_equal(fake_kvm.fs_base, 0x7f0000001000ULL);
  assert_int_equal(call(vm, sys_arch_prctl, ARCH_SET_GS, 0x1234, 0, 0), 0);
  assert_int_equal(fake_kvm.gs_base, 0x1234);
  assert_int_equal(call(vm, sys_arch_prctl, ARCH_GET_FS, DATA, 0, 0), 0);
  uint64_t v;
  get(vm, DATA, &v, 8);
  assert_int_equal(v, 0x7f0000001000ULL);
  assert_int_equal(call(vm, sys_arch_prctl, ARCH_GET_GS, DATA, 0, 0), 0);
  get(vm, DATA, &v, 8);
  assert_int_equal(v, 0x1234);
  assert_int_equal(call(vm, sys_arch_prctl, ARCH_GET_FS, RO, 0, 0), -EFAULT);
  /* At or above the top of user space, or not canonical: -EPERM. */
  assert_int_equal(call(vm, sys_arch_prctl, ARCH_SET_FS, LAYOUT_USER_TOP, 0, 0), -EPERM);
  assert_int_equal(call(vm, sys_arch_prctl, ARCH_SET_FS, 0xffff800000000000ULL, 0, 0), -EPERM);
  assert_int_equal(call(vm, sys_arch_prctl, ARCH_SET_GS, 0x0000900000000000ULL, 0, 0), -EPERM);
  assert_int_equal(fake_kvm.fs_base, 0x7f0000001000ULL);
  assert_int_equal(call(vm, sys_arch_prctl, ARCH_GET_CPUID, 0, 0, 0), 1);
  assert_int_equal(call(vm, sys_arch_prctl, ARCH_SET_CPUID, 0, 0, 0), -ENODEV);
  assert_int_equal(call(vm, sys_arch_prctl, 0x3001 /* ARCH_CET_STATUS */, DATA, 0, 0), -EINVAL);
  assert_int_equal(call(vm, sys_arch_prctl, 0, 0, 0, 0), -EINVAL);
  /* A KVM failure is the VMM's: the VM stops with an error. */
  fake_kvm.fail = -EIO;
  call(vm, sys_arch_prctl, ARCH_SET_FS, 0x1000, 0, 0);
  assert_int_equal(vm->stop, VM_STOP_ERROR);
}

static void initial_limits_describe_the_vm(void **state) {
  struct vm *vm = *state;
  const struct vm_proc *p = &vm->proc;
  assert_int_equal(p->rlim_cur[RLIMIT_STACK], TEST_VM_STACK_SIZE);
  assert_int_equal(p->rlim_max[RLIMIT_STACK], TEST_VM_STACK_SIZE);
  assert_int_equal(p->rlim_cur[RLIMIT_NOFILE], FDTABLE_DEFAULT_MAX);
  assert_int_equal(p->rlim_max[RLIMIT_NOFILE], FDTABLE_HARD_MAX);
  assert_int_equal(p->rlim_max[RLIMIT_RSS], TEST_VM_MEM);
  assert_int_equal(p->rlim_max[RLIMIT_CORE], 0);
  assert_int_equal(p->rlim_max[RLIMIT_NPROC], 1);
  assert_int_equal(p->rlim_max[RLIMIT_SIGPENDING], SIG_QUEUE_MAX);
  assert_int_equal(p->rlim_cur[RLIMIT_AS], RLIM_INFINITY);
  assert_int_equal(p->rlim_cur[RLIMIT_CPU], RLIM_INFINITY);
}

static void rlimit_rules(void **state) {
  struct vm *vm = *state;
  const struct vm_proc *p = &vm->proc;
  struct guest_rlimit r = {.cur = 10, .max = 5};
  assert_int_equal(proc_rlimit_check(p, RLIMIT_NOFILE, &r), -EINVAL); /* cur > max */
  r = (struct guest_rlimit){.cur = 5, .max = 10};
  assert_int_equal(proc_rlimit_check(p, 16, &r), -EINVAL);
  assert_int_equal(proc_rlimit_check(p, RLIMIT_NOFILE, &r), 0);
  r = (struct guest_rlimit){.cur = 64, .max = FDTABLE_HARD_MAX + 1};
  assert_int_equal(proc_rlimit_check(p, RLIMIT_NOFILE, &r), -EPERM);
  r = (struct guest_rlimit){.cur = 1, .max = 2};
  assert_int_equal(proc_rlimit_check(p, RLIMIT_NPROC, &r), -EPERM); /* raising the hard limit */
  r = (struct guest_rlimit){.cur = 0, .max = 0};
  assert_int_equal(proc_rlimit_check(p, RLIMIT_NPROC, &r), 0);
  assert_false(proc_rlimit_enforced(RLIMIT_CPU));
  assert_true(proc_rlimit_enforced(RLIMIT_NOFILE));
}

static void prlimit_gets_sets_and_updates_the_fd_table(void **state) {
  struct vm *vm = *state;
  struct guest_rlimit want = {.cur = 100, .max = 200}, old;
  put(vm, DATA, &want, sizeof want);
  assert_int_equal(call(vm, sys_prlimit64, 0, RLIMIT_NOFILE, DATA, DATA + 16), 0);
  get(vm, DATA + 16, &old, sizeof old);
  assert_int_equal(old.cur, FDTABLE_DEFAULT_MAX);
  assert_int_equal(old.max, FDTABLE_HARD_MAX);
  assert_int_equal(vm->fds.limit, 100);
  /* The hard limit, once lowered, cannot be raised again. */
  want = (struct guest_rlimit){.cur = 100, .max = 300};
  put(vm, DATA, &want, sizeof want);
  assert_int_equal(call(vm, sys_prlimit64, (uint64_t)vm->proc.pid, RLIMIT_NOFILE, DATA, 0), -EPERM);
  assert_int_equal(vm->proc.rlim_max[RLIMIT_NOFILE], 200);
  assert_int_equal(call(vm, sys_prlimit64, 1, RLIMIT_NOFILE, 0, DATA + 16), -ESRCH);
  assert_int_equal(call(vm, sys_prlimit64, 0, 16, 0, DATA + 16), -EINVAL);
  assert_int_equal(call(vm, sys_prlimit64, 0, RLIMIT_NOFILE, 0x10, 0), -EFAULT);
  assert_int_equal(call(vm, sys_prlimit64, 0, RLIMIT_NOFILE, 0, RO), -EFAULT);

  assert_int_equal(call(vm, sys_getrlimit, RLIMIT_STACK, DATA + 16, 0, 0), 0);
  get(vm, DATA + 16, &old, sizeof old);
  assert_int_equal(old.cur, TEST_VM_STACK_SIZE);
  assert_int_equal(call(vm, sys_getrlimit, 99, DATA + 16, 0, 0), -EINVAL);
  assert_int_equal(call(vm, sys_getrlimit, RLIMIT_STACK, RO, 0, 0), -EFAULT);
  want = (struct guest_rlimit){.cur = 0, .max = 0};
  put(vm, DATA, &want, sizeof want);
  assert_int_equal(call(vm, sys_setrlimit, RLIMIT_CORE, DATA, 0, 0), 0);
  assert_int_equal(call(vm, sys_setrlimit, RLIMIT_CORE, 0x10, 0, 0), -EFAULT);
  assert_int_equal(call(vm, sys_setrlimit, 16, DATA, 0, 0), -EINVAL);
}

static void uname_says_linux_x86_64(void **state) {
  struct vm *vm = *state;
  assert_int_equal(sizeof(struct utsname), 6 * 65); /* the layout we write */
  assert_int_equal(call(vm, sys_uname, DATA, 0, 0, 0), 0);
  struct utsname u;
  get(vm, DATA, &u, sizeof u);
  assert_string_equal(u.sysname, "Linux");
  assert_string_equal(u.nodename, "hearth");
  assert_string_equal(u.machine, "x86_64");
  assert_string_equal(u.domainname, "(none)");
  int major = 0, minor = 0;
  assert_int_equal(sscanf(u.release, "%d.%d", &major, &minor), 2);
  assert_true(major > 3 || (major == 3 && minor >= 2)); /* glibc's minimum */
  assert_int_equal(call(vm, sys_uname, RO, 0, 0, 0), -EFAULT);
}

static void sysinfo_reports_guest_memory(void **state) {
  struct vm *vm = *state;
  assert_int_equal(sizeof(struct sysinfo), 112);
  assert_int_equal(call(vm, sys_sysinfo, DATA, 0, 0, 0), 0);
  struct sysinfo si;
  get(vm, DATA, &si, sizeof si);
  assert_int_equal(si.totalram, TEST_VM_MEM);
  assert_int_equal(si.freeram, gmem_free_pages(&vm->mem) * 4096);
  assert_true(si.freeram > 0 && si.freeram < si.totalram);
  assert_int_equal(si.procs, 1);
  assert_int_equal(si.mem_unit, 1);
  assert_int_equal(si.totalswap, 0);
  assert_true(si.uptime >= 0 && si.uptime <= 5);
  vm->proc.start_ns -= 100ULL * 1000000000ULL; /* as if started 100 s ago */
  assert_int_equal(call(vm, sys_sysinfo, DATA, 0, 0, 0), 0);
  get(vm, DATA, &si, sizeof si);
  assert_true(si.uptime >= 100 && si.uptime <= 105);
  assert_int_equal(call(vm, sys_sysinfo, RO, 0, 0, 0), -EFAULT);
}

static void affinity_is_one_cpu(void **state) {
  struct vm *vm = *state;
  uint64_t junk = ~0ULL, mask;
  put(vm, DATA, &junk, 8);
  put(vm, DATA + 8, &junk, 8);
  assert_int_equal(call(vm, sys_sched_getaffinity, 0, 0, DATA, 0), -EINVAL);
  assert_int_equal(call(vm, sys_sched_getaffinity, 0, 4, DATA, 0), -EINVAL);
  assert_int_equal(call(vm, sys_sched_getaffinity, 0, 12, DATA, 0), -EINVAL);
  assert_int_equal(call(vm, sys_sched_getaffinity, 0, 128, DATA, 0), 8);
  get(vm, DATA, &mask, 8);
  assert_int_equal(mask, 1);
  get(vm, DATA + 8, &mask, 8);
  assert_int_equal(mask, ~0ULL); /* only the bytes returned are written */
  assert_int_equal(call(vm, sys_sched_getaffinity, (uint64_t)vm->proc.pid, 8, DATA, 0), 8);
  assert_int_equal(call(vm, sys_sched_getaffinity, 33, 8, DATA, 0), -ESRCH);
  assert_int_equal(call(vm, sys_sched_getaffinity, 0, 8, RO, 0), -EFAULT);
  assert_int_equal(call(vm, sys_sched_yield, 0, 0, 0, 0), 0);
}

static bool all_zero(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i])
      return false;
  return true;
}

static void getrandom_fills_guest_memory(void **state) {
  struct vm *vm = *state;
  uint8_t buf[0x2000];
  assert_int_equal(call(vm, sys_getrandom, DATA, 64, 0, 0), 64);
  get(vm, DATA, buf, 64);
  assert_false(all_zero(buf, 64));
  assert_false(all_zero(buf, 32) && all_zero(buf + 32, 32));
  /* Across the page boundary, and short where the mapping ends. */
  assert_int_equal(call(vm, sys_getrandom, DATA + 0x1000 - 8, 16, GRND_NONBLOCK, 0), 16);
  assert_int_equal(call(vm, sys_getrandom, DATA + 0x1800, 0x1000, 0, 0), 0x800);
  assert_int_equal(call(vm, sys_getrandom, DATA + 0x2000, 16, 0, 0), -EFAULT);
  assert_int_equal(call(vm, sys_getrandom, RO, 16, 0, 0), -EFAULT);
  assert_int_equal(call(vm, sys_getrandom, DATA, 0, 0, 0), 0);
  assert_int_equal(call(vm, sys_getrandom, DATA, 16, 0x8, 0), -EINVAL);
  assert_int_equal(call(vm, sys_getrandom, DATA, 16, GRND_RANDOM | GRND_INSECURE, 0), -EINVAL);
  assert_int_equal(call(vm, sys_getrandom, DATA, 16, GRND_INSECURE, 0), 16);
}

static void futex_wait_checks_the_word(void **state) {
  struct vm *vm = *state;
  uint32_t word = 7;
  put(vm, DATA, &word, 4);
  assert_int_equal(call(vm, sys_futex, DATA, FUTEX_WAIT_PRIVATE, 8, 0), -EAGAIN);
  assert_int_equal(call(vm, sys_futex, DATA + 2, FUTEX_WAIT_PRIVATE, 7, 0), -EINVAL);
  assert_int_equal(call(vm, sys_futex, 0x10, FUTEX_WAIT, 7, 0), -EFAULT);
  assert_int_equal(call6(vm, sys_futex, DATA, FUTEX_WAIT_BITSET, 7, 0, 0), -EINVAL);
  assert_int_equal(call(vm, sys_futex, DATA, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 7, 0), -ENOSYS);
  struct guest_timespec bad = {0, 1000000000};
  put(vm, DATA + 64, &bad, sizeof bad);
  assert_int_equal(call(vm, sys_futex, DATA, FUTEX_WAIT, 7, DATA + 64), -EINVAL);
  assert_int_equal(call(vm, sys_futex, DATA, FUTEX_WAIT, 7, 0x10), -EFAULT);
}

static double now_mono(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void futex_wait_times_out(void **state) {
  struct vm *vm = *state;
  uint32_t word = 7;
  put(vm, DATA, &word, 4);
  struct guest_timespec rel = {0, 20 * 1000 * 1000};
  put(vm, DATA + 64, &rel, sizeof rel);
  double start = now_mono();
  assert_int_equal(call(vm, sys_futex, DATA, FUTEX_WAIT_PRIVATE, 7, DATA + 64), -ETIMEDOUT);
  assert_true(now_mono() - start >= 0.020);
  /* WAIT_BITSET: an absolute deadline, here on CLOCK_REALTIME. */
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct timespec dl = ts_add(now, (struct timespec){0, 20 * 1000 * 1000});
  struct guest_timespec abs = {dl.tv_sec, dl.tv_nsec};
  put(vm, DATA + 64, &abs, sizeof abs);
  start = now_mono();
  assert_int_equal(call6(vm, sys_futex, DATA, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 7,
                         DATA + 64, FUTEX_BITSET_MATCH_ANY),
                   -ETIMEDOUT);
  assert_true(now_mono() - start >= 0.015);
}

static void futex_wait_forever_ends_with_the_vm(void **state) {
  struct vm *vm = *state;
  uint32_t word = 0;
  put(vm, DATA, &word, 4);
  alarm_vm = vm;
  struct sigaction sa = {.sa_handler = on_alarm};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {.it_value = {.tv_usec = 30000}};
  setitimer(ITIMER_REAL, &it, NULL);
  double start = now_mono();
  assert_int_equal(call(vm, sys_futex, DATA, FUTEX_WAIT_PRIVATE, 0, 0), -EINTR);
  assert_true(now_mono() - start >= 0.025);
}

/* After a restore the guest's monotonic clock is the host's shifted by
 * vdso.mono_shift: a wait of 20 ms, relative or absolute on the guest's
 * clock, must end by its deadline, neither at once nor an hour late. A
 * 2 s alarm (the VM's timeout) turns an hour-long wait into -EINTR. */
static void futex_deadlines_are_on_the_guests_clock(void **state) {
  struct vm *vm = *state;
  const int64_t hour = 3600LL * 1000 * 1000 * 1000;
  uint32_t word = 7;
  put(vm, DATA, &word, 4);
  alarm_vm = vm;
  struct sigaction sa = {.sa_handler = on_alarm};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, NULL);
  for (int sign = -1; sign <= 1; sign += 2) {
    vm->vdso.mono_shift = sign * hour;
    struct itimerval it = {.it_value = {.tv_sec = 2}};
    setitimer(ITIMER_REAL, &it, NULL);
    struct guest_timespec rel = {0, 20 * 1000 * 1000};
    put(vm, DATA + 64, &rel, sizeof rel);
    assert_int_equal(call(vm, sys_futex, DATA, FUTEX_WAIT_PRIVATE, 7, DATA + 64), -ETIMEDOUT);
    struct timespec host;
    clock_gettime(CLOCK_MONOTONIC, &host);
    struct guest_timespec abs = {host.tv_sec + sign * 3600, host.tv_nsec};
    put(vm, DATA + 64, &abs, sizeof abs);
    assert_int_equal(
        call6(vm, sys_futex, DATA, FUTEX_WAIT_BITSET_PRIVATE, 7, DATA + 64, FUTEX_BITSET_MATCH_ANY),
        -ETIMEDOUT);
    assert_false(vm->vcpu_wanted);
  }
}

static void futex_wake_wakes_nobody(void **state) {
  struct vm *vm = *state;
  assert_int_equal(call(vm, sys_futex, DATA, FUTEX_WAKE_PRIVATE, 1, 0), 0);
  assert_int_equal(call(vm, sys_futex, DATA, FUTEX_WAKE, INT32_MAX, 0), 0);
  assert_int_equal(call(vm, sys_futex, DATA + 1, FUTEX_WAKE, 1, 0), -EINVAL);
  assert_int_equal(call(vm, sys_futex, 0x10, FUTEX_WAKE, 1, 0), -EFAULT); /* shared: needs page */
  assert_int_equal(call(vm, sys_futex, 0x10, FUTEX_WAKE_PRIVATE, 1, 0), 0);
  assert_int_equal(call6(vm, sys_futex, DATA, FUTEX_WAKE_BITSET, 1, 0, 0), -EINVAL);
  assert_int_equal(call(vm, sys_futex, DATA, FUTEX_CMP_REQUEUE, 1, 0), -ENOSYS);
  assert_int_equal(call(vm, sys_futex, DATA, FUTEX_LOCK_PI, 0, 0), -ENOSYS);
}

static void clone_and_fork_are_refused(void **state) {
  struct vm *vm = *state;
  uint64_t thread_flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                          CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
  assert_int_equal(call(vm, sys_clone, thread_flags, DATA, 0, 0), -EAGAIN);
  assert_int_equal(call(vm, sys_clone, SIGCHLD, 0, 0, 0), -ENOSYS);
  assert_int_equal(call(vm, sys_clone, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0), -ENOSYS);
  assert_int_equal(call(vm, sys_fork, 0, 0, 0, 0), -ENOSYS);
  assert_int_equal(vm->stop, VM_RUNNING);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(identity_is_one_unprivileged_process),
      T(exit_group_keeps_the_low_byte),
      T(arch_prctl_sets_and_reads_segment_bases),
      T(initial_limits_describe_the_vm),
      T(rlimit_rules),
      T(prlimit_gets_sets_and_updates_the_fd_table),
      T(uname_says_linux_x86_64),
      T(sysinfo_reports_guest_memory),
      T(affinity_is_one_cpu),
      T(getrandom_fills_guest_memory),
      T(futex_wait_checks_the_word),
      T(futex_wait_times_out),
      T(futex_wait_forever_ends_with_the_vm),
      T(futex_deadlines_are_on_the_guests_clock),
      T(futex_wake_wakes_nobody),
      T(clone_and_fork_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
