/* test_clock.c - the VMM's side of the vDSO (vdso_map.c, vdso_clock.c,
 * vdso_time.c) over real guest memory and mappings: where the vDSO and its
 * page go, what the page says after start-up and after redraws, that the
 * VMM's own clock answers agree with the page and the host, that it stops
 * writing a page the guest unmapped, and that sleeps end by the guest's
 * clock. KVM is replaced by a fake guest TSC (vdso_tsc.c's two functions)
 * that runs from the host's raw clock at a known rate. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <cmocka.h>

#include "kernel/fake_vm.h"
#include "mem/layout.h"
#include "mem/mm.h"
#include "mem/uaccess.h"
#include "vdso/image.h"
#include "vdso/vdso.h"
#include "vdso/vdso_impl.h"
#include "vm.h"

#define KHZ 2596140ull
#define MMAP_TOP 0x7f0000000000ull
#define CLOSE_NS 200000 /* "agrees": within 200 µs (two host clock reads apart) */

/* ---- the fake guest TSC ---- */

static const char *fake_unusable; /* vdso_tsc_check's answer */
static bool fake_tsc_broken;

static int64_t host_ns(clockid_t clk) {
  struct timespec t;
  clock_gettime(clk, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static uint64_t fake_tsc(void) {
  return (uint64_t)((unsigned __int128)host_ns(CLOCK_MONOTONIC_RAW) * KHZ / 1000000);
}

const char *vdso_tsc_check(const struct vm *vm, uint64_t *khz) {
  (void)vm;
  *khz = KHZ;
  return fake_unusable;
}

int vdso_guest_tsc(const struct vm *vm, uint64_t *tsc) {
  (void)vm;
  *tsc = fake_tsc();
  return fake_tsc_broken ? -EIO : 0;
}

/* ---- fixture ---- */

static struct vm_config cfg;

static int setup(void **state) {
  fake_unusable = NULL;
  fake_tsc_broken = false;
  cfg = (struct vm_config){0};
  struct vm *vm = test_vm_new();
  vm->cfg = &cfg;
  vma_space_init(&vm->vmas);
  vm->mm.mmap_top = MMAP_TOP;
  *state = vm;
  return 0;
}

static int teardown(void **state) {
  struct vm *vm = *state;
  vma_space_fini(&vm->vmas);
  test_vm_free(vm);
  return 0;
}

/* What the guest reads in its page. */
static struct vdso_vvar guest_page(struct vm *vm) {
  struct vdso_vvar v;
  assert_int_equal(uaccess_copy_from(&vm->mem, &v, vm->vdso.vvar_gva, sizeof v), 0);
  return v;
}

static void expect_mapping(struct vm *vm, uint64_t addr, int prot, enum vma_kind kind) {
  const struct vma *m = vma_find(&vm->vmas, addr);
  assert_non_null(m);
  assert_int_equal(m->prot, prot);
  assert_int_equal(m->kind, kind);
}

static int64_t guest_clock(struct vm *vm, clockid_t clk) {
  struct timespec t;
  vdso_clock_now(vm, clk, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void expect_close(int64_t a, int64_t b, const char *what) {
  if (a - b > CLOSE_NS || b - a > CLOSE_NS)
    fail_msg("%s: %lld ns apart", what, (long long)(a - b));
}

/* ---- mapping ---- */

static void maps_the_page_then_the_image_below_the_mmap_top(void **state) {
  struct vm *vm = *state;
  assert_int_equal(vdso_map(vm), 0);
  uint64_t base = vm->vdso.base;
  assert_int_equal(base, vm->vdso.vvar_gva + GUEST_PAGE_SIZE);
  assert_int_equal(base % GUEST_PAGE_SIZE, 0);
  assert_true(vm->vdso.vvar_gva >= LAYOUT_MMAP_MIN && base + vdso_image_size <= MMAP_TOP);
  expect_mapping(vm, vm->vdso.vvar_gva, PROT_READ, VMA_VVAR);
  expect_mapping(vm, base, PROT_READ | PROT_EXEC, VMA_VDSO);
  uint8_t *copy = malloc(vdso_image_size);
  assert_non_null(copy);
  assert_int_equal(uaccess_copy_from(&vm->mem, copy, base, vdso_image_size), 0);
  assert_memory_equal(copy, vdso_image_bytes, vdso_image_size);
  free(copy);
  /* Read-only to the guest's system calls, and "ask the VMM" until start. */
  uint8_t byte = 1;
  assert_int_equal(uaccess_copy_to(&vm->mem, vm->vdso.vvar_gva, &byte, 1), -EFAULT);
  assert_int_equal(guest_page(vm).mode, VVAR_MODE_SYSCALL);
}

static void maps_nothing_with_no_vdso(void **state) {
  struct vm *vm = *state;
  cfg.no_vdso = true;
  assert_int_equal(vdso_map(vm), 0);
  assert_int_equal(vm->vdso.base, 0);
  assert_int_equal(vm->vmas.n, 0);
  assert_int_equal(vdso_start(vm), 0);
  assert_false(vm->vdso.live);
}

static void reports_a_full_address_space(void **state) {
  struct vm *vm = *state;
  vm->mm.mmap_top = LAYOUT_MMAP_MIN + GUEST_PAGE_SIZE; /* room for one page only */
  assert_int_equal(vdso_map(vm), -ENOMEM);
  assert_int_equal(vm->vdso.base, 0);
}

/* ---- the clock ---- */

static void publishes_a_line_that_agrees_with_the_host(void **state) {
  struct vm *vm = *state;
  assert_int_equal(vdso_map(vm), 0);
  assert_int_equal(vdso_start(vm), 0);
  assert_true(vm->vdso.live);
  struct vdso_vvar v = guest_page(vm);
  assert_int_equal(v.mode, VVAR_MODE_TSC);
  assert_true(v.seq != 0 && v.seq % 2 == 0);
  assert_memory_equal(&v.mono, &vm->vdso.mono.line, sizeof v.mono);
  assert_int_equal(v.horizon, KHZ * 1000 * TIMELINE_HORIZON_S);
  static const struct {
    clockid_t clk;
    const char *name;
  } clocks[] = {{CLOCK_MONOTONIC, "monotonic"},
                {CLOCK_REALTIME, "realtime"},
                {CLOCK_BOOTTIME, "boottime"},
                {CLOCK_TAI, "tai"},
                {CLOCK_MONOTONIC_RAW, "raw"}};
  for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
    int64_t page_ns = 0;
    assert_true(vvar_clock_ns(&v, clocks[i].clk, fake_tsc(), &page_ns));
    expect_close(page_ns, host_ns(clocks[i].clk), clocks[i].name);
    expect_close(guest_clock(vm, clocks[i].clk), host_ns(clocks[i].clk), clocks[i].name);
  }
}

static void serves_the_host_clocks_without_a_usable_tsc(void **state) {
  struct vm *vm = *state;
  fake_unusable = "no TSC here";
  assert_int_equal(vdso_map(vm), 0);
  assert_int_equal(vdso_start(vm), 0);
  assert_false(vm->vdso.live);
  assert_int_equal(guest_page(vm).mode, VVAR_MODE_SYSCALL);
  expect_close(guest_clock(vm, CLOCK_MONOTONIC), host_ns(CLOCK_MONOTONIC), "monotonic");
  vdso_tick(vm); /* nothing to redraw */
  assert_int_equal(guest_page(vm).seq, 0);
}

static void passes_other_clocks_to_the_host(void **state) {
  struct vm *vm = *state;
  assert_int_equal(vdso_map(vm), 0);
  assert_int_equal(vdso_start(vm), 0);
  assert_false(vdso_line_clock(CLOCK_PROCESS_CPUTIME_ID));
  assert_true(vdso_line_clock(CLOCK_MONOTONIC_COARSE));
  int64_t cpu = guest_clock(vm, CLOCK_PROCESS_CPUTIME_ID);
  assert_true(cpu > 0 && cpu <= host_ns(CLOCK_PROCESS_CPUTIME_ID));
}

static void redraws_once_a_second_without_going_back(void **state) {
  struct vm *vm = *state;
  assert_int_equal(vdso_map(vm), 0);
  assert_int_equal(vdso_start(vm), 0);
  uint32_t seq = guest_page(vm).seq;
  vdso_tick(vm); /* not due */
  assert_int_equal(guest_page(vm).seq, seq);
  for (int i = 0; i < 5; i++) {
    struct vdso_vvar before = guest_page(vm);
    int64_t last;
    assert_true(vvar_clock_ns(&before, CLOCK_MONOTONIC, fake_tsc(), &last));
    vm->vdso.next_redraw_ns = 0; /* due */
    vdso_tick(vm);
    struct vdso_vvar after = guest_page(vm);
    assert_int_equal(after.seq, before.seq + 2);
    assert_true(after.mono.tsc_base > before.mono.tsc_base);
    int64_t now;
    assert_true(vvar_clock_ns(&after, CLOCK_MONOTONIC, fake_tsc(), &now));
    assert_true(now >= last);
    expect_close(now, host_ns(CLOCK_MONOTONIC), "monotonic after a redraw");
  }
  assert_true(vm->vdso.next_redraw_ns > (uint64_t)host_ns(CLOCK_MONOTONIC));
}

/* After munmap the physical page may be handed out again as guest data:
 * the VMM must not write it any more. */
static void stops_writing_a_page_the_guest_unmapped(void **state) {
  struct vm *vm = *state;
  assert_int_equal(vdso_map(vm), 0);
  assert_int_equal(vdso_start(vm), 0);
  uint64_t page = vm->vdso.vvar_gva;
  assert_int_equal(mm_unmap(vm, page, GUEST_PAGE_SIZE), 0);
  assert_int_equal(mm_map_fixed(vm, page, GUEST_PAGE_SIZE, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, VMA_ANON),
                   0);
  uint8_t data[64];
  memset(data, 0xa5, sizeof data);
  assert_int_equal(uaccess_copy_to(&vm->mem, page, data, sizeof data), 0);
  vm->vdso.next_redraw_ns = 0;
  vdso_tick(vm);
  uint8_t back[64];
  assert_int_equal(uaccess_copy_from(&vm->mem, back, page, sizeof back), 0);
  assert_memory_equal(back, data, sizeof data);
  assert_null(vm->vdso.vvar);
  /* The VMM's answers still come from the line. */
  assert_true(vm->vdso.live);
  expect_close(guest_clock(vm, CLOCK_MONOTONIC), host_ns(CLOCK_MONOTONIC), "monotonic");
}

static void gives_up_the_line_when_the_tsc_cannot_be_read(void **state) {
  struct vm *vm = *state;
  assert_int_equal(vdso_map(vm), 0);
  assert_int_equal(vdso_start(vm), 0);
  fake_tsc_broken = true;
  vm->vdso.next_redraw_ns = 0;
  vdso_tick(vm);
  assert_false(vm->vdso.live);
  struct vdso_vvar v = guest_page(vm);
  assert_int_equal(v.mode, VVAR_MODE_SYSCALL);
  assert_int_equal(v.seq % 2, 0);
  expect_close(guest_clock(vm, CLOCK_MONOTONIC), host_ns(CLOCK_MONOTONIC), "monotonic");
}

/* A line running 2% slow: one sleep on the host clock is not enough, and
 * the sleep must go on until the guest's clock has passed the deadline. */
static void sleeps_until_the_guest_clock_reaches_the_deadline(void **state) {
  struct vm *vm = *state;
  assert_int_equal(vdso_map(vm), 0);
  assert_int_equal(vdso_start(vm), 0);
  vm->vdso.mono.line.mult -= vm->vdso.mono.line.mult / 50;
  vm->vdso.pub.mono = vm->vdso.mono.line;
  struct timespec now, deadline;
  vdso_clock_now(vm, CLOCK_MONOTONIC, &now);
  deadline = now;
  deadline.tv_nsec += 50000000;
  if (deadline.tv_nsec >= 1000000000) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000;
  }
  int64_t host_start = host_ns(CLOCK_MONOTONIC);
  assert_int_equal(vdso_sleep_until(vm, CLOCK_MONOTONIC, &deadline), 0);
  int64_t host_slept = host_ns(CLOCK_MONOTONIC) - host_start;
  vdso_clock_now(vm, CLOCK_MONOTONIC, &now);
  assert_true(now.tv_sec > deadline.tv_sec ||
              (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec));
  assert_true(host_slept >= 50000000); /* 50 ms of a slow clock take longer */
}

static void sleeps_on_the_host_clock_without_a_line(void **state) {
  struct vm *vm = *state;
  cfg.no_vdso = true;
  assert_int_equal(vdso_map(vm), 0);
  assert_int_equal(vdso_start(vm), 0);
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_nsec += 10000000;
  if (deadline.tv_nsec >= 1000000000) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000;
  }
  assert_int_equal(vdso_sleep_until(vm, CLOCK_MONOTONIC, &deadline), 0);
  assert_true(host_ns(CLOCK_MONOTONIC) >= deadline.tv_sec * 1000000000ll + deadline.tv_nsec);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(maps_the_page_then_the_image_below_the_mmap_top),
      T(maps_nothing_with_no_vdso),
      T(reports_a_full_address_space),
      T(publishes_a_line_that_agrees_with_the_host),
      T(serves_the_host_clocks_without_a_usable_tsc),
      T(passes_other_clocks_to_the_host),
      T(redraws_once_a_second_without_going_back),
      T(stops_writing_a_page_the_guest_unmapped),
      T(gives_up_the_line_when_the_tsc_cannot_be_read),
      T(sleeps_until_the_guest_clock_reaches_the_deadline),
      T(sleeps_on_the_host_clock_without_a_line),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
