/* vsock_client.c - guest-initiated vsock connections to the host:
 * vsock_client PORT MESSAGE connects to CID 2 port PORT (hearth-vmm takes
 * it to <uds>_PORT), sends MESSAGE, shuts its side down and prints what
 * comes back until EOF ("reply: ..."); then connects, non-blocking, to
 * PORT+1, where nothing listens, and prints the error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../guest-init/proto/hearth_abi.h"

static void die(const char *what) {
  fprintf(stderr, "vsock_client: %s: %s\n", what, strerror(errno));
  exit(2);
}

static int connect_host(unsigned port, int flags) {
  int s = socket(AF_VSOCK, SOCK_STREAM | flags, 0);
  if (s < 0)
    die("socket");
  struct hearth_sockaddr_vm a = {
      .svm_family = AF_VSOCK, .svm_port = port, .svm_cid = HEARTH_VMADDR_CID_HOST};
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
    int err = errno;
    close(s);
    return -err;
  }
  return s;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: vsock_client PORT MESSAGE\n");
    return 2;
  }
  unsigned port = (unsigned)strtoul(argv[1], NULL, 10);
  int s = connect_host(port, 0);
  if (s < 0) {
    errno = -s;
    die("connect");
  }
  struct hearth_sockaddr_vm peer;
  socklen_t len = sizeof peer;
  if (getpeername(s, (struct sockaddr *)&peer, &len) < 0)
    die("getpeername");
  printf("peer: %u:%u\n", peer.svm_cid, peer.svm_port);
  if (send(s, argv[2], strlen(argv[2]), 0) != (ssize_t)strlen(argv[2]))
    die("send");
  if (shutdown(s, SHUT_WR) < 0)
    die("shutdown");
  char buf[256];
  size_t have = 0;
  ssize_t n;
  while (have < sizeof buf - 1 && (n = recv(s, buf + have, sizeof buf - 1 - have, 0)) > 0)
    have += (size_t)n;
  buf[have] = '\0';
  printf("reply: %s\n", buf);
  close(s);
  int r = connect_host(port + 1, SOCK_NONBLOCK);
  printf("port %u: %s\n", port + 1, r >= 0 ? "connected" : strerror(-r));
  return 0;
}
