/* Unit tests of the time system calls (sys_time.c) and the blocking they
 * rely on (sleep.c): clock ids and pointers checked as Linux checks them,
 * readings that agree with the host, sleeps that really sleep, and sleeps
 * that a --timeout (a SIGALRM setting vm->vcpu_wanted) cuts short with
 * -EINTR and the time left. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <cmocka.h>

#include "fake_vm.h"
#include "kernel/syscalls.h"
#include "kernel/timespec.h"
#include "mem/uaccess.h"

#define DATA 0x400000ULL
#define RO 0x500000ULL

static struct vm *alarm_vm;

static void on_alarm(int sig) { alarm_vm->vcpu_wanted = 1; }

/* The --timeout of hearth-vmm, in miniature: SIGALRM after ms. */
static void arm_timeout(struct vm *vm, long ms) {
  alarm_vm = vm;
  struct sigaction sa = {.sa_handler = on_alarm};
  sigemptyset(&sa.sa_mask);
  assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
  struct itimerval it = {.it_value = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000}};
  assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
}

static int setup(void **state) {
  struct vm *vm = test_vm_new();
  test_vm_map(vm, DATA, 0x1000, GMEM_ACC_READ | GMEM_ACC_WRITE);
  test_vm_map(vm, RO, 0x1000, GMEM_ACC_READ);
  *state = vm;
  return 0;
}

static int teardown(void **state) {
  struct itimerval off = {0};
  setitimer(ITIMER_REAL, &off, NULL);
  test_vm_free(*state);
  return 0;
}

static long call(struct vm *vm, sys_fn *fn, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3) {
  const uint64_t a[6] = {a0, a1, a2, a3, 0, 0};
  return fn(vm, a);
}

static struct guest_timespec get_ts(struct vm *vm, uint64_t gva) {
  struct guest_timespec t;
  assert_int_equal(uaccess_copy_from(&vm->mem, &t, gva, sizeof t), 0);
  return t;
}

static void put_ts(struct vm *vm, uint64_t gva, int64_t sec, int64_t nsec) {
  struct guest_timespec t = {sec, nsec};
  assert_int_equal(uaccess_copy_to(&vm->mem, gva, &t, sizeof t), 0);
}

static double now_mono(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void timespec_rules(void **state) {
  struct guest_timespec ok = {5, 999999999}, neg_ns = {1, -1}, big_ns = {1, 1000000000},
                        neg_s = {-1, 0};
  assert_true(ts_valid(&ok));
  assert_false(ts_valid(&neg_ns));
  assert_false(ts_valid(&big_ns));
  assert_false(ts_valid(&neg_s));
  struct timespec sum = ts_add((struct timespec){1, 600000000}, (struct timespec){2, 500000000});
  assert_int_equal(sum.tv_sec, 4);
  assert_int_equal(sum.tv_nsec, 100000000);
  sum = ts_add((struct timespec){INT64_MAX - 1, 900000000}, (struct timespec){1, 200000000});
  assert_int_equal(sum.tv_sec, INT64_MAX); /* saturated, not wrapped */
  sum = ts_add((struct timespec){100, 0}, (struct timespec){INT64_MAX, 0});
  assert_int_equal(sum.tv_sec, INT64_MAX);
  struct timespec left = ts_until((struct timespec){10, 100}, (struct timespec){8, 200});
  assert_int_equal(left.tv_sec, 1);
  assert_int_equal(left.tv_nsec, 999999900);
  assert_true(ts_is_zero(ts_until((struct timespec){8, 0}, (struct timespec){9, 0})));
}

static void clock_gettime_reads_each_clock(void **state) {
  struct vm *vm = *state;
  static const int clocks[] = {
      CLOCK_REALTIME,         CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE,
      CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME,  CLOCK_TAI,           CLOCK_PROCESS_CPUTIME_ID,
      CLOCK_THREAD_CPUTIME_ID};
  for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
    assert_int_equal(call(vm, sys_clock_gettime, (uint64_t)clocks[i], DATA, 0, 0), 0);
    struct guest_timespec t = get_ts(vm, DATA);
    assert_true(ts_valid(&t));
    assert_true(t.tv_sec > 0 || t.tv_nsec > 0);
  }
  struct timespec host;
  clock_gettime(CLOCK_REALTIME, &host);
  assert_int_equal(call(vm, sys_clock_gettime, CLOCK_REALTIME, DATA, 0, 0), 0);
  struct guest_timespec g = get_ts(vm, DATA);
  assert_true(g.tv_sec - host.tv_sec <= 1 && g.tv_sec >= host.tv_sec);
}

