/* symlink.c - symbolic links under hearth-vmm. Each mode prints
 * "symlink: <mode> OK" and exits 0, or names its first failed check and
 * exits 1:
 *   basic   links in /tmp: create, readlink, lstat/stat, open through them
 *           (relative and absolute targets), chdir and realpath through a
 *           link to a directory, dangling links, loops (ELOOP), O_NOFOLLOW,
 *           unlink, rename, the errors (EEXIST, EROFS, ENOENT,
 *           ENAMETOOLONG), and link() answering EPERM
 *   escape  targets climbing out of the root (relative and absolute) end
 *           inside it: /inside.txt is reached, the host's /etc/passwd
 *           never; an image link to /tmp/made is followed into /tmp
 * The test puts INSIDE_TEXT in /inside.txt and, for escape, a link
 * /image_link -> /tmp/made in the root. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INSIDE_TEXT "inside the root\n"

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      printf("symlink: FAIL: " __VA_ARGS__);                                                       \
      printf(" (errno %d %s)\n", errno, strerror(errno));                                          \
      return 1;                                                                                    \
    }                                                                                              \
  } while (0)

/* Reads all of path (at most cap-1 bytes, NUL-terminated): its length or -1. */
static ssize_t slurp(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return -1;
  ssize_t n = read(fd, buf, cap - 1);
  close(fd);
  buf[n > 0 ? n : 0] = '\0';
  return n;
}

