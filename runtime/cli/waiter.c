/* waiter.c - poll with a deadline, the signal pipe and the VMM's output
 * (waiter.h). */
#include "waiter.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

double waiter_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void waiter_set_timeout(struct waiter *w, double seconds) {
  w->deadline_ms = seconds > 0 ? waiter_now_ms() + seconds * 1e3 : 0;
}

/* poll's timeout: -1 without a deadline, else the ms left (0 when past). */
static int timeout_ms(const struct waiter *w) {
  if (w->deadline_ms <= 0)
    return -1;
  double left = w->deadline_ms - waiter_now_ms();
  return left <= 0 ? 0 : left > 1e9 ? 1000000000 : (int)ceil(left);
}

/* A signal number from the pipe, or 0. */
static int take_signal(struct waiter *w) {
  unsigned char b;
  ssize_t n = read(w->sig_fd, &b, 1);
  return n == 1 ? b : 0;
}

enum { P_FD, P_FD2, P_SIG, P_DIAG, P_COUNT };

int waiter_wait2(struct waiter *w, int fd, short events, int fd2, short events2) {
  for (;;) {
    struct pollfd p[P_COUNT] = {
        [P_FD] = {.fd = fd, .events = events},
        [P_FD2] = {.fd = fd2, .events = events2},
        [P_SIG] = {.fd = w->sig_fd, .events = POLLIN},
        [P_DIAG] = {.fd = w->diag ? w->diag->fd : -1, .events = POLLIN},
    };
    int n = poll(p, P_COUNT, timeout_ms(w));
    if (n < 0 && errno != EINTR)
      return -errno;
    if (p[P_SIG].revents && (w->signo = take_signal(w)) != 0)
      return -EINTR;
    if (p[P_DIAG].revents)
      diag_drain(w->diag);
    if (p[P_FD].revents || p[P_FD2].revents)
      return (p[P_FD].revents & 0xffff) | (p[P_FD2].revents & 0xffff) << 16;
    if (n == 0)
      return -ETIMEDOUT;
  }
}
