/* exec.c - execve under hearth-vmm. Each stage prints "exec: <stage> OK"
 * (or names its first failed check and exits 1), then execs the next:
 *   parent NEXT  opens /tmp/data twice (one fd close-on-exec, one read 4
 *                bytes into), handles SIGUSR1, ignores SIGUSR2, blocks
 *                SIGHUP with one pending, sets an alternate stack; checks
 *                that failing execs (ENOENT, ENOTDIR, EACCES, ENOEXEC,
 *                EFAULT, E2BIG) leave all of that intact; then execs NEXT
 *                as "child" with the fds, an empty and a spaced argument,
 *                and the environment {"K=V"}
 *   child FD FD  checks argv and envp exactly, the inherited fd at its
 *                offset, the close-on-exec one gone, SIGUSR1 back to
 *                SIG_DFL, SIGUSR2 still ignored, the mask and the pending
 *                SIGHUP kept, no alternate stack, /proc/self/exe and
 *                AT_EXECFN naming NEXT, brk and mmap; then execs
 *                /proc/self/exe as "last" with no environment
 *   last         checks /proc/self/exe names the program, not the link it
 *                was run through; copies itself to /tmp/copy and execs it
 *   tmp          checks it runs from /tmp/copy
 * Other modes, for single execs:
 *   run PATH ARGS...  execs PATH with ARGS (PATH's argv[0] first); when
 *                     that fails prints "exec: run PATH: errno N", exits 99
 *   exit N            exits with status N */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      printf("exec: FAIL: " __VA_ARGS__);                                                          \
      printf(" (errno %d %s)\n", errno, strerror(errno));                                          \
      return 1;                                                                                    \
    }                                                                                              \
  } while (0)

#define DATA "/tmp/data"
#define DATA_TEXT "0123456789"
#define CHILD_EXE "/exec2" /* where the test puts the second copy */
#define TMP_COPY "/tmp/copy"
#define BIG_ARG (128 << 10) /* Linux's MAX_ARG_STRLEN, which counts the NUL */

extern char **environ;

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig) { got_usr1 += sig == SIGUSR1; }

static char altstack[64 << 10];

static int write_file(const char *path, const void *data, size_t len, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  CHECK(fd >= 0, "create %s", path);
  CHECK(write(fd, data, len) == (ssize_t)len, "write %s", path);
  CHECK(close(fd) == 0, "close %s", path); /* the mode is open's: hearth has no chmod */
  return 0;
}

/* Copies the running program to `path` with mode `mode`. */
static int copy_self(const char *path, mode_t mode) {
  static char image[4 << 20];
  int fd = open("/proc/self/exe", O_RDONLY);
  CHECK(fd >= 0, "open /proc/self/exe");
  ssize_t len = 0, n;
  while ((n = read(fd, image + len, sizeof image - (size_t)len)) > 0)
    len += n;
  CHECK(n == 0 && len > 0 && len < (ssize_t)sizeof image, "read /proc/self/exe");
  close(fd);
  return write_file(path, image, (size_t)len, mode);
}

/* --- parent --- */

static int plain_fd, cloexec_fd;

/* What a failed execve must leave as it was. */
static int intact(const char *after) {
  struct sigaction sa;
  CHECK(sigaction(SIGUSR1, NULL, &sa) == 0 && sa.sa_handler == on_usr1, "%s: handler lost", after);
  CHECK(fcntl(plain_fd, F_GETFD) == 0, "%s: fd lost", after);
  CHECK(fcntl(cloexec_fd, F_GETFD) == FD_CLOEXEC, "%s: close-on-exec fd lost", after);
  CHECK(lseek(plain_fd, 0, SEEK_CUR) == 4, "%s: offset moved", after);
  sig_atomic_t before = got_usr1;
  CHECK(raise(SIGUSR1) == 0 && got_usr1 == before + 1, "%s: handler does not run", after);
  return 0;
}

/* execve(path, argv, envp) must fail with `want`, the program intact. */
static int exec_fails(const char *path, char *const argv[], char *const envp[], int want,
                      const char *what) {
  errno = 0;
  CHECK(execve(path, argv, envp) == -1 && errno == want, "%s: not errno %d", what, want);
  return intact(what);
}

