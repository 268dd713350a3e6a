/* fsops.c - file-system and descriptor calls under hearth-vmm. Each mode
 * prints "fsops: <mode> OK" and exits 0, or names its first failed check and
 * exits 1:
 *   basic NAME...  getcwd/chdir, the root's listing (NAMEs plus tmp, dev,
 *                  proc, sys), stat against fstat of /data.txt, dup2 onto fd 1,
 *                  pipe + poll, /dev/null, /dev/zero, /dev/urandom,
 *                  /proc/self/exe, EROFS for writes into the root
 *   cwd DIR        run with --cwd DIR: getcwd, relative opens from it
 *   enospc         run with --tmp-size 1: 2 MiB into /tmp fails with ENOSPC
 *   openat PATH    openat(AT_FDCWD, PATH) fails with ENOENT (for traces)
 *   exe PATH       /proc/self/exe is PATH (started by a relative path, it
 *                  must still name the absolute one)
 *   synth          /sys/devices/system/cpu/online is "0\n" (one CPU, as
 *                  sysconf says too); /proc/self/maps is in Linux's format
 *                  and shows this program's code (r-xp, under its path)
 *                  and the stack
 * The test puts DATA_TEXT in /data.txt and INSIDE_TEXT in DIR/inside.txt. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DATA_TEXT "hearth fsops data file\n"
#define INSIDE_TEXT "inside the working directory\n"
#define MAX_NAMES 16

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      printf("fsops: FAIL: " __VA_ARGS__);                                                         \
      printf(" (errno %d %s)\n", errno, strerror(errno));                                          \
      return 1;                                                                                    \
    }                                                                                              \
  } while (0)

/* Reads all of `path` into buf (NUL-terminated); -1 on error. */
static ssize_t slurp(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return -1;
  size_t have = 0;
  ssize_t n;
  while (have + 1 < cap && (n = read(fd, buf + have, cap - 1 - have)) > 0)
    have += (size_t)n;
  close(fd);
  buf[have] = '\0';
  return (ssize_t)have;
}

static bool file_is(const char *path, const char *want) {
  char buf[256];
  return slurp(path, buf, sizeof buf) == (ssize_t)strlen(want) && strcmp(buf, want) == 0;
}

static int check_cwd_follows_chdir(void) {
  char cwd[256] = "";
  CHECK(getcwd(cwd, sizeof cwd) && strcmp(cwd, "/") == 0, "getcwd %s, want /", cwd);
  CHECK(chdir("/tmp") == 0, "chdir /tmp");
  CHECK(getcwd(cwd, sizeof cwd) && strcmp(cwd, "/tmp") == 0, "getcwd %s, want /tmp", cwd);
  int fd = open("rel.txt", O_CREAT | O_WRONLY | O_TRUNC, 0600);
  CHECK(fd >= 0 && write(fd, "rel\n", 4) == 4 && close(fd) == 0, "create rel.txt in /tmp");
  CHECK(file_is("/tmp/rel.txt", "rel\n"), "/tmp/rel.txt does not hold what rel.txt got");
  CHECK(chdir("/") == 0 && getcwd(cwd, sizeof cwd) && strcmp(cwd, "/") == 0, "back to /");
  return 0;
}

/* The root lists exactly `names` (plus the mounts tmp, dev, proc, sys, code, of
 * type DT_DIR), each once; "." and ".." may come too. */
