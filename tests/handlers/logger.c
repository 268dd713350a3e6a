/* logger: a native test handler that writes logs around its response, so
 * a test can check logs reach stderr and never stdout. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
  fputs("logger: first log line\n", stderr);
  fflush(stderr);
  fputs("the response\n", stdout);
  fflush(stdout);
  fputs("logger: second log line\n", stderr);
  return 0;
}
