/* test_exec.c - the vDSO's machine code, run on the host: the image is
 * mapped with a vvar page below it, exactly as a guest sees it, and its
 * functions are called through the addresses its own symbol table gives.
 * With a line in the page they must compute the clocks from rdtsc as
 * vvar.h defines them; whenever they cannot (no TSC mode, a page being
 * written, a stale line, a clock the page does not serve) they must exit
 * to the VMM with the system call in the registers. On the host that `out`
 * faults, which is how the test sees it: the SIGSEGV handler checks the
 * instruction and the registers, then jumps back. */
#include <asm/unistd.h>
#include <elf.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <x86intrin.h>

#include <cmocka.h>

#include "vdso/image.h"
#include "vdso/timeline.h"
#include "vdso/vvar.h"
#include "vdso_elf.h"

#define PAGE 4096u
#define KHZ 2000000u /* the line's TSC rate; any will do */

struct vdso_ts {
  int64_t sec, nsec;
};
struct vdso_tv {
  int64_t sec, usec;
};

typedef int (*clock_gettime_fn)(int, struct vdso_ts *);
typedef int (*gettimeofday_fn)(struct vdso_tv *, int32_t *);
typedef long (*time_fn)(long *);
typedef int (*clock_getres_fn)(int, struct vdso_ts *);
typedef long (*getcpu_fn)(unsigned *, unsigned *, void *);

static uint8_t *mapping; /* vvar page, then the image */
static size_t mapping_len;
static struct vdso_vvar *vvar;
static clock_gettime_fn vdso_gettime;
static gettimeofday_fn vdso_gettimeofday;
static time_fn vdso_time;
static clock_getres_fn vdso_getres;
static getcpu_fn vdso_getcpu;

static void *resolve(const struct vdso_elf *e, const char *name) {
  const Elf64_Sym *s = vdso_elf_lookup_gnu(e, name, "LINUX_2.6");
  assert_non_null(s);
  return mapping + PAGE + s->st_value;
}

