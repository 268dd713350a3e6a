/* ppoll_mask.c - a wait under a temporary signal mask that outlives a
 * snapshot: ppoll_mask PORT blocks SIGUSR2, listens on vsock PORT and
 * waits for a connection in ppoll() with the temporary mask {SIGUSR1}.
 * Then it echoes the connection's bytes back and prints which of the two
 * signals are blocked: the caller's mask must be back after ppoll, however
 * often the call was restarted (a pause, a snapshot, a restore).
 * Prints "blocked: SIGUSR1 0 SIGUSR2 1" when it is. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../guest-init/proto/hearth_abi.h"

static void die(const char *what) {
  fprintf(stderr, "ppoll_mask: %s: %s\n", what, strerror(errno));
  exit(2);
}

static int listen_on(unsigned port) {
  int l = socket(AF_VSOCK, SOCK_STREAM, 0);
  if (l < 0)
    die("socket");
  struct hearth_sockaddr_vm a = {
      .svm_family = AF_VSOCK, .svm_port = port, .svm_cid = HEARTH_VMADDR_CID_ANY};
  if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 1) < 0)
    die("bind/listen");
  return l;
}

static void echo_one(int l) {
  char buf[4096];
  int c = accept(l, NULL, NULL);
  if (c < 0)
    die("accept");
  ssize_t n;
  while ((n = read(c, buf, sizeof buf)) > 0)
    if (write(c, buf, (size_t)n) != n)
      die("write");
  close(c);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: ppoll_mask PORT\n");
    return 2;
  }
  sigset_t caller, temporary, now;
  sigemptyset(&caller);
  sigaddset(&caller, SIGUSR2);
  sigemptyset(&temporary);
  sigaddset(&temporary, SIGUSR1);
  if (sigprocmask(SIG_SETMASK, &caller, NULL) < 0)
    die("sigprocmask");
  int l = listen_on((unsigned)strtoul(argv[1], NULL, 10));
  struct pollfd p = {.fd = l, .events = POLLIN};
  if (ppoll(&p, 1, NULL, &temporary) != 1)
    die("ppoll");
  if (sigprocmask(SIG_BLOCK, NULL, &now) < 0)
    die("sigprocmask");
  echo_one(l);
  printf("blocked: SIGUSR1 %d SIGUSR2 %d\n", sigismember(&now, SIGUSR1),
         sigismember(&now, SIGUSR2));
  return 0;
}