#define MOUNTS 5
static int check_root_listing(char **names, int count) {
  const char *want[MAX_NAMES + MOUNTS] = {"tmp", "dev", "proc", "sys", "code"};
  int seen[MAX_NAMES + MOUNTS] = {0}, nwant = MOUNTS;
  for (int i = 0; i < count && nwant < MAX_NAMES + MOUNTS; i++)
    want[nwant++] = names[i];
  DIR *d = opendir("/");
  CHECK(d != NULL, "opendir /");
  struct dirent *e;
  while ((errno = 0, e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    int i = 0;
    while (i < nwant && strcmp(want[i], e->d_name) != 0)
      i++;
    CHECK(i < nwant, "readdir / gave an unexpected entry \"%s\"", e->d_name);
    CHECK(i >= MOUNTS || e->d_type == DT_DIR, "readdir /: d_type of %s is %d, want DT_DIR", want[i],
          e->d_type);
    seen[i]++;
  }
  CHECK(errno == 0, "readdir /");
  closedir(d);
  for (int i = 0; i < nwant; i++)
    CHECK(seen[i] == 1, "readdir / listed \"%s\" %d times, want once", want[i], seen[i]);
  return 0;
}

static int check_stat_matches_fstat(const char *self) {
  struct stat by_path, by_fd, other;
  int fd = open("/data.txt", O_RDONLY);
  CHECK(fd >= 0 && fstat(fd, &by_fd) == 0, "open+fstat /data.txt");
  close(fd);
  CHECK(stat("/data.txt", &by_path) == 0 && stat(self, &other) == 0, "stat");
  CHECK(by_path.st_ino == by_fd.st_ino && by_path.st_dev == by_fd.st_dev,
        "stat says ino %lu dev %lu, fstat ino %lu dev %lu", (unsigned long)by_path.st_ino,
        (unsigned long)by_path.st_dev, (unsigned long)by_fd.st_ino, (unsigned long)by_fd.st_dev);
  CHECK(S_ISREG(by_fd.st_mode) && by_fd.st_size == (off_t)strlen(DATA_TEXT),
        "fstat /data.txt: mode %o size %lld, want a %zu-byte regular file", by_fd.st_mode,
        (long long)by_fd.st_size, strlen(DATA_TEXT));
  CHECK(other.st_ino != by_path.st_ino, "%s and /data.txt share inode %lu", self,
        (unsigned long)other.st_ino);
  CHECK(file_is("/data.txt", DATA_TEXT), "/data.txt content");
  return 0;
}

static int check_dup2_stdout(void) {
  static const char line[] = "written through fd 1\n";
  int fd = open("/tmp/out.txt", O_CREAT | O_RDWR | O_TRUNC, 0600);
  int saved = dup(1);
  CHECK(fd >= 0 && saved >= 0, "open /tmp/out.txt, dup(1)");
  CHECK(dup2(fd, 1) == 1, "dup2(fd, 1)");
  ssize_t n = write(1, line, strlen(line));
  CHECK(dup2(saved, 1) == 1 && close(saved) == 0 && close(fd) == 0, "restore fd 1");
  CHECK(n == (ssize_t)strlen(line), "write(1) after dup2 returned %zd", n);
  CHECK(file_is("/tmp/out.txt", line), "/tmp/out.txt lacks what went to fd 1");
  return 0;
}

static int check_pipe_poll(void) {
  int p[2];
  char c;
  CHECK(pipe(p) == 0, "pipe");
  struct pollfd pfd = {.fd = p[0], .events = POLLIN};
  CHECK(poll(&pfd, 1, 20) == 0 && pfd.revents == 0, "poll on an empty pipe: revents %#x",
        pfd.revents);
  CHECK(write(p[1], "x", 1) == 1, "write to the pipe");
  CHECK(poll(&pfd, 1, 1000) == 1 && pfd.revents == POLLIN, "poll after a write: revents %#x",
        pfd.revents);
  CHECK(read(p[0], &c, 1) == 1 && c == 'x', "read from the pipe");
  CHECK(close(p[1]) == 0, "close the writer");
  CHECK(poll(&pfd, 1, 1000) == 1 && (pfd.revents & POLLHUP) && !(pfd.revents & POLLIN),
        "poll after closing the writer: revents %#x, want POLLHUP", pfd.revents);
  CHECK(read(p[0], &c, 1) == 0, "read at EOF of the pipe");
  close(p[0]);
  CHECK(pipe(p) == 0, "second pipe");
  struct pollfd out = {.fd = p[1], .events = POLLOUT};
  CHECK(poll(&out, 1, 1000) == 1 && out.revents == POLLOUT, "poll on a writable pipe: revents %#x",
        out.revents);
  CHECK(close(p[0]) == 0, "close the reader");
  CHECK(poll(&out, 1, 1000) == 1 && (out.revents & POLLERR),
        "poll after closing the reader: revents %#x, want POLLERR", out.revents);
  close(p[1]);
  return 0;
}

static int check_devices(void) {
  unsigned char buf[4096], again[64];
  int null = open("/dev/null", O_RDWR), zero = open("/dev/zero", O_RDONLY);
  int rnd = open("/dev/urandom", O_RDONLY);
  CHECK(null >= 0 && zero >= 0 && rnd >= 0, "open /dev/null, /dev/zero, /dev/urandom");
  struct stat st;
  CHECK(fstat(null, &st) == 0 && S_ISCHR(st.st_mode), "/dev/null is not a character device");
  CHECK(read(null, buf, sizeof buf) == 0, "/dev/null read is not EOF");
  CHECK(write(null, buf, 100) == 100, "/dev/null write");
  memset(buf, 0xff, sizeof buf);
  CHECK(read(zero, buf, sizeof buf) == sizeof buf, "/dev/zero read");
  for (size_t i = 0; i < sizeof buf; i++)
    CHECK(buf[i] == 0, "/dev/zero byte %zu is %#x", i, buf[i]);
  memset(buf, 0, 64);
  CHECK(read(rnd, buf, 64) == 64 && read(rnd, again, 64) == 64, "/dev/urandom read");
  int nonzero = 0;
  for (size_t i = 0; i < 64; i++)
    nonzero += buf[i] != 0;
  CHECK(nonzero > 32, "/dev/urandom: only %d of 64 bytes are not zero", nonzero);
  CHECK(memcmp(buf, again, 64) != 0, "/dev/urandom gave the same 64 bytes twice");
  close(null), close(zero), close(rnd);
  return 0;
}

static int check_proc_self_exe(const char *self) {
  char target[256];
  ssize_t n = readlink("/proc/self/exe", target, sizeof target);
  CHECK(n > 0 && (size_t)n < sizeof target, "readlink /proc/self/exe");
  target[n] = '\0';
  CHECK(strcmp(target, self) == 0, "/proc/self/exe -> \"%s\", want \"%s\"", target, self);
  return 0;
}

static int check_root_read_only(void) {
  errno = 0;
  CHECK(open("/data.txt", O_WRONLY) < 0 && errno == EROFS, "open(/data.txt, O_WRONLY)");
  errno = 0;
  CHECK(open("/data.txt", O_RDWR) < 0 && errno == EROFS, "open(/data.txt, O_RDWR)");
  errno = 0;
  CHECK(open("/new.txt", O_CREAT | O_WRONLY, 0644) < 0 && errno == EROFS, "create /new.txt");
  return 0;
}

static int mode_basic(char **argv, int argc) {
  CHECK(argc - 2 <= MAX_NAMES, "too many names");
  if (check_cwd_follows_chdir() || check_root_listing(argv + 2, argc - 2) ||
      check_stat_matches_fstat(argv[0]) || check_dup2_stdout() || check_pipe_poll() ||
      check_devices() || check_proc_self_exe(argv[0]) || check_root_read_only())
    return 1;
  return 0;
}

static int mode_cwd(const char *dir) {
  char cwd[256] = "";
  CHECK(getcwd(cwd, sizeof cwd) && strcmp(cwd, dir) == 0, "getcwd %s, want %s", cwd, dir);
  CHECK(file_is("inside.txt", INSIDE_TEXT), "relative open of inside.txt");
  CHECK(file_is("./inside.txt", INSIDE_TEXT), "relative open of ./inside.txt");
  CHECK(file_is("../data.txt", DATA_TEXT), "relative open of ../data.txt");
  return 0;
}

/* 2 MiB in 64 KiB writes into a 1 MiB /tmp: ENOSPC, and the space comes
 * back when the file goes. */
static int mode_enospc(void) {
  static char chunk[64 * 1024];
  memset(chunk, 'z', sizeof chunk);
  int fd = open("/tmp/big", O_CREAT | O_WRONLY | O_TRUNC, 0600);
  CHECK(fd >= 0, "create /tmp/big");
  size_t total = 0;
  ssize_t n = 0;
  while (total < (2u << 20) && (n = write(fd, chunk, sizeof chunk)) > 0)
    total += (size_t)n;
  CHECK(n < 0 && errno == ENOSPC, "wrote %zu bytes into a 1 MiB /tmp without ENOSPC", total);
  CHECK(total >= (512u << 10) && total <= (1u << 20), "ENOSPC after %zu bytes, want 0.5..1 MiB",
        total);
  struct stat st;
  CHECK(fstat(fd, &st) == 0 && st.st_size == (off_t)total, "size %lld after writing %zu",
        (long long)st.st_size, total);
  CHECK(close(fd) == 0 && unlink("/tmp/big") == 0, "close+unlink /tmp/big");
  fd = open("/tmp/small", O_CREAT | O_WRONLY | O_TRUNC, 0600);
  CHECK(fd >= 0 && write(fd, chunk, sizeof chunk) == sizeof chunk,
        "64 KiB write after freeing /tmp/big");
  close(fd);
  return 0;
}

static int mode_openat_missing(const char *path) {
  errno = 0;
  CHECK(openat(AT_FDCWD, path, O_RDONLY) < 0 && errno == ENOENT, "openat(%s) not ENOENT", path);
  return 0;
}

/* One line of /proc/self/maps: "start-end perms offset major:minor inode"
 * then, optionally, spaces and a name. Sets *name (or NULL). */
static bool maps_line_ok(const char *line, char *perms, const char **name) {
  unsigned long start, end, off, ino;
  unsigned dmaj, dmin;
  int used = 0;
  if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu %n", &start, &end, perms, &off, &dmaj, &dmin, &ino,
             &used) != 7 ||
      used == 0 || start >= end || strlen(perms) != 4)
    return false;
  *name = line[used] ? line + used : NULL;
  return true;
}

