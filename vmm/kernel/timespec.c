/* timespec.c - timespec validation and saturating arithmetic (timespec.h). */
#include "timespec.h"

bool ts_valid(const struct guest_timespec *t) {
  return t->tv_sec >= 0 && t->tv_nsec >= 0 && t->tv_nsec < NSEC_PER_SEC;
}

struct timespec ts_add(struct timespec a, struct timespec b) {
  const struct timespec max = {.tv_sec = INT64_MAX, .tv_nsec = NSEC_PER_SEC - 1};
  if (a.tv_sec > INT64_MAX - b.tv_sec)
    return max;
  struct timespec sum = {.tv_sec = a.tv_sec + b.tv_sec, .tv_nsec = a.tv_nsec + b.tv_nsec};
  if (sum.tv_nsec >= NSEC_PER_SEC) {
    if (sum.tv_sec == INT64_MAX)
      return max;
    sum.tv_sec++;
    sum.tv_nsec -= NSEC_PER_SEC;
  }
  return sum;
}

int ts_cmp(struct timespec a, struct timespec b) {
  if (a.tv_sec != b.tv_sec)
    return a.tv_sec < b.tv_sec ? -1 : 1;
  return (a.tv_nsec > b.tv_nsec) - (a.tv_nsec < b.tv_nsec);
}

struct timespec ts_until(struct timespec deadline, struct timespec now) {
  if (ts_cmp(deadline, now) <= 0)
    return (struct timespec){0, 0};
  struct timespec left = {.tv_sec = deadline.tv_sec - now.tv_sec,
                          .tv_nsec = deadline.tv_nsec - now.tv_nsec};
  if (left.tv_nsec < 0) {
    left.tv_sec--;
    left.tv_nsec += NSEC_PER_SEC;
  }
  return left;
}
