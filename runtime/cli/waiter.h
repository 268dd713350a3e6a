/* waiter.h - the one place `hearth run` blocks. Every wait is a poll on the
 * descriptor it needs plus the signal self-pipe (sig.h), hearth-vmm's output
 * (diag.h, drained as it comes) and the current deadline: a signal or the
 * deadline ends any wait, and nothing spins. */
#ifndef HEARTH_CLI_WAITER_H
#define HEARTH_CLI_WAITER_H

#include <stdbool.h>

#include "diag.h"

struct waiter {
  int sig_fd;         /* sig_install()'s read end */
  struct diag *diag;  /* may be NULL, or have fd -1 */
  double deadline_ms; /* CLOCK_MONOTONIC ms; 0: none */
  int signo;          /* the signal that ended a wait with -EINTR */
};

/* Milliseconds on CLOCK_MONOTONIC. */
double waiter_now_ms(void);

/* Sets the deadline `seconds` from now (0: none). */
void waiter_set_timeout(struct waiter *w, double seconds);

/* Waits until fd (or fd2, when >= 0) has one of its events. Returns the
 * revents of fd in the low 16 bits and fd2's in the next 16 (> 0), or
 * -ETIMEDOUT at the deadline, or -EINTR when a signal came (w->signo).
 * fd may be -1 to wait for the deadline or a signal alone. */
int waiter_wait2(struct waiter *w, int fd, short events, int fd2, short events2);

static inline int waiter_wait(struct waiter *w, int fd, short events) {
  return waiter_wait2(w, fd, events, -1, 0);
}

#endif
