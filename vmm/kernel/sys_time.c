/* sys_time.c - clocks and sleeping: clock_gettime, clock_getres,
 * gettimeofday, time, nanosleep, clock_nanosleep. The guest's clocks are the
 * host's, read through the vDSO's line while it is live (vdso/vdso.h), so a
 * system call and the vDSO never disagree. Its CPU-time clocks (process
 * and thread, which are the same for a single-threaded guest) read the vCPU
 * thread's CPU time: the guest's own running plus the VMM's work on its
 * behalf, as a kernel would count it. The guest has no RTC device, so the
 * alarm clocks are invalid, as on a Linux machine without one. */
#include <errno.h>
#include <time.h>

#include "mem/uaccess.h"
#include "sleep.h"
#include "syscalls.h"
#include "timespec.h"
#include "vdso/vdso.h"
#include "vm.h"

#define GUEST_TIMER_ABSTIME 1
/* Dynamic CPU-clock ids (clock_getcpuclockid, pthread_getcpuclockid):
 * ~pid << 3 | per-thread bit | which clock. */
#define CPUCLOCK_PERTHREAD 4
#define CPUCLOCK_WHICH_MASK 3
#define CPUCLOCK_WHICH_MAX 3

/* How clock_nanosleep treats a clock. */
enum clock_sleep {
  CLOCK_SLEEP_REAL,   /* sleeps on the host clock */
  CLOCK_SLEEP_CPU,    /* the guest's own CPU time: frozen while it sleeps */
  CLOCK_SLEEP_EINVAL, /* its own thread's CPU clock: Linux refuses */
  CLOCK_SLEEP_NONE,   /* a clock without sleeping: -EOPNOTSUPP */
};

struct guest_clock {
  clockid_t host;
  enum clock_sleep sleep;
};

struct guest_timeval {
  int64_t tv_sec, tv_usec;
};

struct guest_timezone {
  int32_t tz_minuteswest, tz_dsttime;
};

static int cpu_clock_lookup(const struct vm *vm, int32_t id, struct guest_clock *c) {
  int32_t pid = ~(id >> 3);
  if ((id & CPUCLOCK_WHICH_MASK) >= CPUCLOCK_WHICH_MAX)
    return -EINVAL;
  if (pid != 0 && pid != vm->proc.pid) /* tid == pid: one thread */
    return -EINVAL;
  c->host = CLOCK_THREAD_CPUTIME_ID;
  c->sleep = (id & CPUCLOCK_PERTHREAD) ? CLOCK_SLEEP_EINVAL : CLOCK_SLEEP_CPU;
  return 0;
}

/* The host clock behind guest clock `id`; -EINVAL for an invalid one. */
static int guest_clock_lookup(const struct vm *vm, int32_t id, struct guest_clock *c) {
  switch (id) {
  case CLOCK_REALTIME:
  case CLOCK_MONOTONIC:
  case CLOCK_BOOTTIME:
  case CLOCK_TAI:
    *c = (struct guest_clock){.host = id, .sleep = CLOCK_SLEEP_REAL};
    return 0;
  case CLOCK_MONOTONIC_RAW:
  case CLOCK_REALTIME_COARSE:
  case CLOCK_MONOTONIC_COARSE:
    *c = (struct guest_clock){.host = id, .sleep = CLOCK_SLEEP_NONE};
    return 0;
  case CLOCK_PROCESS_CPUTIME_ID:
    *c = (struct guest_clock){.host = CLOCK_THREAD_CPUTIME_ID, .sleep = CLOCK_SLEEP_CPU};
    return 0;
  case CLOCK_THREAD_CPUTIME_ID:
    *c = (struct guest_clock){.host = CLOCK_THREAD_CPUTIME_ID, .sleep = CLOCK_SLEEP_NONE};
    return 0;
  default:
    return id < 0 ? cpu_clock_lookup(vm, id, c) : -EINVAL;
  }
}

static long copy_timespec_out(struct vm *vm, uint64_t gva, struct timespec t) {
  struct guest_timespec g = ts_to_guest(t);
  return uaccess_copy_to(&vm->mem, gva, &g, sizeof g);
}

/* Copies in and validates a duration or deadline: -EFAULT or -EINVAL. */
static int copy_timespec_in(struct vm *vm, uint64_t gva, struct timespec *t) {
  struct guest_timespec g;
  if (uaccess_copy_from(&vm->mem, &g, gva, sizeof g) < 0)
    return -EFAULT;
  if (!ts_valid(&g))
    return -EINVAL;
  *t = ts_from_guest(&g);
  return 0;
}

