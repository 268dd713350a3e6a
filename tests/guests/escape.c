/* escape.c - tries to read host files from inside the root: through "..",
 * through absolute and relative symlinks the test plants in the root, from a
 * directory descriptor, after chdir, and through /proc. Prints one line per
 * attempt, "LABEL: <first line read>" or "LABEL: error <errno>", then DONE.
 * The test's root holds decoy /etc/passwd and /etc/hostname files, so every
 * line that read something must show a decoy, never the host's file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void print_first_line(const char *label, int fd) {
  char buf[256];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  if (n < 0) {
    printf("%s: error %d\n", label, errno);
    return;
  }
  buf[n] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  printf("%s: %s\n", label, buf);
}

static void try_openat(const char *label, int dirfd, const char *path) {
  int fd = openat(dirfd, path, O_RDONLY);
  if (fd < 0) {
    printf("%s: error %d\n", label, errno);
    return;
  }
  print_first_line(label, fd);
  close(fd);
}

static void try_open(const char *path) { try_openat(path, AT_FDCWD, path); }

static void try_from_etc_dirfd(void) {
  int etc = open("/etc", O_RDONLY | O_DIRECTORY);
  if (etc < 0) {
    printf("dirfd /etc: error %d\n", errno);
    return;
  }
  try_openat("openat(/etc) ../../../etc/passwd", etc, "../../../etc/passwd");
  close(etc);
}

static void try_after_chdir(void) {
  if (chdir("/../../..") != 0) {
    printf("chdir /../../..: error %d\n", errno);
    return;
  }
  try_openat("chdir(/../../..) etc/hostname", AT_FDCWD, "etc/hostname");
}

int main(void) {
  try_open("/etc/passwd");
  try_open("../../../../etc/passwd");
  try_open("/../../etc/hostname");
  try_open("/abs_link");           /* -> /etc/passwd */
  try_open("/rel_link");           /* -> ../../../../../../etc/passwd */
  try_open("/dir_link/hostname");  /* dir_link -> /etc */
  try_open("/up_link/etc/passwd"); /* up_link -> ../../.. */
  try_open("/loop_a");             /* loop_a -> loop_b -> loop_a */
  try_open("/proc/self/root/etc/passwd");
  try_open("/proc/1/root/etc/passwd");
  try_from_etc_dirfd();
  try_after_chdir();
  puts("DONE");
  return 0;
}
