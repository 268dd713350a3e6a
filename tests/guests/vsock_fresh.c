/* vsock_fresh.c - what a VM restored from a snapshot must not share with
 * its clones: listens on vsock PORT (argv[1]) and, for one connection,
 * answers one line "<32 hex digits of getrandom()> <32 of /dev/urandom>
 * <CLOCK_REALTIME seconds>\n", then exits 0. Snapshotted while blocked in
 * accept(), every restore must answer different random bytes and the
 * current wall clock. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../guest-init/proto/hearth_abi.h"

static void die(const char *what) {
  fprintf(stderr, "vsock_fresh: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void hex(const unsigned char *b, size_t n, char *out) {
  for (size_t i = 0; i < n; i++)
    sprintf(out + 2 * i, "%02x", b[i]);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: vsock_fresh PORT\n");
    return 2;
  }
  int l = socket(AF_VSOCK, SOCK_STREAM, 0);
  struct hearth_sockaddr_vm a = {.svm_family = AF_VSOCK,
                                 .svm_port = (unsigned)strtoul(argv[1], NULL, 10),
                                 .svm_cid = HEARTH_VMADDR_CID_ANY};
  if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 1) < 0)
    die("listen");
  int c = accept(l, NULL, NULL);
  if (c < 0)
    die("accept");
  unsigned char r1[16], r2[16];
  int u = open("/dev/urandom", O_RDONLY);
  if (getrandom(r1, sizeof r1, 0) != sizeof r1 || u < 0 || read(u, r2, sizeof r2) != sizeof r2)
    die("random");
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  char line[128], h1[33], h2[33];
  hex(r1, sizeof r1, h1);
  hex(r2, sizeof r2, h2);
  int n = snprintf(line, sizeof line, "%s %s %lld\n", h1, h2, (long long)now.tv_sec);
  if (write(c, line, (size_t)n) != n)
    die("write");
  close(c);
  return 0;
}