static int put(const char *path, const char *text) {
  int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0)
    return -1;
  ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int create_and_follow(void) {
  char buf[256];
  struct stat st;
  CHECK(mkdir("/tmp/d", 0755) == 0 && put("/tmp/d/file", "in d\n") == 0, "make /tmp/d/file");
  CHECK(symlink("d/file", "/tmp/rel") == 0, "symlink rel");
  CHECK(symlink("/tmp/d", "/tmp/dirlink") == 0, "symlink dirlink");
  CHECK(symlink("/inside.txt", "/tmp/abs") == 0, "symlink abs");
  CHECK(readlink("/tmp/rel", buf, sizeof buf) == 6 && memcmp(buf, "d/file", 6) == 0, "readlink");
  CHECK(lstat("/tmp/rel", &st) == 0 && S_ISLNK(st.st_mode) && st.st_size == 6, "lstat");
  CHECK(stat("/tmp/rel", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 5, "stat follows");
  CHECK(slurp("/tmp/rel", buf, sizeof buf) == 5 && !strcmp(buf, "in d\n"), "open rel");
  CHECK(slurp("/tmp/abs", buf, sizeof buf) > 0 && !strcmp(buf, INSIDE_TEXT), "open abs");
  CHECK(slurp("/tmp/dirlink/file", buf, sizeof buf) == 5, "through a dir link");
  char *real = realpath("/tmp/dirlink/file", NULL);
  CHECK(real && !strcmp(real, "/tmp/d/file"), "realpath %s", real ? real : "(null)");
  free(real);
  CHECK(chdir("/tmp/dirlink") == 0 && getcwd(buf, sizeof buf) && !strcmp(buf, "/tmp/d"),
        "chdir through a link: cwd %s", buf);
  CHECK(slurp("file", buf, sizeof buf) == 5, "relative open after chdir");
  CHECK(chdir("/") == 0, "chdir /");
  /* Creating through a dangling link creates its target. */
  CHECK(symlink("made_by_open", "/tmp/dangling") == 0, "symlink dangling");
  CHECK(stat("/tmp/dangling", &st) < 0 && errno == ENOENT, "dangling stat not ENOENT");
  CHECK(put("/tmp/dangling", "made\n") == 0, "create through dangling");
  CHECK(slurp("/tmp/made_by_open", buf, sizeof buf) == 5, "target made");
  return 0;
}

static int loops_and_errors(void) {
  char target[PATH_MAX + 1];
  CHECK(symlink("loop_b", "/tmp/loop_a") == 0 && symlink("loop_a", "/tmp/loop_b") == 0, "loop");
  CHECK(open("/tmp/loop_a", O_RDONLY) < 0 && errno == ELOOP, "loop not ELOOP");
  CHECK(symlink("/tmp/d/file", "/tmp/nofollow") == 0, "symlink nofollow");
  CHECK(open("/tmp/nofollow", O_RDONLY | O_NOFOLLOW) < 0 && errno == ELOOP, "O_NOFOLLOW not ELOOP");
  CHECK(symlink("x", "/tmp/rel") < 0 && errno == EEXIST, "existing not EEXIST");
  CHECK(symlink("x", "/outside_tmp") < 0 && errno == EROFS, "root not EROFS");
  CHECK(symlink("", "/tmp/empty") < 0 && errno == ENOENT, "empty target not ENOENT");
  CHECK(symlink("x", "/tmp/missing/l") < 0 && errno == ENOENT, "missing dir not ENOENT");
  memset(target, 'a', PATH_MAX);
  target[PATH_MAX] = '\0';
  CHECK(symlink(target, "/tmp/long") < 0 && errno == ENAMETOOLONG, "4096-byte target");
  target[PATH_MAX - 1] = '\0';
  CHECK(symlink(target, "/tmp/long") == 0, "4095-byte target");
  CHECK(link("/tmp/d/file", "/tmp/hard") < 0 && errno == EPERM, "link not EPERM");
  CHECK(link("/tmp/nothing", "/tmp/hard") < 0 && errno == ENOENT, "link of nothing not ENOENT");
  CHECK(rename("/tmp/rel", "/tmp/rel2") == 0, "rename");
  char buf[16];
  CHECK(readlink("/tmp/rel2", buf, sizeof buf) == 6, "renamed link");
  CHECK(unlink("/tmp/rel2") == 0 && access("/tmp/d/file", F_OK) == 0, "unlink keeps target");
  CHECK(symlink("x", "/code/l") == 0, "symlink in /code");
  return 0;
}

static int mode_basic(void) {
  if (create_and_follow() || loops_and_errors())
    return 1;
  printf("symlink: basic OK\n");
  return 0;
}

static int mode_escape(void) {
  char buf[256];
  CHECK(symlink("../../../../../../..", "/tmp/up") == 0, "symlink up");
  CHECK(symlink("/../../../etc/passwd", "/tmp/passwd") == 0, "symlink passwd");
  CHECK(symlink("../../../../../../etc/passwd", "/tmp/relpasswd") == 0, "symlink relpasswd");
  CHECK(slurp("/tmp/up/inside.txt", buf, sizeof buf) > 0 && !strcmp(buf, INSIDE_TEXT),
        "climbing link does not stop at the root");
  CHECK(slurp("/tmp/passwd", buf, sizeof buf) < 0 && errno == ENOENT, "host /etc/passwd (abs)");
  CHECK(slurp("/tmp/relpasswd", buf, sizeof buf) < 0 && errno == ENOENT, "host /etc/passwd (rel)");
  CHECK(slurp("/tmp/up/etc/passwd", buf, sizeof buf) < 0 && errno == ENOENT,
        "host /etc/passwd (via up)");
  char *real = realpath("/tmp/up", NULL);
  CHECK(real && !strcmp(real, "/"), "realpath of up: %s", real ? real : "(null)");
  free(real);
  /* A link of the image tree pointing into /tmp. */
  CHECK(slurp("/image_link", buf, sizeof buf) < 0 && errno == ENOENT, "image link early");
  CHECK(put("/tmp/made", "made in tmp\n") == 0, "make /tmp/made");
  CHECK(slurp("/image_link", buf, sizeof buf) > 0 && !strcmp(buf, "made in tmp\n"),
        "image link into /tmp");
  printf("symlink: escape OK\n");
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *mode = argc > 1 ? argv[1] : "basic";
  if (!strcmp(mode, "basic"))
    return mode_basic();
  if (!strcmp(mode, "escape"))
    return mode_escape();
  printf("symlink: unknown mode %s\n", mode);
  return 2;
}