static void clock_ids_and_pointers_are_checked(void **state) {
  struct vm *vm = *state;
  assert_int_equal(call(vm, sys_clock_gettime, 8 /* REALTIME_ALARM: no RTC */, DATA, 0, 0),
                   -EINVAL);
  assert_int_equal(call(vm, sys_clock_gettime, 10, DATA, 0, 0), -EINVAL);
  assert_int_equal(call(vm, sys_clock_gettime, 12, DATA, 0, 0), -EINVAL);
  assert_int_equal(call(vm, sys_clock_gettime, CLOCK_MONOTONIC, 0, 0, 0), -EFAULT);
  assert_int_equal(call(vm, sys_clock_gettime, CLOCK_MONOTONIC, RO, 0, 0), -EFAULT);
  assert_int_equal(call(vm, sys_clock_getres, 99, DATA, 0, 0), -EINVAL);
  assert_int_equal(call(vm, sys_clock_getres, CLOCK_MONOTONIC, 0, 0, 0), 0); /* NULL is fine */
  assert_int_equal(call(vm, sys_clock_getres, CLOCK_MONOTONIC, DATA, 0, 0), 0);
  struct guest_timespec res = get_ts(vm, DATA);
  assert_int_equal(res.tv_sec, 0);
  assert_true(res.tv_nsec >= 1);
  assert_int_equal(call(vm, sys_clock_getres, CLOCK_MONOTONIC, RO, 0, 0), -EFAULT);
}

/* clock_getcpuclockid / pthread_getcpuclockid ids for ourselves work,
 * anyone else's are invalid. */
static void dynamic_cpu_clocks_of_ourselves(void **state) {
  struct vm *vm = *state;
  int pid = vm->proc.pid;
  int32_t process = (int32_t)((~(uint32_t)pid << 3) | 2), thread = process | 4;
  int32_t other = (int32_t)((~(uint32_t)77 << 3) | 2), bad_which = process | 3;
  assert_int_equal(call(vm, sys_clock_gettime, (uint64_t)(int64_t)process, DATA, 0, 0), 0);
  assert_int_equal(call(vm, sys_clock_gettime, (uint64_t)(int64_t)thread, DATA, 0, 0), 0);
  assert_int_equal(call(vm, sys_clock_gettime, (uint64_t)(int64_t)other, DATA, 0, 0), -EINVAL);
  assert_int_equal(call(vm, sys_clock_gettime, (uint64_t)(int64_t)bad_which, DATA, 0, 0), -EINVAL);
  /* Sleeping on one's own thread clock is refused, as Linux refuses it. */
  put_ts(vm, DATA + 32, 0, 1000);
  assert_int_equal(call(vm, sys_clock_nanosleep, (uint64_t)(int64_t)thread, 0, DATA + 32, 0),
                   -EINVAL);
}

