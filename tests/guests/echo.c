/* echo.c - copies stdin to stdout until end of file, with plain read and
 * write system calls (no stdio buffering), so each chunk is one call each. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

static int write_all(const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(STDOUT_FILENO, buf, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

int main(void) {
  char buf[16384];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0)
      return 0;
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 || write_all(buf, (size_t)n) != 0) {
      perror("echo");
      return 1;
    }
  }
}
