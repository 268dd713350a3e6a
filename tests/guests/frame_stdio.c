/* frame_stdio.c - framed stdio (hearth_abi.h's HEARTH_IOC_FRAME_STDIO) as a
 * native handler sees it, doing hearth-init's part itself: it connects to
 * the host (vsock CID 2, PORT), reads the INVOKE frame, asks hearth-vmm to
 * frame its stdio on the connection, closes its own descriptor of it, and
 * then is an ordinary stdin/stdout/stderr program:
 *   frame_stdio PORT RESPONSE_CAP MODE
 *     echo    reads stdin to EOF, writes "event: <it>" to stdout and
 *             "log: <n> bytes\n" to stderr, exits 0
 *     fail    as echo, then exits 3
 *     big     writes 300000 bytes of 'r' to stdout in 1000-byte writes
 *     crash   as echo, then writes through NULL (SIGSEGV)
 *     spin    as echo, then loops until --timeout
 * Problems before the streams are framed go to stdout and exit 1 (the test
 * sees them in hearth-vmm's output). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../guest-init/proto/hearth_abi.h"

#define INVOKE_TYPE 4
#define HEADER_SIZE 8

static int fail(const char *what) {
  printf("frame_stdio: FAIL: %s (errno %d %s)\n", what, errno, strerror(errno));
  return 1;
}

static int read_exact(int fd, void *buf, size_t len) {
  for (size_t got = 0; got < len;) {
    ssize_t n = read(fd, (char *)buf + got, len - got);
    if (n <= 0)
      return -1;
    got += (size_t)n;
  }
  return 0;
}

/* Connects to the host and takes the INVOKE frame off the connection. */
static int connect_and_take_invoke(unsigned port) {
  int s = socket(AF_VSOCK, SOCK_STREAM, 0);
  struct hearth_sockaddr_vm addr = {
      .svm_family = AF_VSOCK, .svm_port = port, .svm_cid = HEARTH_VMADDR_CID_HOST};
  if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) < 0)
    return -1;
  uint8_t hdr[HEADER_SIZE];
  char payload[4096];
  if (read_exact(s, hdr, sizeof hdr) < 0 || hdr[2] != INVOKE_TYPE)
    return -1;
  uint32_t len = hdr[4] | hdr[5] << 8 | hdr[6] << 16 | (uint32_t)hdr[7] << 24;
  if (len > sizeof payload || read_exact(s, payload, len) < 0)
    return -1;
  return s;
}

static int echo(void) {
  static char event[65536];
  size_t have = 0;
  ssize_t n;
  while (have < sizeof event && (n = read(0, event + have, sizeof event - have)) > 0)
    have += (size_t)n;
  if (n < 0)
    return -1;
  char line[64];
  int len = snprintf(line, sizeof line, "log: %zu bytes\n", have);
  if (write(1, "event: ", 7) != 7 || write(1, event, have) != (ssize_t)have ||
      write(2, line, (size_t)len) != len)
    return -1;
  return 0;
}

static int big(void) {
  char chunk[1000];
  memset(chunk, 'r', sizeof chunk);
  for (int i = 0; i < 300; i++)
    if (write(1, chunk, sizeof chunk) != (ssize_t)sizeof chunk)
      return -1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 4)
    return fail("usage: frame_stdio PORT RESPONSE_CAP MODE");
  const char *mode = argv[3];
  int s = connect_and_take_invoke((unsigned)atoi(argv[1]));
  if (s < 0)
    return fail("connect and read INVOKE");
  struct hearth_frame_stdio arg = {.response_cap = strtoull(argv[2], NULL, 10)};
  if (ioctl(s, HEARTH_IOC_FRAME_STDIO, &arg) < 0)
    return fail("HEARTH_IOC_FRAME_STDIO");
  close(s); /* framing holds the connection */
  if (!strcmp(mode, "big"))
    return big() < 0 ? 2 : 0;
  if (echo() < 0)
    return 2;
  if (!strcmp(mode, "fail"))
    return 3;
  if (!strcmp(mode, "crash"))
    *(volatile int *)0 = 1;
  if (!strcmp(mode, "spin"))
    for (;;)
      ;
  return 0;
}
