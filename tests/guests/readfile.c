/* readfile.c - prints the file named by argv[1] (a path inside the guest's
 * root, relative to its working directory unless absolute) to stdout. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int copy_to_stdout(int fd) {
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
      return -1;
  }
  return n == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: readfile PATH\n");
    return 2;
  }
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0 || copy_to_stdout(fd) != 0) {
    fprintf(stderr, "readfile: %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  close(fd);
  return fflush(stdout) == 0 ? 0 : 1;
}
