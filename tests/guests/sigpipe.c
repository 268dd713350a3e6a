/* sigpipe.c - writes to a pipe whose read end it closed: the write must raise
 * SIGPIPE, whose default action ends the program with status 141. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
  int fds[2];
  if (pipe(fds) != 0) {
    perror("pipe");
    return 2;
  }
  close(fds[0]);
  fputs("sigpipe: writing to a pipe with no reader\n", stderr);
  ssize_t n = write(fds[1], "x", 1);
  printf("survived: write returned %zd, errno %d\n", n, errno);
  return 1;
}