static void gettimeofday_and_time(void **state) {
  struct vm *vm = *state;
  struct timespec host;
  clock_gettime(CLOCK_REALTIME, &host);
  assert_int_equal(call(vm, sys_gettimeofday, 0, 0, 0, 0), 0);
  assert_int_equal(call(vm, sys_gettimeofday, DATA, DATA + 16, 0, 0), 0);
  int64_t tv[2];
  int32_t tz[2] = {-1, -1};
  assert_int_equal(uaccess_copy_from(&vm->mem, tv, DATA, sizeof tv), 0);
  assert_int_equal(uaccess_copy_from(&vm->mem, tz, DATA + 16, sizeof tz), 0);
  assert_true(tv[0] >= host.tv_sec && tv[0] <= host.tv_sec + 1);
  assert_true(tv[1] >= 0 && tv[1] < 1000000);
  assert_int_equal(tz[0], 0);
  assert_int_equal(tz[1], 0);
  assert_int_equal(call(vm, sys_gettimeofday, RO, 0, 0, 0), -EFAULT);
  assert_int_equal(call(vm, sys_gettimeofday, 0, RO, 0, 0), -EFAULT);

  long t = call(vm, sys_time, 0, 0, 0, 0);
  assert_true(t >= host.tv_sec && t <= host.tv_sec + 1);
  assert_true(call(vm, sys_time, DATA, 0, 0, 0) >= host.tv_sec);
  int64_t stored;
  assert_int_equal(uaccess_copy_from(&vm->mem, &stored, DATA, 8), 0);
  assert_true(stored >= host.tv_sec);
  assert_int_equal(call(vm, sys_time, RO, 0, 0, 0), -EFAULT);
}

static void nanosleep_really_sleeps(void **state) {
  struct vm *vm = *state;
  put_ts(vm, DATA, 0, 30 * 1000 * 1000);
  double start = now_mono();
  assert_int_equal(call(vm, sys_nanosleep, DATA, DATA + 16, 0, 0), 0);
  double took = now_mono() - start;
  assert_true(took >= 0.030);
  assert_true(took < 1.0);
  put_ts(vm, DATA, 0, 0);
  assert_int_equal(call(vm, sys_nanosleep, DATA, 0, 0, 0), 0);
}

static void nanosleep_checks_its_argument(void **state) {
  struct vm *vm = *state;
  put_ts(vm, DATA, 0, 1000000000);
  assert_int_equal(call(vm, sys_nanosleep, DATA, 0, 0, 0), -EINVAL);
  put_ts(vm, DATA, 0, -1);
  assert_int_equal(call(vm, sys_nanosleep, DATA, 0, 0, 0), -EINVAL);
  put_ts(vm, DATA, -1, 0);
  assert_int_equal(call(vm, sys_nanosleep, DATA, 0, 0, 0), -EINVAL);
  assert_int_equal(call(vm, sys_nanosleep, 0, 0, 0, 0), -EFAULT);
  assert_int_equal(call(vm, sys_nanosleep, RO + 0xff8, 0, 0, 0), -EFAULT); /* runs off the page */
}

static void a_timeout_interrupts_a_sleep_with_the_time_left(void **state) {
  struct vm *vm = *state;
  put_ts(vm, DATA, 10, 0);
  put_ts(vm, DATA + 16, -5, -5);
  arm_timeout(vm, 50);
  double start = now_mono();
  assert_int_equal(call(vm, sys_nanosleep, DATA, DATA + 16, 0, 0), -EINTR);
  double took = now_mono() - start;
  assert_true(took >= 0.045 && took < 2.0);
  struct guest_timespec rem = get_ts(vm, DATA + 16);
  assert_true(ts_valid(&rem));
  assert_true(rem.tv_sec >= 8 && rem.tv_sec <= 9);
  /* Once the VM is stopping, a sleep does not even start. */
  put_ts(vm, DATA, 0, 1);
  assert_int_equal(call(vm, sys_nanosleep, DATA, 0, 0, 0), -EINTR);
}

