/* vmprobe.c - regression probes for what fuzzing hearth-vmm turned up, and
 * the escapes it must keep refusing; each mode is a guest run of its own
 * (tests/fuzz/test_fuzz.c gives the flags):
 *   exec_count  (--mem 64) execve with one string past the 65536 argv cap
 *               fails with E2BIG; with exactly 65536 it runs
 *   exec_bytes  (--mem 16: a 2 MiB stack, so 512 KiB of arguments) 1.6 MB
 *               of arguments fail with E2BIG and the caller lives on (the
 *               loader's own check comes after the point of no return);
 *               400 KB run
 *   exec_escape execve and open of host programs that are not in the root,
 *               directly and through /tmp symlinks ("..", /proc/self/root,
 *               /proc/1/root...), fail and run nothing; symlink loops and
 *               chains past 40 links are ELOOP, 40 are followed
 *   done        what the successful execs run: prints its argc
 * Each prints "vmprobe: <mode> OK" (or its first failed check, exit 1). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SELF "/vmprobe"

static int fail(const char *what) {
  printf("vmprobe: FAIL: %s (errno %d %s)\n", what, errno, strerror(errno));
  return 1;
}

/* argv: SELF "done", then n - 2 copies of s. */
static char **args_of(size_t n, const char *s) {
  char **v = calloc(n + 1, sizeof *v);
  if (!v)
    return NULL;
  v[0] = SELF;
  v[1] = "done";
  for (size_t i = 2; i < n; i++)
    v[i] = (char *)s;
  return v;
}

/* execve of SELF must fail with E2BIG for n strings of s. */
static int expect_e2big(size_t n, const char *s) {
  char **v = args_of(n, s);
  char *envp[] = {NULL};
  if (!v)
    return fail("out of memory");
  execve(SELF, v, envp);
  int err = errno;
  free(v);
  errno = err;
  return err == E2BIG ? 0 : fail("execve past a cap: want E2BIG");
}

/* execve of SELF with n strings of s: only returns on failure. */
static int run_with(size_t n, const char *s) {
  char **v = args_of(n, s);
  char *envp[] = {NULL};
  if (!v)
    return fail("out of memory");
  fflush(stdout);
  execve(SELF, v, envp);
  return fail("execve within the caps");
}

static int exec_count(void) {
  if (expect_e2big(65537, ""))
    return 1;
  printf("vmprobe: exec_count OK\n");
  return run_with(65536, "");
}

static int exec_bytes(void) {
  static char s[4000];
  memset(s, 'a', sizeof s - 1);
  if (expect_e2big(400, s))
    return 1;
  printf("vmprobe: exec_bytes OK\n");
  return run_with(100, s);
}

/* Host programs on any Debian host, never in the probe's root. */
static const char *const outside[] = {"/usr/bin/env",
                                      "../../../../../../usr/bin/env",
                                      "/proc/self/root/usr/bin/env",
                                      "/proc/1/root/usr/bin/env",
                                      "/proc/self/cwd/../../../../usr/bin/env",
                                      "/tmp/../../usr/bin/env",
                                      "/bin/sh"};

/* path must neither run nor open. */
static int refused_everywhere(const char *path) {
  char *argv[] = {(char *)path, NULL}, *envp[] = {NULL};
  execve(path, argv, envp);
  if (open(path, O_RDONLY) >= 0) {
    printf("vmprobe: FAIL: opened %s\n", path);
    return 1;
  }
  return 0;
}

/* /tmp/lN -> /tmp/l(N+1) ... -> /tmp/l40 -> /tmp/t for N = 40 - n: a path
 * through n links. */
static const char *chain(int n) {
  static char name[32];
  for (int i = 40; i >= 40 - n; i--) {
    char from[32], to[32];
    snprintf(from, sizeof from, "/tmp/l%d", i);
    snprintf(to, sizeof to, i == 40 ? "/tmp/t" : "/tmp/l%d", i + 1);
    unlink(from);
    if (i > 40 - n && symlink(to, from) < 0)
      return NULL;
  }
  snprintf(name, sizeof name, "/tmp/l%d", 41 - n);
  return name;
}

static int exec_escape(void) {
  for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
    unlink("/tmp/x");
    if (symlink(outside[i], "/tmp/x") < 0)
      return fail("symlink");
    if (refused_everywhere(outside[i]) || refused_everywhere("/tmp/x"))
      return 1;
  }
  char *argv[] = {"loop", NULL}, *envp[] = {NULL};
  if (symlink("/tmp/b", "/tmp/a") < 0 || symlink("a", "/tmp/b") < 0)
    return fail("symlink");
  if (execve("/tmp/a", argv, envp) == 0 || errno != ELOOP)
    return fail("execve of a symlink loop: want ELOOP");
  if (open("/tmp/b/x", O_RDONLY) >= 0 || errno != ELOOP)
    return fail("open through a symlink loop: want ELOOP");
  int t = open("/tmp/t", O_WRONLY | O_CREAT, 0644);
  if (t < 0)
    return fail("create /tmp/t");
  close(t);
  const char *forty = chain(40);
  if (!forty || (t = open(forty, O_RDONLY)) < 0)
    return fail("open through 40 links");
  close(t);
  const char *too_many = chain(41);
  if (!too_many || open(too_many, O_RDONLY) >= 0 || errno != ELOOP)
    return fail("open through 41 links: want ELOOP");
  printf("vmprobe: exec_escape OK\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "done")) {
    printf("vmprobe: done argc=%d\n", argc);
    return 0;
  }
  if (argc == 2 && !strcmp(argv[1], "exec_count"))
    return exec_count();
  if (argc == 2 && !strcmp(argv[1], "exec_bytes"))
    return exec_bytes();
  if (argc == 2 && !strcmp(argv[1], "exec_escape"))
    return exec_escape();
  fprintf(stderr, "usage: vmprobe exec_count|exec_bytes|exec_escape\n");
  return 2;
}
