/* wait.c - race-free host sleeps for blocking guest calls (see wait.h). */
#include "wait.h"

#include <errno.h>
#include <pthread.h>

int fs_wait(struct pollfd *pfds, nfds_t n, const struct timespec *timeout,
            const volatile sig_atomic_t *stop) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int r = 0;
  if (stop && *stop)
    r = -EINTR;
  else if ((r = ppoll(pfds, n, timeout, &old)) < 0)
    r = -errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (r == -EINTR && !(stop && *stop))
    r = 0; /* a signal meant for the VMM, not a stop: the caller retries */
  return r;
}