static int setup_parent(void) {
  CHECK(write_file(DATA, DATA_TEXT, strlen(DATA_TEXT), 0644) == 0, "data");
  plain_fd = open(DATA, O_RDONLY);
  cloexec_fd = open(DATA, O_RDONLY | O_CLOEXEC);
  CHECK(plain_fd >= 0 && cloexec_fd > plain_fd, "open " DATA);
  char head[4];
  CHECK(read(plain_fd, head, 4) == 4 && memcmp(head, "0123", 4) == 0, "read 4 bytes");
  struct sigaction sa = {.sa_handler = on_usr1};
  CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
  CHECK(signal(SIGUSR2, SIG_IGN) != SIG_ERR, "ignore SIGUSR2");
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
  CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack");
  sigset_t hup;
  sigemptyset(&hup);
  sigaddset(&hup, SIGHUP);
  CHECK(sigprocmask(SIG_BLOCK, &hup, NULL) == 0, "block SIGHUP");
  CHECK(raise(SIGHUP) == 0, "raise SIGHUP"); /* pending, and must stay so */
  return 0;
}

static int failing_files(char *const argv[], char *const envp[]) {
  static const char script[] = "#!/bin/sh\nexit 0\n";
  char junk[256]; /* ELF's magic, then nothing a loader takes */
  memset(junk, 'x', sizeof junk);
  static const char magic[] = {0x7f, 'E', 'L', 'F'};
  memcpy(junk, magic, sizeof magic);
  CHECK(write_file("/tmp/script", script, strlen(script), 0755) == 0, "script");
  CHECK(write_file("/tmp/junk", junk, sizeof junk, 0755) == 0, "junk");
  CHECK(copy_self("/tmp/noexec", 0644) == 0, "copy without x");
  return exec_fails("/nonexistent", argv, envp, ENOENT, "missing") ||
         exec_fails(DATA "/x", argv, envp, ENOTDIR, "through a file") ||
         exec_fails("/tmp", argv, envp, EACCES, "directory") ||
         exec_fails("/tmp/noexec", argv, envp, EACCES, "no execute bit") ||
         exec_fails("/tmp/script", argv, envp, ENOEXEC, "#! script") ||
         exec_fails("/tmp/junk", argv, envp, ENOEXEC, "not an ELF") ||
         exec_fails("", argv, envp, ENOENT, "empty path");
}

static int failing_arguments(const char *next, char *const envp[]) {
  volatile uintptr_t unmapped = 8; /* hidden from the compiler's own checks */
  char *const *bad_vec = (char *const *)unmapped, *bad_str = (char *)unmapped;
  char *const bad_string[] = {"exec", bad_str, NULL};
  char *const argv[] = {"exec", "child", NULL};
  if (exec_fails(next, bad_vec, envp, EFAULT, "argv pointer") ||
      exec_fails(next, bad_string, envp, EFAULT, "argv string") ||
      exec_fails(next, argv, bad_vec, EFAULT, "envp pointer") ||
      exec_fails(bad_str, argv, envp, EFAULT, "path pointer"))
    return 1;
  static char big[BIG_ARG + 1], part[120 << 10];
  memset(big, 'a', BIG_ARG); /* one byte past the limit with its NUL */
  char *const too_long[] = {"exec", big, NULL};
  memset(part, 'b', sizeof part - 1);
  char *too_many[24] = {"exec"}; /* 22 * 120 KiB: past the 2 MiB total */
  for (int i = 1; i < 23; i++)
    too_many[i] = part;
  return exec_fails(next, too_long, envp, E2BIG, "argument too long") ||
         exec_fails(next, too_many, envp, E2BIG, "arguments too large");
}

static int mode_parent(const char *next) {
  if (setup_parent())
    return 1;
  char *const argv[] = {"exec", "child", NULL}, *const envp[] = {"K=V", NULL};
  if (failing_files(argv, envp) || failing_arguments(next, envp))
    return 1;
  char fd1[16], fd2[16];
  snprintf(fd1, sizeof fd1, "%d", plain_fd);
  snprintf(fd2, sizeof fd2, "%d", cloexec_fd);
  char *const child_argv[] = {"exec", "child", fd1, fd2, "", "two words", NULL};
  printf("exec: parent OK\n");
  execve(next, child_argv, envp);
  CHECK(0, "execve %s", next);
}

/* --- child --- */

static int child_args(int argc, char **argv) {
  CHECK(argc == 6, "argc %d", argc);
  CHECK(!strcmp(argv[0], "exec") && !strcmp(argv[1], "child") && !strcmp(argv[4], "") &&
            !strcmp(argv[5], "two words") && argv[6] == NULL,
        "argv");
  CHECK(environ && environ[0] && !strcmp(environ[0], "K=V") && environ[1] == NULL, "envp");
  return 0;
}

