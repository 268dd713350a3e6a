/* fail: a native test handler that logs and exits with the status its
 * event names (a decimal number; 1 when there is none). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
  char text[32] = {0};
  ssize_t got = read(STDIN_FILENO, text, sizeof text - 1);
  int status = got > 0 ? atoi(text) : 1;
  fprintf(stderr, "fail: exiting with status %d\n", status);
  return status;
}