long sys_clock_gettime(struct vm *vm, const uint64_t *a) {
  struct guest_clock c;
  int rc = guest_clock_lookup(vm, (int32_t)a[0], &c);
  if (rc < 0)
    return rc;
  struct timespec now;
  vdso_clock_now(vm, c.host, &now); /* the vDSO's clock, which the guest also reads */
  return copy_timespec_out(vm, a[1], now);
}

long sys_clock_getres(struct vm *vm, const uint64_t *a) {
  struct guest_clock c;
  int rc = guest_clock_lookup(vm, (int32_t)a[0], &c);
  if (rc < 0 || a[1] == 0)
    return rc;
  struct timespec res;
  clock_getres(c.host, &res);
  return copy_timespec_out(vm, a[1], res);
}

long sys_gettimeofday(struct vm *vm, const uint64_t *a) {
  if (a[0]) {
    struct timespec now;
    vdso_clock_now(vm, CLOCK_REALTIME, &now);
    struct guest_timeval tv = {.tv_sec = now.tv_sec, .tv_usec = now.tv_nsec / 1000};
    if (uaccess_copy_to(&vm->mem, a[0], &tv, sizeof tv) < 0)
      return -EFAULT;
  }
  /* The kernel's timezone is UTC with no DST, as Linux's is unless set. */
  struct guest_timezone tz = {0, 0};
  if (a[1] && uaccess_copy_to(&vm->mem, a[1], &tz, sizeof tz) < 0)
    return -EFAULT;
  return 0;
}

long sys_time(struct vm *vm, const uint64_t *a) {
  struct timespec now;
  vdso_clock_now(vm, CLOCK_REALTIME, &now);
  int64_t secs = now.tv_sec;
  if (a[0] && uaccess_copy_to(&vm->mem, a[0], &secs, sizeof secs) < 0)
    return -EFAULT;
  return secs;
}

/* Sleeps `len` on clk. Interrupted (the VM is being stopped): -EINTR, with
 * the time left written to rem_gva when given. */
static long sleep_relative(struct vm *vm, clockid_t clk, struct timespec len, uint64_t rem_gva) {
  struct timespec now, deadline;
  vdso_clock_now(vm, clk, &now);
  deadline = ts_add(now, len);
  int rc = vdso_sleep_until(vm, clk, &deadline);
  if (rc != -EINTR || !rem_gva)
    return rc;
  vdso_clock_now(vm, clk, &now);
  return copy_timespec_out(vm, rem_gva, ts_until(deadline, now)) < 0 ? -EFAULT : -EINTR;
}

/* A sleep on the guest's own CPU clock: that clock stands still while the
 * guest sleeps, so the sleep ends only if its deadline has already passed;
 * otherwise it lasts until the VM is stopped, as it would on Linux. */
static long sleep_cpu_clock(struct vm *vm, clockid_t clk, struct timespec t, bool absolute,
                            uint64_t rem_gva) {
  struct timespec now;
  clock_gettime(clk, &now);
  if (absolute ? ts_cmp(t, now) <= 0 : ts_is_zero(t))
    return 0;
  int rc = sleep_until(vm, clk, NULL);
  if (rc == -EINTR && !absolute && rem_gva && copy_timespec_out(vm, rem_gva, t) < 0)
    return -EFAULT;
  return rc;
}

long sys_nanosleep(struct vm *vm, const uint64_t *a) {
  struct timespec len;
  int rc = copy_timespec_in(vm, a[0], &len);
  if (rc < 0)
    return rc;
  return sleep_relative(vm, CLOCK_MONOTONIC, len, a[1]);
}

long sys_clock_nanosleep(struct vm *vm, const uint64_t *a) {
  struct guest_clock c;
  int rc = guest_clock_lookup(vm, (int32_t)a[0], &c);
  if (rc < 0)
    return rc;
  if (c.sleep == CLOCK_SLEEP_NONE)
    return -EOPNOTSUPP;
  struct timespec t;
  if ((rc = copy_timespec_in(vm, a[2], &t)) < 0)
    return rc;
  bool absolute = a[1] & GUEST_TIMER_ABSTIME; /* other flag bits are ignored, as on Linux */
  switch (c.sleep) {
  case CLOCK_SLEEP_EINVAL:
    return -EINVAL;
  case CLOCK_SLEEP_CPU:
    return sleep_cpu_clock(vm, c.host, t, absolute, a[3]);
  default:
    return absolute ? vdso_sleep_until(vm, c.host, &t) : sleep_relative(vm, c.host, t, a[3]);
  }
}
