/* sig.c - the self-pipe of sig.h. */
#include "sig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int sig_write_fd = -1;
static volatile sig_atomic_t sig_last;

static void on_signal(int signo) {
  int saved = errno;
  unsigned char b = (unsigned char)signo;
  sig_last = signo;
  if (write(sig_write_fd, &b, 1) < 0) {
    /* full pipe: a signal is already waiting to be seen */
  }
  errno = saved;
}

int sig_install(void) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
    return -errno;
  sig_write_fd = fds[1];
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  const int caught[] = {SIGINT, SIGTERM, SIGHUP};
  for (size_t i = 0; i < sizeof caught / sizeof caught[0]; i++)
    if (sigaction(caught[i], &sa, NULL) != 0)
      return -errno;
  sa.sa_handler = SIG_IGN;
  if (sigaction(SIGPIPE, &sa, NULL) != 0)
    return -errno;
  return fds[0];
}

int sig_pending(void) { return sig_last; }
