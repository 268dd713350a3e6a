/* clocksync.c - the guest's side of a conversation about time with the
 * host test (tests/integration/test_vdso.c), one command per stdin line:
 *   now       prints "now REALTIME_NS MONOTONIC_NS" (read at once)
 *   spin MS   reads the clocks for MS ms of CLOCK_MONOTONIC: monotonic never
 *             goes back, and gettimeofday(), time() and CLOCK_REALTIME stay
 *             in order; prints "spun READS"
 *   sleep MS  nanosleep(MS ms), then prints "slept NS" as measured by
 *             CLOCK_MONOTONIC
 *   quit      exits 0
 * Prints "ready" first; any failed check prints "FAIL: ..." and exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static long long now_ns(clockid_t clk) {
  struct timespec t;
  if (clock_gettime(clk, &t) != 0)
    return -1;
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* gettimeofday and time between two CLOCK_REALTIME reads. */
static int check_realtime_order(void) {
  long long first = now_ns(CLOCK_REALTIME);
  struct timeval tv;
  gettimeofday(&tv, NULL);
  time_t t = time(NULL);
  long long last = now_ns(CLOCK_REALTIME);
  long long tv_us = tv.tv_sec * 1000000LL + tv.tv_usec;
  if (tv_us < first / 1000 || tv_us > last / 1000 || t < first / 1000000000LL ||
      t > last / 1000000000LL) {
    printf("FAIL: realtime %lld..%lld ns, gettimeofday %lld us, time %lld\n", first, last, tv_us,
           (long long)t);
    return -1;
  }
  return 0;
}

static int spin(long ms) {
  long long start = now_ns(CLOCK_MONOTONIC), prev = start, reads = 0;
  while (prev - start < ms * 1000000LL) {
    long long t = now_ns(CLOCK_MONOTONIC);
    if (t < prev) {
      printf("FAIL: CLOCK_MONOTONIC went back %lld ns after %lld reads\n", prev - t, reads);
      return -1;
    }
    prev = t;
    if (++reads % 4096 == 0 && check_realtime_order() < 0)
      return -1;
  }
  printf("spun %lld\n", reads);
  return 0;
}

static int nap(long ms) {
  struct timespec want = {ms / 1000, (ms % 1000) * 1000000L};
  long long start = now_ns(CLOCK_MONOTONIC);
  if (nanosleep(&want, NULL) != 0) {
    puts("FAIL: nanosleep");
    return -1;
  }
  printf("slept %lld\n", now_ns(CLOCK_MONOTONIC) - start);
  return 0;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  puts("ready");
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    long ms = 0;
    int rc = 0;
    if (strcmp(line, "now\n") == 0)
      printf("now %lld %lld\n", now_ns(CLOCK_REALTIME), now_ns(CLOCK_MONOTONIC));
    else if (sscanf(line, "spin %ld", &ms) == 1)
      rc = spin(ms);
    else if (sscanf(line, "sleep %ld", &ms) == 1)
      rc = nap(ms);
    else if (strcmp(line, "quit\n") == 0)
      return 0;
    else {
      printf("FAIL: unknown command %s", line);
      rc = -1;
    }
    if (rc < 0)
      return 1;
  }
  return 0;
}