static int setup(void **state) {
  (void)state;
  size_t image_len = (vdso_image_size + PAGE - 1) & ~(size_t)(PAGE - 1);
  mapping_len = PAGE + image_len;
  mapping = mmap(NULL, mapping_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(mapping != MAP_FAILED);
  memcpy(mapping + PAGE, vdso_image_bytes, vdso_image_size);
  assert_int_equal(mprotect(mapping + PAGE, image_len, PROT_READ | PROT_EXEC), 0);
  vvar = (struct vdso_vvar *)mapping;
  struct vdso_elf e;
  vdso_elf_open(&e, mapping + PAGE, vdso_image_size);
  vdso_gettime = (clock_gettime_fn)resolve(&e, "__vdso_clock_gettime");
  vdso_gettimeofday = (gettimeofday_fn)resolve(&e, "__vdso_gettimeofday");
  vdso_time = (time_fn)resolve(&e, "__vdso_time");
  vdso_getres = (clock_getres_fn)resolve(&e, "__vdso_clock_getres");
  vdso_getcpu = (getcpu_fn)resolve(&e, "__vdso_getcpu");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  munmap(mapping, mapping_len);
  return 0;
}

/* A page in TSC mode whose lines pass through the current TSC. */
static void publish_line(void) {
  uint64_t mult = timeline_mult_for_khz(KHZ), now = __rdtsc();
  memset(vvar, 0, sizeof *vvar);
  vvar->seq = 2;
  vvar->mode = VVAR_MODE_TSC;
  vvar->horizon = (uint64_t)KHZ * 1000 * TIMELINE_HORIZON_S;
  vvar->mono = (struct vvar_line){.tsc_base = now, .ns_base = 5000 * 1000000000ull, .mult = mult};
  vvar->raw = (struct vvar_line){.tsc_base = now - 1000, .ns_base = 77, .mult = mult};
  vvar->real_off = 1700000000ll * 1000000000ll;
  vvar->boot_off = 123456789;
  vvar->tai_off = vvar->real_off + 37000000000ll;
  vvar->coarse_res = 4000000;
}

/* ---- exits: the `out` faults on the host ---- */

static sigjmp_buf exit_jump;
static struct { uint64_t rip, rax, rdi, rsi; } exit_regs;

static void on_segv(int sig, siginfo_t *si, void *ctx) {
  (void)sig;
  (void)si;
  ucontext_t *uc = ctx;
  exit_regs.rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
  exit_regs.rax = (uint64_t)uc->uc_mcontext.gregs[REG_RAX];
  exit_regs.rdi = (uint64_t)uc->uc_mcontext.gregs[REG_RDI];
  exit_regs.rsi = (uint64_t)uc->uc_mcontext.gregs[REG_RSI];
  siglongjmp(exit_jump, 1);
}

/* Fails unless `call` ends in `out 0x90, al` inside the image with system
 * call `nr` and arguments a0, a1. */
#define EXPECT_EXIT(call, nr, a0, a1)                                                              \
  do {                                                                                             \
    struct sigaction sa = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO}, old;                  \
    sigemptyset(&sa.sa_mask);                                                                      \
    sigaction(SIGSEGV, &sa, &old);                                                                 \
    if (sigsetjmp(exit_jump, 1) == 0) {                                                            \
      (void)(call);                                                                                \
      sigaction(SIGSEGV, &old, NULL);                                                              \
      fail_msg("%s returned without asking the VMM", #call);                                       \
    }                                                                                              \
    sigaction(SIGSEGV, &old, NULL);                                                                \
    check_exit((nr), (uint64_t)(a0), (uint64_t)(a1));                                              \
  } while (0)

static void check_exit(uint64_t nr, uint64_t a0, uint64_t a1) {
  assert_true(exit_regs.rip >= (uint64_t)mapping + PAGE &&
              exit_regs.rip + 2 <= (uint64_t)mapping + mapping_len);
  const uint8_t *insn = (const uint8_t *)exit_regs.rip;
  assert_int_equal(insn[0], 0xe6); /* out imm8, al */
  assert_int_equal(insn[1], 0x90);
  assert_int_equal(exit_regs.rax, nr);
  assert_int_equal(exit_regs.rdi, a0);
  assert_int_equal(exit_regs.rsi, a1);
}

static void asks_the_vmm_until_the_page_says_tsc(void **state) {
  (void)state;
  memset(vvar, 0, sizeof *vvar);
  struct vdso_ts ts;
  struct vdso_tv tv;
  long t;
  EXPECT_EXIT(vdso_gettime(1, &ts), __NR_clock_gettime, 1, &ts);
  EXPECT_EXIT(vdso_gettimeofday(&tv, NULL), __NR_gettimeofday, &tv, 0);
  EXPECT_EXIT(vdso_time(&t), __NR_time, &t, 0);
  EXPECT_EXIT(vdso_getres(0, &ts), __NR_clock_getres, 0, &ts);
}

static void asks_the_vmm_for_other_clocks(void **state) {
  (void)state;
  publish_line();
  struct vdso_ts ts;
  static const int others[] = {2, 3, 8, 9, 10, 12, -6, 1000};
  for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
    EXPECT_EXIT(vdso_gettime(others[i], &ts), __NR_clock_gettime, (int64_t)others[i], &ts);
    EXPECT_EXIT(vdso_getres(others[i], &ts), __NR_clock_getres, (int64_t)others[i], &ts);
  }
}

static void asks_the_vmm_while_the_page_changes_or_the_line_is_stale(void **state) {
  (void)state;
  struct vdso_ts ts;
  publish_line();
  vvar->seq = 3; /* being written */
  EXPECT_EXIT(vdso_gettime(1, &ts), __NR_clock_gettime, 1, &ts);
  publish_line();
  vvar->mono.tsc_base -= vvar->horizon + 1000000; /* past the horizon */
  EXPECT_EXIT(vdso_gettime(1, &ts), __NR_clock_gettime, 1, &ts);
  publish_line();
  vvar->mono.tsc_base += 1000000000000ull; /* TSC behind the line's base */
  EXPECT_EXIT(vdso_gettime(0, &ts), __NR_clock_gettime, 0, &ts);
}

/* ---- answers from the page ---- */

static int64_t expected_ns(int clk, uint64_t tsc) {
  int64_t ns = 0;
  assert_true(vvar_clock_ns(vvar, clk, tsc, &ns));
  return ns;
}

