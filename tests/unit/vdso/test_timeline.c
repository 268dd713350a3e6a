/* test_timeline.c - the arithmetic of the guest clock's line (timeline.c,
 * vvar.h): exact conversion at real TSC rates, no overflow however far a
 * line is extrapolated, and redraws that never let the clock go back while
 * they pull it onto a host clock that runs fast, slow, noisy or jumps. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vdso/timeline.h"

#define NS_PER_S 1000000000ull
#define KHZ 2596140ull /* this host's TSC, as KVM reports it */
#define HZ (KHZ * 1000)

/* Exact ns for `ticks` at KHZ, rounded down: ticks * 1e6 / khz. */
static uint64_t exact_ns(uint64_t ticks) {
  return (uint64_t)((unsigned __int128)ticks * 1000000u / KHZ);
}

static void converts_ticks_to_nanoseconds(void **state) {
  (void)state;
  struct timeline tl;
  assert_int_equal(timeline_init(&tl, KHZ, 1000, 5), 0);
  assert_int_equal(timeline_ns(&tl, 1000), 5);
  /* One second of ticks is one second, to within a nanosecond. */
  assert_in_range(timeline_ns(&tl, 1000 + HZ) - 5, NS_PER_S - 1, NS_PER_S);
  assert_int_equal(tl.horizon, HZ * TIMELINE_HORIZON_S);
}

static void refuses_implausible_frequencies(void **state) {
  (void)state;
  struct timeline tl;
  assert_int_equal(timeline_init(&tl, 0, 0, 0), -EINVAL);
  assert_int_equal(timeline_init(&tl, TIMELINE_MIN_KHZ - 1, 0, 0), -EINVAL);
  assert_int_equal(timeline_init(&tl, TIMELINE_MAX_KHZ + 1, 0, 0), -EINVAL);
  assert_int_equal(timeline_init(&tl, TIMELINE_MIN_KHZ, 0, 0), 0);
  assert_int_equal(timeline_init(&tl, TIMELINE_MAX_KHZ, 0, 0), 0);
}

/* No overflow however far the line runs; the only error is mult's
 * rounding, under one part in mult (well under a part per billion). */
static void never_overflows_over_long_uptimes(void **state) {
  (void)state;
  static const uint64_t spans_s[] = {600, 86400, 365ull * 86400, 10 * 365ull * 86400};
  struct timeline tl;
  assert_int_equal(timeline_init(&tl, KHZ, 0, 0), 0);
  for (size_t i = 0; i < sizeof spans_s / sizeof spans_s[0]; i++) {
    uint64_t ticks = spans_s[i] * HZ;
    uint64_t got = vvar_line_ns(&tl.line, ticks), want = exact_ns(ticks);
    assert_true(got <= want && want - got <= want / tl.line.mult + 2);
  }
  /* The largest frequency and a base near the top of the TSC's range. */
  assert_int_equal(timeline_init(&tl, TIMELINE_MAX_KHZ, UINT64_MAX - 100, 7), 0);
  uint64_t ten_min = 600 * TIMELINE_MAX_KHZ * 1000;
  uint64_t got = vvar_line_ns(&tl.line, UINT64_MAX - 100 + ten_min) - 7;
  assert_true(got <= 600 * NS_PER_S && 600 * NS_PER_S - got <= 600 * NS_PER_S / tl.line.mult + 2);
}

static void knows_its_horizon(void **state) {
  (void)state;
  struct timeline tl;
  assert_int_equal(timeline_init(&tl, KHZ, 1000000, 0), 0);
  assert_true(timeline_in_horizon(&tl, 1000000));
  assert_true(timeline_in_horizon(&tl, 1000000 + tl.horizon));
  assert_false(timeline_in_horizon(&tl, 1000000 + tl.horizon + 1));
  assert_false(timeline_in_horizon(&tl, 999999)); /* a TSC behind the base */
}

/* A host clock for the simulations: rate in ppm off the TSC's nominal
 * rate, an offset, and deterministic noise on each reading. */
struct host {
  int64_t ppm, offset_ns;
  uint32_t seed;
};

static int64_t noise(struct host *h, int64_t amplitude_ns) {
  h->seed = h->seed * 1103515245u + 12345u;
  return amplitude_ns ? (int64_t)((h->seed >> 8) % (2 * amplitude_ns + 1)) - amplitude_ns : 0;
}

static uint64_t host_at(struct host *h, uint64_t tsc, int64_t amplitude_ns) {
  int64_t ns = (int64_t)exact_ns(tsc);
  return (uint64_t)(ns + ns / 1000000 * h->ppm + h->offset_ns + noise(h, amplitude_ns));
}

/* Redraws once a second for `seconds`, checking at each redraw that the
 * clock did not go back across it and, after `settle` seconds, that it is
 * within `bound_ns` of the host. Readings are taken just before and at the
 * redraw's TSC. */
static void simulate(struct host *h, unsigned seconds, unsigned settle, int64_t noise_ns,
                     int64_t bound_ns) {
  struct timeline tl;
  uint64_t tsc = 1000 * HZ;
  assert_int_equal(timeline_init(&tl, KHZ, tsc, host_at(h, tsc, 0)), 0);
  for (unsigned s = 1; s <= seconds; s++) {
    tsc += HZ + (uint64_t)noise(h, (int64_t)HZ / 100); /* exits come when they come */
    uint64_t before = timeline_ns(&tl, tsc - 1);
    timeline_redraw(&tl, tsc, host_at(h, tsc, noise_ns));
    uint64_t after = timeline_ns(&tl, tsc);
    if (after < before)
      fail_msg("second %u: went back %llu ns", s, (unsigned long long)(before - after));
    int64_t err = (int64_t)(after - host_at(h, tsc, 0));
    if (s > settle && (err > bound_ns || err < -bound_ns))
      fail_msg("second %u: %lld ns off the host", s, (long long)err);
  }
}

