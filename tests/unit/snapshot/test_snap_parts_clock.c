/* Unit tests of the clock section (snap_clock.c) on a VM without a live
 * vDSO line (no KVM here): after a load the guest's monotonic clocks go on
 * from the saved values whatever the host's clock says, realtime is the
 * host's, a sleep to a deadline on the guest's clock lasts until the
 * guest's clock reaches it, and impossible sections are refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "kernel/timespec.h"
#include "snapshot/snap_parts.h"
#include "vdso/vdso.h"
#include "vm.h"

#define NS 1000000000ull

static int64_t ts_ns(struct timespec t) { return (int64_t)t.tv_sec * (int64_t)NS + t.tv_nsec; }

static int64_t guest_ns(struct vm *vm, clockid_t clk) {
  struct timespec t;
  vdso_clock_now(vm, clk, &t);
  return ts_ns(t);
}

static int64_t host_ns(clockid_t clk) {
  struct timespec t;
  clock_gettime(clk, &t);
  return ts_ns(t);
}

static void put_section(struct snap_buf *b, uint64_t mono, uint64_t raw, uint64_t boot,
                        uint64_t base, uint64_t vvar, uint32_t seq) {
  snap_put_u64(b, mono);
  snap_put_u64(b, raw);
  snap_put_u64(b, boot);
  snap_put_u64(b, base);
  snap_put_u64(b, vvar);
  snap_put_u32(b, seq);
}

static int load(struct vm *vm, struct snap_buf *b) {
  memset(vm, 0, sizeof *vm);
  struct snap_cursor c = {.p = b->p, .len = b->len};
  int rc = snap_load_clock(vm, &c);
  free(b->p);
  memset(b, 0, sizeof *b);
  return rc;
}

/* Saved from one VM, loaded into another: never earlier than saved. */
static void clock_round_trip_never_goes_back(void **state) {
  (void)state;
  static struct vm src, dst;
  memset(&src, 0, sizeof src);
  src.vdso.mono_shift = 1000 * (int64_t)NS; /* a VM already restored once, 1000 s ahead */
  int64_t seen = guest_ns(&src, CLOCK_MONOTONIC);
  struct snap_buf b = {0};
  assert_int_equal(snap_save_clock(&src, &b), 0);
  assert_int_equal(load(&dst, &b), 0);
  assert_true(guest_ns(&dst, CLOCK_MONOTONIC) >= seen);
  int64_t mono = guest_ns(&dst, CLOCK_MONOTONIC);
  assert_true(guest_ns(&dst, CLOCK_BOOTTIME) >= mono); /* read later, never behind */
}

/* The host has been up far longer than the saved guest: the guest's clock
 * continues from its own value, it does not jump to the host's. */
static void clock_continues_from_snapshot_point(void **state) {
  (void)state;
  static struct vm vm;
  struct snap_buf b = {0};
  put_section(&b, 5 * NS, 5 * NS, 7 * NS, 0, 0, 0);
  assert_int_equal(load(&vm, &b), 0);
  int64_t mono = guest_ns(&vm, CLOCK_MONOTONIC);
  assert_true(mono >= (int64_t)(5 * NS));
  assert_true(mono < host_ns(CLOCK_MONOTONIC)); /* hosts are up for more than 5 s */
  assert_true(guest_ns(&vm, CLOCK_MONOTONIC_RAW) >= (int64_t)(5 * NS));
  assert_true(guest_ns(&vm, CLOCK_BOOTTIME) >= (int64_t)(7 * NS));
  /* Realtime is the host's, read anew. */
  int64_t before = host_ns(CLOCK_REALTIME), real = guest_ns(&vm, CLOCK_REALTIME);
  assert_true(real >= before && real <= host_ns(CLOCK_REALTIME));
}

/* An absolute sleep on the shifted clock ends only once the guest's clock
 * has reached the deadline (the host's lies 5 s+ further on). */