static void reads_every_line_clock_from_the_tsc(void **state) {
  (void)state;
  publish_line();
  static const int clocks[] = {0, 1, 4, 5, 6, 7, 11};
  for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
    struct vdso_ts ts = {-1, -1};
    uint64_t before = __rdtsc();
    assert_int_equal(vdso_gettime(clocks[i], &ts), 0);
    uint64_t after = __rdtsc();
    int64_t got = ts.sec * 1000000000ll + ts.nsec;
    assert_true(ts.nsec >= 0 && ts.nsec < 1000000000);
    assert_in_range(got, expected_ns(clocks[i], before), expected_ns(clocks[i], after));
  }
}

static void never_goes_back(void **state) {
  (void)state;
  publish_line();
  int64_t prev = 0;
  for (int i = 0; i < 100000; i++) {
    struct vdso_ts ts;
    assert_int_equal(vdso_gettime(1, &ts), 0);
    int64_t ns = ts.sec * 1000000000ll + ts.nsec;
    assert_true(ns >= prev);
    prev = ns;
  }
}

static void answers_gettimeofday_and_time_from_realtime(void **state) {
  (void)state;
  publish_line();
  struct vdso_tv tv = {-1, -1};
  int32_t tz[2] = {-1, -1};
  uint64_t before = __rdtsc();
  assert_int_equal(vdso_gettimeofday(&tv, tz), 0);
  uint64_t after = __rdtsc();
  int64_t us = tv.sec * 1000000 + tv.usec;
  assert_in_range(us, expected_ns(0, before) / 1000, expected_ns(0, after) / 1000);
  assert_int_equal(tz[0], 0);
  assert_int_equal(tz[1], 0);
  assert_int_equal(vdso_gettimeofday(NULL, NULL), 0);
  long t = -1;
  long r = vdso_time(&t);
  assert_int_equal(r, t);
  assert_in_range(r, expected_ns(0, before) / 1000000000, expected_ns(0, __rdtsc()) / 1000000000);
  assert_int_equal(vdso_time(NULL), expected_ns(0, __rdtsc()) / 1000000000);
}

static void keeps_fractions_positive_before_1970(void **state) {
  (void)state;
  publish_line();
  vvar->real_off = -(int64_t)vvar->mono.ns_base - 1500000000; /* about -1.5 s */
  struct vdso_ts ts;
  assert_int_equal(vdso_gettime(0, &ts), 0);
  assert_int_equal(ts.sec, -2);
  assert_true(ts.nsec >= 500000000 && ts.nsec < 1000000000);
  struct vdso_tv tv;
  assert_int_equal(vdso_gettimeofday(&tv, NULL), 0);
  assert_int_equal(tv.sec, -2);
  assert_true(tv.usec >= 500000 && tv.usec < 1000000);
}

static void reports_resolutions_and_cpu_0(void **state) {
  (void)state;
  publish_line();
  struct vdso_ts res;
  assert_int_equal(vdso_getres(1, &res), 0);
  assert_int_equal(res.sec, 0);
  assert_int_equal(res.nsec, 1);
  assert_int_equal(vdso_getres(5, &res), 0);
  assert_int_equal(res.nsec, 4000000);
  assert_int_equal(vdso_getres(6, NULL), 0);
  unsigned cpu = 7, node = 7;
  assert_int_equal(vdso_getcpu(&cpu, &node, NULL), 0);
  assert_int_equal(cpu, 0);
  assert_int_equal(node, 0);
  assert_int_equal(vdso_getcpu(NULL, NULL, NULL), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(asks_the_vmm_until_the_page_says_tsc),
      cmocka_unit_test(asks_the_vmm_for_other_clocks),
      cmocka_unit_test(asks_the_vmm_while_the_page_changes_or_the_line_is_stale),
      cmocka_unit_test(reads_every_line_clock_from_the_tsc),
      cmocka_unit_test(never_goes_back),
      cmocka_unit_test(answers_gettimeofday_and_time_from_realtime),
      cmocka_unit_test(keeps_fractions_positive_before_1970),
      cmocka_unit_test(reports_resolutions_and_cpu_0),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
