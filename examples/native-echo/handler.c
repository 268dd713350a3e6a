/* native-echo: a hearth native handler that answers each invocation with its
 * event. The contract (README.md): a static executable named `handler` at
 * the root of the code; the event on stdin (end of file at its end), the
 * response on stdout, logs on stderr; exit status 0 is success, anything
 * else a failure that `hearth run` passes through. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int main(void) {
  static char buf[64 * 1024];
  unsigned long long total = 0;
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      fprintf(stderr, "native-echo: reading the event: %s\n", strerror(errno));
      return 1;
    }
    if (n == 0)
      break;
    if (write_all(STDOUT_FILENO, buf, (size_t)n) < 0) {
      fprintf(stderr, "native-echo: writing the response: %s\n", strerror(errno));
      return 1;
    }
    total += (unsigned long long)n;
  }
  fprintf(stderr, "native-echo: echoed %llu bytes\n", total); /* a log line */
  return 0;
}