static void clock_nanosleep_absolute_and_relative(void **state) {
  struct vm *vm = *state;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  struct timespec deadline = ts_add(now, (struct timespec){0, 20 * 1000 * 1000});
  put_ts(vm, DATA, deadline.tv_sec, deadline.tv_nsec);
  assert_int_equal(call(vm, sys_clock_nanosleep, CLOCK_MONOTONIC, 1 /* TIMER_ABSTIME */, DATA, 0),
                   0);
  clock_gettime(CLOCK_MONOTONIC, &now);
  assert_true(ts_cmp(now, deadline) >= 0);
  /* A deadline in the past returns at once. */
  put_ts(vm, DATA, 1, 0);
  assert_int_equal(call(vm, sys_clock_nanosleep, CLOCK_REALTIME, 1, DATA, 0), 0);
  put_ts(vm, DATA, 0, 10 * 1000 * 1000);
  double start = now_mono();
  assert_int_equal(call(vm, sys_clock_nanosleep, CLOCK_BOOTTIME, 0, DATA, DATA + 16), 0);
  assert_true(now_mono() - start >= 0.010);
  /* Clocks without sleeping, bad clocks, bad arguments. */
  assert_int_equal(call(vm, sys_clock_nanosleep, CLOCK_MONOTONIC_RAW, 0, DATA, 0), -EOPNOTSUPP);
  assert_int_equal(call(vm, sys_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, DATA, 0), -EOPNOTSUPP);
  assert_int_equal(call(vm, sys_clock_nanosleep, 42, 0, DATA, 0), -EINVAL);
  put_ts(vm, DATA, 0, 1000000000);
  assert_int_equal(call(vm, sys_clock_nanosleep, CLOCK_MONOTONIC, 0, DATA, 0), -EINVAL);
  assert_int_equal(call(vm, sys_clock_nanosleep, CLOCK_MONOTONIC, 0, 0, 0), -EFAULT);
}

/* After a restore the guest's monotonic clock is the host's shifted by an
 * hour either way: 20 ms sleeps, relative or to an absolute guest deadline,
 * end by the guest's clock (a sleep an hour long would meet the alarm). */
static void sleeps_follow_a_restored_clock(void **state) {
  struct vm *vm = *state;
  const int64_t hour = 3600LL * 1000 * 1000 * 1000;
  for (int sign = -1; sign <= 1; sign += 2) {
    vm->vdso.mono_shift = sign * hour;
    arm_timeout(vm, 2000);
    put_ts(vm, DATA, 0, 20 * 1000 * 1000);
    assert_int_equal(call(vm, sys_nanosleep, DATA, 0, 0, 0), 0);
    struct timespec host;
    clock_gettime(CLOCK_MONOTONIC, &host);
    put_ts(vm, DATA, host.tv_sec + sign * 3600, host.tv_nsec);
    assert_int_equal(call(vm, sys_clock_nanosleep, CLOCK_MONOTONIC, 1 /* TIMER_ABSTIME */, DATA, 0),
                     0);
    assert_false(vm->vcpu_wanted);
  }
}

static void clock_nanosleep_interrupted_reports_time_left(void **state) {
  struct vm *vm = *state;
  put_ts(vm, DATA, 5, 0);
  arm_timeout(vm, 30);
  assert_int_equal(call(vm, sys_clock_nanosleep, CLOCK_MONOTONIC, 0, DATA, DATA + 16), -EINTR);
  struct guest_timespec rem = get_ts(vm, DATA + 16);
  assert_true(rem.tv_sec >= 3 && rem.tv_sec <= 4);
}

/* The guest's CPU time stands still while it sleeps: a sleep on it whose
 * deadline has not passed lasts until the VM is stopped. */
static void sleeping_on_our_own_cpu_clock(void **state) {
  struct vm *vm = *state;
  put_ts(vm, DATA, 0, 0);
  assert_int_equal(call(vm, sys_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 0, DATA, 0), 0);
  put_ts(vm, DATA, 0, 1);
  assert_int_equal(call(vm, sys_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 1, DATA, 0), 0);
  put_ts(vm, DATA, 0, 1000);
  arm_timeout(vm, 30);
  double start = now_mono();
  assert_int_equal(call(vm, sys_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 0, DATA, 0), -EINTR);
  assert_true(now_mono() - start >= 0.025);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(timespec_rules),
      T(clock_gettime_reads_each_clock),
      T(clock_ids_and_pointers_are_checked),
      T(dynamic_cpu_clocks_of_ourselves),
      T(gettimeofday_and_time),
      T(nanosleep_really_sleeps),
      T(nanosleep_checks_its_argument),
      T(a_timeout_interrupts_a_sleep_with_the_time_left),
      T(clock_nanosleep_absolute_and_relative),
      T(clock_nanosleep_interrupted_reports_time_left),
      T(sleeps_follow_a_restored_clock),
      T(sleeping_on_our_own_cpu_clock),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