static void clock_sleep_until_uses_guest_clock(void **state) {
  (void)state;
  static struct vm vm;
  struct snap_buf b = {0};
  uint64_t far = (uint64_t)host_ns(CLOCK_MONOTONIC) + 100000 * NS; /* guest far ahead */
  put_section(&b, far, far, far, 0, 0, 0);
  assert_int_equal(load(&vm, &b), 0);
  struct timespec now, deadline;
  vdso_clock_now(&vm, CLOCK_MONOTONIC, &now);
  deadline = ts_add(now, (struct timespec){.tv_nsec = 2000000});
  assert_int_equal(vdso_sleep_until(&vm, CLOCK_MONOTONIC, &deadline), 0);
  vdso_clock_now(&vm, CLOCK_MONOTONIC, &now);
  assert_true(ts_cmp(now, deadline) >= 0);
}

/* A guest deadline as far off as a timespec goes, on a shifted clock: no
 * overflow (UBSan would stop the test), and the sleep still ends when the VM
 * is being stopped. */
static void clock_sleep_until_far_deadline(void **state) {
  (void)state;
  static struct vm vm;
  struct snap_buf b = {0};
  put_section(&b, 1, 1, 1, 0, 0, 0); /* the guest far behind the host */
  assert_int_equal(load(&vm, &b), 0);
  vm.vcpu_wanted = 1;
  struct timespec far = {.tv_sec = INT64_MAX, .tv_nsec = 999999999};
  assert_int_equal(vdso_sleep_until(&vm, CLOCK_MONOTONIC, &far), -EINTR);
  vm.vcpu_wanted = 0;
  struct timespec past = {.tv_sec = INT64_MIN + 1};
  assert_int_equal(vdso_sleep_until(&vm, CLOCK_BOOTTIME, &past), 0);
}

static void clock_refuses_impossible_sections(void **state) {
  (void)state;
  static struct vm vm;
  struct snap_buf b = {0};
  put_section(&b, 9 * NS, 9 * NS, 8 * NS, 0, 0, 0); /* BOOTTIME behind MONOTONIC */
  assert_int_equal(load(&vm, &b), -EBADMSG);
  put_section(&b, NS, NS, NS, 0, 0, 3); /* a sequence count in the middle of a write */
  assert_int_equal(load(&vm, &b), -EBADMSG);
  put_section(&b, UINT64_MAX, NS, UINT64_MAX, 0, 0, 0);
  assert_int_equal(load(&vm, &b), -EBADMSG);
  put_section(&b, NS, NS, NS, 0x7f0000000800ull, 0x7f0000000000ull, 0); /* unaligned vDSO */
  assert_int_equal(load(&vm, &b), -EBADMSG);
  put_section(&b, NS, NS, NS, 0x7f0000002000ull, 0x7f0000000000ull, 0); /* vvar not below */
  assert_int_equal(load(&vm, &b), -EBADMSG);
  put_section(&b, NS, NS, NS, 0, 0x7f0000000000ull, 0); /* a vvar with no vDSO */
  assert_int_equal(load(&vm, &b), -EBADMSG);
  put_section(&b, NS, NS, NS, 0x7f0000001000ull, 0x7f0000000000ull, 2);
  assert_int_equal(load(&vm, &b), 0);
  assert_int_equal(vm.vdso.base, 0x7f0000001000ull);
  assert_int_equal(vm.vdso.vvar_gva, 0x7f0000000000ull);
  assert_int_equal(vm.vdso.seq, 2);
  put_section(&b, NS, NS, NS, 0, 0, 0);
  snap_put_u8(&b, 0); /* trailing byte */
  assert_int_equal(load(&vm, &b), -EBADMSG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(clock_round_trip_never_goes_back),
      cmocka_unit_test(clock_continues_from_snapshot_point),
      cmocka_unit_test(clock_sleep_until_uses_guest_clock),
      cmocka_unit_test(clock_sleep_until_far_deadline),
      cmocka_unit_test(clock_refuses_impossible_sections),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