static int mode_synth(const char *self) {
  CHECK(file_is("/sys/devices/system/cpu/online", "0\n"), "/sys/devices/system/cpu/online");
  CHECK(file_is("/sys/devices/system/cpu/possible", "0\n"), "/sys/devices/system/cpu/possible");
  CHECK(sysconf(_SC_NPROCESSORS_ONLN) == 1, "sysconf(_SC_NPROCESSORS_ONLN) is %ld, want 1",
        sysconf(_SC_NPROCESSORS_ONLN));
  static char maps[64 * 1024];
  ssize_t len = slurp("/proc/self/maps", maps, sizeof maps);
  CHECK(len > 0 && maps[len - 1] == '\n', "read /proc/self/maps (%zd bytes)", len);
  bool code = false, stack = false;
  for (char *line = strtok(maps, "\n"); line; line = strtok(NULL, "\n")) {
    char perms[8] = "";
    const char *name;
    CHECK(maps_line_ok(line, perms, &name), "malformed /proc/self/maps line \"%s\"", line);
    code |= name && strcmp(name, self) == 0 && strcmp(perms, "r-xp") == 0;
    stack |= name && strcmp(name, "[stack]") == 0 && strcmp(perms, "rw-p") == 0;
  }
  CHECK(code, "/proc/self/maps has no r-xp line for %s", self);
  CHECK(stack, "/proc/self/maps has no rw-p [stack] line");
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *mode = argc > 1 ? argv[1] : "";
  int rc = 2;
  if (strcmp(mode, "basic") == 0)
    rc = mode_basic(argv, argc);
  else if (strcmp(mode, "cwd") == 0 && argc == 3)
    rc = mode_cwd(argv[2]);
  else if (strcmp(mode, "enospc") == 0)
    rc = mode_enospc();
  else if (strcmp(mode, "openat") == 0 && argc == 3)
    rc = mode_openat_missing(argv[2]);
  else if (strcmp(mode, "synth") == 0)
    rc = mode_synth(argv[0]);
  else if (strcmp(mode, "exe") == 0 && argc == 3)
    rc = check_proc_self_exe(argv[2]);
  else
    fprintf(stderr,
            "usage: fsops basic NAME... | cwd DIR | enospc | openat PATH | synth | exe PATH\n");
  if (rc == 0)
    printf("fsops: %s OK\n", mode);
  return rc;
}
