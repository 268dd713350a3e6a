/* wait.h - the one way the guest's blocking system calls sleep in the host:
 * ppoll() on the host fds that can make them ready, with the timeout, and
 * with signals blocked except during the sleep itself, so a stop request
 * (the --timeout signal handler sets the flag) that arrives just before the
 * sleep is never missed. With no fds and no timeout it sleeps until a signal:
 * the guest is a single thread, and a wait nothing in the host can end (a
 * read from an empty pipe whose writers are all the guest's) lasts until the
 * VM is stopped, as it would last forever on Linux. */
#ifndef HEARTH_VMM_FS_WAIT_H
#define HEARTH_VMM_FS_WAIT_H

#include <poll.h>
#include <signal.h>
#include <time.h>

/* Sleeps until one of `pfds` is ready (their revents set), `timeout` passes
 * (NULL: no timeout), or a signal arrives. Returns the number of ready fds
 * (0 after a timeout or a signal that did not stop the VM: callers
 * recompute and retry), -EINTR when *stop is set, or another -errno. */
int fs_wait(struct pollfd *pfds, nfds_t n, const struct timespec *timeout,
            const volatile sig_atomic_t *stop);

#endif
