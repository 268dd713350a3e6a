/* clock.c - the guest's clocks: CLOCK_REALTIME against the host's time
 * (argv[1], seconds since the epoch), CLOCK_MONOTONIC never going back,
 * nanosleep and absolute clock_nanosleep sleeping as long as asked, and
 * gettimeofday() and time() agreeing with clock_gettime(). Prints
 * "clock: OK" and exits 0, or names the first failed check and exits 1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define MAX_SKEW_S 5 /* host clock read before the VM started */

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      printf("clock: FAIL: " __VA_ARGS__);                                                         \
      putchar('\n');                                                                               \
      return 1;                                                                                    \
    }                                                                                              \
  } while (0)

static long long ns_of(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

static struct timespec now(clockid_t id) {
  struct timespec t = {-1, -1};
  if (clock_gettime(id, &t) != 0)
    printf("clock: clock_gettime(%d): %s\n", (int)id, strerror(errno));
  return t;
}

static int check_realtime(const char *host_arg) {
  char *end;
  long long host = strtoll(host_arg, &end, 10);
  CHECK(*end == '\0' && host > 0, "argv[1] '%s' is not the host's time in seconds", host_arg);
  struct timespec t = now(CLOCK_REALTIME);
  CHECK(t.tv_nsec >= 0 && t.tv_nsec < 1000000000, "CLOCK_REALTIME tv_nsec %ld", t.tv_nsec);
  CHECK(llabs(t.tv_sec - host) <= MAX_SKEW_S, "CLOCK_REALTIME %lld s, host said %lld s",
        (long long)t.tv_sec, host);
  return 0;
}

static int check_monotonic(void) {
  struct timespec prev = now(CLOCK_MONOTONIC);
  for (int i = 0; i < 1000; i++) {
    struct timespec t = now(CLOCK_MONOTONIC);
    CHECK(t.tv_sec >= 0 && t.tv_nsec >= 0 && t.tv_nsec < 1000000000,
          "CLOCK_MONOTONIC read %d: %lld.%09ld", i, (long long)t.tv_sec, t.tv_nsec);
    CHECK(ns_of(t) >= ns_of(prev), "CLOCK_MONOTONIC went back at read %d: %lld -> %lld ns", i,
          ns_of(prev), ns_of(t));
    prev = t;
  }
  struct timespec res;
  CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0 &&
            res.tv_nsec <= 1000000,
        "clock_getres(CLOCK_MONOTONIC) = %lld.%09ld", (long long)res.tv_sec, res.tv_nsec);
  return 0;
}

static int check_nanosleep(void) {
  struct timespec want = {0, 50 * 1000000L};
  struct timespec before = now(CLOCK_MONOTONIC);
  CHECK(nanosleep(&want, NULL) == 0, "nanosleep(50 ms): %s", strerror(errno));
  long long ms = (ns_of(now(CLOCK_MONOTONIC)) - ns_of(before)) / 1000000;
  CHECK(ms >= 50 && ms <= 500, "nanosleep(50 ms) took %lld ms", ms);
  return 0;
}

static int check_absolute_sleep(void) {
  struct timespec until = now(CLOCK_MONOTONIC);
  until.tv_nsec += 30 * 1000000L;
  if (until.tv_nsec >= 1000000000) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000;
  }
  int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
  CHECK(rc == 0, "clock_nanosleep(TIMER_ABSTIME): %s", strerror(rc));
  long long late_ms = (ns_of(now(CLOCK_MONOTONIC)) - ns_of(until)) / 1000000;
  CHECK(late_ms >= 0 && late_ms <= 450, "absolute sleep ended %lld ms after its deadline", late_ms);
  return 0;
}

/* Each other clock read lies between two clock_gettime reads. */
static int check_other_clocks_agree(void) {
  struct timespec first = now(CLOCK_REALTIME);
  struct timeval tv;
  CHECK(gettimeofday(&tv, NULL) == 0, "gettimeofday: %s", strerror(errno));
  time_t t = time(NULL);
  struct timespec last = now(CLOCK_REALTIME);
  CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000, "gettimeofday tv_usec %ld", (long)tv.tv_usec);
  CHECK(first.tv_sec <= tv.tv_sec && tv.tv_sec <= last.tv_sec,
        "gettimeofday %lld s, clock_gettime %lld..%lld s", (long long)tv.tv_sec,
        (long long)first.tv_sec, (long long)last.tv_sec);
  CHECK(first.tv_sec <= t && t <= last.tv_sec, "time() %lld s, clock_gettime %lld..%lld s",
        (long long)t, (long long)first.tv_sec, (long long)last.tv_sec);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc != 2) {
    fprintf(stderr, "usage: clock HOST_UNIX_SECONDS\n");
    return 2;
  }
  if (check_realtime(argv[1]) || check_monotonic() || check_nanosleep() || check_absolute_sleep() ||
      check_other_clocks_agree())
    return 1;
  puts("clock: OK");
  return 0;
}