static void follows_a_host_clock_at_the_nominal_rate(void **state) {
  (void)state;
  struct host h = {.ppm = 0, .seed = 1};
  simulate(&h, 600, 0, 2000, 5000);
}

static void follows_a_fast_or_slow_host_clock(void **state) {
  (void)state;
  struct host fast = {.ppm = 250, .seed = 2}, slow = {.ppm = -250, .seed = 3};
  simulate(&fast, 600, 5, 2000, 10000);
  simulate(&slow, 600, 5, 2000, 10000);
}

static void jumps_forward_when_far_behind(void **state) {
  (void)state;
  struct host h = {.seed = 4};
  struct timeline tl;
  uint64_t tsc = 5 * HZ;
  assert_int_equal(timeline_init(&tl, KHZ, tsc, host_at(&h, tsc, 0)), 0);
  tsc += HZ;
  h.offset_ns = 50000000; /* the host is 50 ms ahead now */
  uint64_t before = timeline_ns(&tl, tsc);
  timeline_redraw(&tl, tsc, host_at(&h, tsc, 0));
  assert_int_equal(timeline_ns(&tl, tsc), host_at(&h, tsc, 0));
  assert_true(timeline_ns(&tl, tsc) > before);
}

/* A guest ahead of the host may not step back: it slows down by at most
 * TIMELINE_MAX_SLEW_PPM until the host catches up. */
static void slews_back_when_ahead(void **state) {
  (void)state;
  struct host h = {.seed = 5};
  struct timeline tl;
  uint64_t tsc = 5 * HZ;
  assert_int_equal(timeline_init(&tl, KHZ, tsc, host_at(&h, tsc, 0) + 3000000), 0); /* 3 ms */
  uint64_t prev = timeline_ns(&tl, tsc);
  for (unsigned s = 1; s <= 30; s++) {
    tsc += HZ;
    uint64_t before = timeline_ns(&tl, tsc);
    assert_true(before >= prev);
    timeline_redraw(&tl, tsc, host_at(&h, tsc, 0));
    assert_int_equal(timeline_ns(&tl, tsc), before);
    uint64_t max_slew =
        (uint64_t)((unsigned __int128)tl.nominal_mult * TIMELINE_MAX_SLEW_PPM / 1000000);
    uint64_t min_mult = tl.nominal_mult - max_slew - 2; /* 2: the measured rate's rounding */
    assert_true(tl.line.mult >= min_mult);
    prev = before;
  }
  int64_t err = (int64_t)(timeline_ns(&tl, tsc) - host_at(&h, tsc, 0));
  assert_true(err >= -10000 && err <= 10000); /* 3 ms closed at 500 ppm: 6 s, then settled */
}

/* Past the horizon the guest read nothing beyond the horizon's end; the
 * new line starts from the later of that and the host. */
static void restarts_past_the_horizon_without_going_back(void **state) {
  (void)state;
  struct host h = {.seed = 6};
  struct timeline tl;
  uint64_t tsc = 5 * HZ;
  assert_int_equal(timeline_init(&tl, KHZ, tsc, host_at(&h, tsc, 0)), 0);
  uint64_t end = timeline_ns(&tl, tsc + tl.horizon);
  tsc += 30 * HZ; /* a long sleep */
  timeline_redraw(&tl, tsc, host_at(&h, tsc, 0));
  assert_int_equal(timeline_ns(&tl, tsc), host_at(&h, tsc, 0));
  assert_true(timeline_ns(&tl, tsc) > end);
  /* A TSC that went backwards: the clock resumes from the horizon's end
   * at least, never below a value already read. */
  uint64_t read = timeline_ns(&tl, tsc + tl.horizon);
  timeline_redraw(&tl, tsc - HZ, host_at(&h, tsc, 0));
  assert_true(timeline_ns(&tl, tsc - HZ) >= read);
}

static void ignores_an_implausible_host_rate(void **state) {
  (void)state;
  struct timeline tl;
  uint64_t tsc = 5 * HZ;
  assert_int_equal(timeline_init(&tl, KHZ, tsc, exact_ns(tsc)), 0);
  /* The host clock seems to run 10% fast: not a TSC and a clock of one
   * machine; the rate stays nominal and only the slew moves it. */
  tsc += HZ;
  timeline_redraw(&tl, tsc, exact_ns(tsc) + NS_PER_S / 10);
  assert_int_equal(tl.rate, tl.nominal_mult);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(converts_ticks_to_nanoseconds),
      cmocka_unit_test(refuses_implausible_frequencies),
      cmocka_unit_test(never_overflows_over_long_uptimes),
      cmocka_unit_test(knows_its_horizon),
      cmocka_unit_test(follows_a_host_clock_at_the_nominal_rate),
      cmocka_unit_test(follows_a_fast_or_slow_host_clock),
      cmocka_unit_test(jumps_forward_when_far_behind),
      cmocka_unit_test(slews_back_when_ahead),
      cmocka_unit_test(restarts_past_the_horizon_without_going_back),
      cmocka_unit_test(ignores_an_implausible_host_rate),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