static int child_fds(const char *plain, const char *cloexec) {
  int fd = atoi(plain), gone = atoi(cloexec);
  char buf[8];
  CHECK(fcntl(fd, F_GETFD) == 0, "inherited fd %d", fd);
  CHECK(read(fd, buf, 4) == 4 && memcmp(buf, "4567", 4) == 0, "read at the inherited offset");
  errno = 0;
  CHECK(fcntl(gone, F_GETFD) == -1 && errno == EBADF, "close-on-exec fd %d still open", gone);
  int again = open(DATA, O_RDONLY);
  CHECK(again == gone, "its number is not free (got %d)", again);
  close(again);
  return 0;
}

/* Whether the standard signals (1..31) in `set` are exactly {SIGHUP}. */
static bool only_sighup(const sigset_t *set) {
  for (int sig = 1; sig < 32; sig++)
    if (sigismember(set, sig) != (sig == SIGHUP))
      return false;
  return true;
}

static int child_signals(void) {
  struct sigaction sa;
  CHECK(sigaction(SIGUSR1, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL, "SIGUSR1 not SIG_DFL");
  CHECK(sigaction(SIGUSR2, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN, "SIGUSR2 not SIG_IGN");
  sigset_t set;
  CHECK(sigprocmask(SIG_BLOCK, NULL, &set) == 0 && only_sighup(&set), "mask not {SIGHUP}");
  CHECK(sigpending(&set) == 0 && only_sighup(&set), "pending SIGHUP lost");
  stack_t ss;
  CHECK(sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_DISABLE), "alternate stack kept");
  return 0;
}

static int exe_is(const char *want) {
  char link[256] = "";
  ssize_t n = readlink("/proc/self/exe", link, sizeof link - 1);
  CHECK(n > 0 && !strcmp(link, want), "/proc/self/exe is %s, not %s", link, want);
  return 0;
}

static int memory_works(void) {
  /* brk itself: musl's sbrk refuses to move the break. */
  uintptr_t start = (uintptr_t)syscall(SYS_brk, 0), want = start + (1 << 20);
  CHECK(start && (uintptr_t)syscall(SYS_brk, want) == want, "brk");
  memset((void *)start, 1, 1 << 20);
  char *m = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(m != MAP_FAILED, "mmap");
  memset(m, 2, 4 << 20);
  CHECK(munmap(m, 4 << 20) == 0, "munmap");
  char *heap = malloc(16 << 20);
  CHECK(heap, "malloc");
  memset(heap, 3, 16 << 20);
  free(heap);
  return 0;
}

static int mode_child(int argc, char **argv) {
  if (child_args(argc, argv) || child_fds(argv[2], argv[3]) || child_signals() ||
      exe_is(CHILD_EXE) || memory_works())
    return 1;
  const char *execfn = (const char *)getauxval(AT_EXECFN);
  CHECK(execfn && !strcmp(execfn, CHILD_EXE), "AT_EXECFN %s", execfn ? execfn : "(none)");
  printf("exec: child OK\n");
  char *const next_argv[] = {"exec", "last", NULL}, *const no_env[] = {NULL};
  execve("/proc/self/exe", next_argv, no_env);
  CHECK(0, "execve /proc/self/exe");
}

static int mode_last(int argc, char **argv) {
  CHECK(argc == 2 && !strcmp(argv[1], "last") && environ && environ[0] == NULL, "argv or envp");
  if (exe_is(CHILD_EXE) || child_signals() || copy_self(TMP_COPY, 0755))
    return 1;
  printf("exec: last OK\n");
  char *const next_argv[] = {"exec", "tmp", NULL}, *const env[] = {"FROM=last", NULL};
  execve(TMP_COPY, next_argv, env);
  CHECK(0, "execve " TMP_COPY);
}

static int mode_tmp(void) {
  CHECK(environ && environ[0] && !strcmp(environ[0], "FROM=last"), "envp");
  if (exe_is(TMP_COPY) || memory_works())
    return 1;
  printf("exec: tmp OK\n");
  return 0;
}

static int mode_run(char **argv) {
  execve(argv[0], argv + 1, environ);
  printf("exec: run %s: errno %d\n", argv[0], errno);
  return 99;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0); /* nothing buffered is lost to an exec */
  const char *mode = argc > 1 ? argv[1] : "";
  if (!strcmp(mode, "parent") && argc == 3)
    return mode_parent(argv[2]);
  if (!strcmp(mode, "child") && argc >= 4)
    return mode_child(argc, argv);
  if (!strcmp(mode, "last"))
    return mode_last(argc, argv);
  if (!strcmp(mode, "tmp"))
    return mode_tmp();
  if (!strcmp(mode, "run") && argc >= 4)
    return mode_run(argv + 2);
  if (!strcmp(mode, "exit") && argc == 3)
    return atoi(argv[2]);
  printf("exec: unknown mode %s\n", mode);
  return 2;
}
