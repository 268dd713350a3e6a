/* tmpfile.c - writes /tmp/x, reads it back through a fresh descriptor and
 * with pread, checks size and contents, removes it, and prints OK. Any
 * mismatch prints FAIL with the step and exits 1. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIZE (256 * 1024 + 123) /* several pages and a ragged end */

static unsigned char wrote[SIZE], got[SIZE];

static int fail(const char *step) {
  printf("FAIL: %s: %s\n", step, strerror(errno));
  return 1;
}

static int write_file(void) {
  int fd = open("/tmp/x", O_CREAT | O_TRUNC | O_WRONLY, 0600);
  if (fd < 0)
    return fail("create");
  for (size_t i = 0; i < SIZE; i++)
    wrote[i] = (unsigned char)(i * 7 + i / 4096);
  if (write(fd, wrote, SIZE) != SIZE)
    return fail("write");
  return close(fd) == 0 ? 0 : fail("close");
}

static int read_back(void) {
  struct stat st;
  int fd = open("/tmp/x", O_RDONLY);
  if (fd < 0)
    return fail("reopen");
  if (fstat(fd, &st) != 0 || st.st_size != SIZE || !S_ISREG(st.st_mode))
    return fail("fstat size");
  size_t have = 0;
  ssize_t n;
  while (have < SIZE && (n = read(fd, got + have, SIZE - have)) > 0)
    have += (size_t)n;
  if (have != SIZE || memcmp(wrote, got, SIZE) != 0)
    return fail("read back");
  char one;
  if (pread(fd, &one, 1, 5000) != 1 || (unsigned char)one != wrote[5000])
    return fail("pread");
  return close(fd) == 0 ? 0 : fail("close");
}

int main(void) {
  if (write_file() || read_back())
    return 1;
  if (unlink("/tmp/x") != 0)
    return fail("unlink");
  if (open("/tmp/x", O_RDONLY) >= 0 || errno != ENOENT)
    return fail("still there after unlink");
  puts("OK");
  return 0;
}
