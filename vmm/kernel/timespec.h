/* timespec.h - the guest's struct timespec and the arithmetic the time
 * system calls need, saturating instead of overflowing (a guest may ask to
 * sleep for INT64_MAX seconds). */
#ifndef HEARTH_VMM_TIMESPEC_H
#define HEARTH_VMM_TIMESPEC_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define NSEC_PER_SEC 1000000000L

/* struct timespec as x86-64 Linux passes it. */
struct guest_timespec {
  int64_t tv_sec;
  int64_t tv_nsec;
};

/* Linux's timespec64_valid: tv_sec >= 0 and tv_nsec in [0, 1e9). */
bool ts_valid(const struct guest_timespec *t);

static inline struct timespec ts_from_guest(const struct guest_timespec *t) {
  return (struct timespec){.tv_sec = t->tv_sec, .tv_nsec = t->tv_nsec};
}
static inline struct guest_timespec ts_to_guest(struct timespec t) {
  return (struct guest_timespec){.tv_sec = t.tv_sec, .tv_nsec = t.tv_nsec};
}

/* a + b for normalised, non-negative values; the largest timespec when the
 * sum does not fit. */
struct timespec ts_add(struct timespec a, struct timespec b);

/* deadline - now, or zero when the deadline has passed. */
struct timespec ts_until(struct timespec deadline, struct timespec now);

static inline bool ts_is_zero(struct timespec t) { return t.tv_sec == 0 && t.tv_nsec == 0; }

/* <0, 0, >0 as a is before, equal to, after b. */
int ts_cmp(struct timespec a, struct timespec b);

#endif
