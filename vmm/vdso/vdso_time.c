/* vdso_time.c - the guest's clocks as the VMM serves them (vdso.h): the
 * same line the vDSO computes with, so that a program's system calls and
 * its vDSO calls read one clock, and sleeps that end by the guest's clock. */
#include "kernel/sleep.h"
#include "kernel/timespec.h"
#include "vdso/vdso.h"
#include "vdso/vdso_impl.h"
#include "vm.h"

bool vdso_line_clock(clockid_t clk) {
  static const struct vdso_vvar any;
  int64_t ns;
  return vvar_clock_ns(&any, clk, 0, &ns);
}

/* Floor division, so a time before 1970 keeps tv_nsec in [0, 1e9). */
static struct timespec ns_to_timespec(int64_t ns) {
  int64_t sec = ns / NSEC_PER_SEC, rem = ns % NSEC_PER_SEC;
  if (rem < 0) {
    sec--;
    rem += NSEC_PER_SEC;
  }
  return (struct timespec){.tv_sec = sec, .tv_nsec = rem};
}

/* The guest's TSC now, with the line redrawn first when the vDSO would no
 * longer use it there. False when the line is (or has just been) given up. */
static bool line_tsc_now(struct vm *vm, uint64_t *tsc) {
  if (vdso_guest_tsc(vm, tsc) == 0 && timeline_in_horizon(&vm->vdso.mono, *tsc))
    return true;
  vdso_redraw(vm);
  return vm->vdso.live && vdso_guest_tsc(vm, tsc) == 0;
}

int64_t vdso_clock_shift(const struct vm *vm, clockid_t clk) {
  switch (clk) {
  case CLOCK_MONOTONIC:
  case CLOCK_MONOTONIC_COARSE:
    return vm->vdso.mono_shift;
  case CLOCK_MONOTONIC_RAW:
    return vm->vdso.raw_shift;
  case CLOCK_BOOTTIME:
    return vm->vdso.boot_shift;
  default:
    return 0;
  }
}

/* ts shifted by ns (any sign), saturating: a guest's deadline may be any
 * valid timespec, however far off. */
static struct timespec ts_shift(struct timespec ts, int64_t ns) {
  int64_t sec = ns / NSEC_PER_SEC;
  ts.tv_nsec += ns % NSEC_PER_SEC;
  if (ts.tv_nsec < 0) {
    ts.tv_nsec += NSEC_PER_SEC;
    sec--;
  } else if (ts.tv_nsec >= NSEC_PER_SEC) {
    ts.tv_nsec -= NSEC_PER_SEC;
    sec++;
  }
  if (__builtin_add_overflow(ts.tv_sec, sec, &ts.tv_sec))
    ts = sec > 0 ? (struct timespec){.tv_sec = INT64_MAX, .tv_nsec = NSEC_PER_SEC - 1}
                 : (struct timespec){.tv_sec = INT64_MIN};
  return ts;
}

void vdso_clock_now(struct vm *vm, clockid_t clk, struct timespec *now) {
  uint64_t tsc;
  int64_t ns;
  if (vm->vdso.live && vdso_line_clock(clk) && line_tsc_now(vm, &tsc) &&
      vvar_clock_ns(&vm->vdso.pub, clk, tsc, &ns)) {
    *now = ns_to_timespec(ns);
    return;
  }
  clock_gettime(clk, now);
  int64_t shift = vdso_clock_shift(vm, clk);
  if (shift)
    *now = ts_shift(*now, shift);
}

/* The host's clock runs within a few hundred ppm of the guest's line, so
 * each round sleeps the rest on the host clock and then looks again; the
 * second round, if any, is microseconds. */
int vdso_sleep_until(struct vm *vm, clockid_t clk, const struct timespec *deadline) {
  if (!deadline || !vm->vdso.live || !vdso_line_clock(clk)) {
    /* The host's clock, where the guest's deadline lies shifted back. */
    struct timespec host_deadline;
    if (deadline)
      host_deadline = ts_shift(*deadline, -vdso_clock_shift(vm, clk));
    return sleep_until(vm, clk, deadline ? &host_deadline : NULL);
  }
  for (;;) {
    struct timespec guest, host;
    vdso_clock_now(vm, clk, &guest);
    if (ts_cmp(guest, *deadline) >= 0)
      return 0;
    clock_gettime(clk, &host);
    struct timespec host_deadline = ts_add(host, ts_until(*deadline, guest));
    int rc = sleep_until(vm, clk, &host_deadline);
    if (rc < 0)
      return rc;
  }
}
