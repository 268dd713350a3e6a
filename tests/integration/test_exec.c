/* test_exec.c - execve in a real microVM (guest exec.c): a chain of execs
 * (a second copy, /proc/self/exe, a copy in /tmp) checking what passes
 * through (argv, envp, descriptors and their offsets, ignored signals, the
 * mask, pending signals) and what does not (close-on-exec descriptors,
 * handlers, the alternate stack); the errors a caller survives (ENOENT,
 * ENOTDIR, EACCES, ENOEXEC for #! scripts and non-ELF files, EFAULT,
 * E2BIG; a dynamic program whose loader is missing is ENOENT, before the
 * point of no return); exit statuses passing through; and a static guest
 * exec'ing Debian's dynamically linked (glibc) programs. */
#include "itest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_exec_chain(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "exec", "/exec");
  itest_put_guest(t, "exec", "/exec2");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/exec", "parent", "/exec2"));
  assert_vmm_stdout(r, "exec: parent OK\nexec: child OK\nexec: last OK\nexec: tmp OK\n");
  assert_vmm_status(r, 0);
}

/* The new program's exit status is the VM's. */
static void test_exec_status_passes_through(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "exec", "/exec");
  itest_put_guest(t, "exec", "/exec2");
  const struct spawn_result *r =
      itest_vmm(t, NULL, 0, ARGS("--", "/exec", "run", "/exec2", "exec", "exit", "42"));
  assert_vmm_stdout(r, "");
  assert_vmm_status(r, 42);
}

/* Reads a host file whole; fails the test when it cannot. */
static char *slurp_host(const char *path, size_t *len) {
  FILE *f = fopen(path, "rbe");
  if (!f)
    fail_msg("open %s: %s", path, strerror(errno));
  char *buf = NULL;
  size_t cap = 0;
  *len = 0;
  for (;;) {
    if (*len == cap && !(buf = realloc(buf, cap = cap * 2 + 65536)))
      fail_msg("out of memory");
    size_t n = fread(buf + *len, 1, cap - *len, f);
    if (n == 0)
      break;
    *len += n;
  }
  fclose(f);
  return buf;
}

/* Skips (or, with HEARTH_REQUIRE_KVM=1, fails) unless `path` is an
 * executable file on the host. */
static void require_host_program(const char *path) {
  itest_require_kvm();
  struct stat st;
  if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0)
    return;
  char why[160];
  snprintf(why, sizeof why, "no executable %s on the host", path);
  itest_skip_unless_required(why);
}

/* A dynamically linked program whose loader (/lib64/ld-linux-x86-64.so.2)
 * is not in the root: execve fails with ENOENT and the caller goes on, as
 * on Linux, rather than dying past the point of no return. */
static void test_exec_missing_loader_is_enoent(void **state) {
  struct itest *t = *state;
  require_host_program("/bin/true");
  size_t len;
  char *image = slurp_host("/bin/true", &len);
  itest_put_file(t, "/true", image, len, 0755);
  free(image);
  itest_put_guest(t, "exec", "/exec");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/exec", "run", "/true", "true"));
  char want[64];
  snprintf(want, sizeof want, "exec: run /true: errno %d\n", ENOENT);
  assert_vmm_stdout(r, want);
  assert_vmm_status(r, 99);
}

/* Copies host files into the VM's root at the same paths. */
static void put_host_files(struct itest *t, const char *const *paths) {
  for (size_t i = 0; paths[i]; i++) {
    size_t len;
    char *data = slurp_host(paths[i], &len);
    itest_put_file(t, paths[i], data, len, 0755);
    free(data);
  }
}

/* A static guest execs Debian's glibc programs, which the loader maps
 * with their interpreter from the root; their status passes through. The
 * root holds copies of the programs, the loader and libc (not --root /:
 * the VM's own /tmp would hide a build tree under the host's /tmp). */
static void test_exec_dynamic_glibc_programs(void **state) {
  struct itest *t = *state;
  static const char *const files[] = {"/bin/true",
                                      "/bin/false",
                                      "/bin/sh",
                                      "/lib64/ld-linux-x86-64.so.2",
                                      "/lib/x86_64-linux-gnu/libc.so.6",
                                      NULL};
  for (size_t i = 0; files[i]; i++)
    require_host_program(files[i]);
  itest_mkdir(t, "/bin");
  itest_mkdir(t, "/lib64");
  itest_mkdir(t, "/lib");
  itest_mkdir(t, "/lib/x86_64-linux-gnu");
  put_host_files(t, files);
  itest_put_guest(t, "exec", "/exec");
  const struct spawn_result *r =
      itest_vmm(t, NULL, 0, ARGS("--", "/exec", "run", "/bin/true", "true"));
  assert_vmm_stdout(r, "");
  assert_vmm_status(r, 0);
  r = itest_vmm(t, NULL, 0, ARGS("--", "/exec", "run", "/bin/false", "false"));
  assert_vmm_stdout(r, "");
  assert_vmm_status(r, 1);
  r = itest_vmm(t, NULL, 0,
                ARGS("--", "/exec", "run", "/bin/sh", "sh", "-c", "echo from sh; exit 7"));
  assert_vmm_stdout(r, "from sh\n");
  assert_vmm_status(r, 7);
}

static const struct CMUnitTest tests[] = {
    GUEST_TEST(test_exec_chain),
    GUEST_TEST(test_exec_status_passes_through),
    GUEST_TEST(test_exec_missing_loader_is_enoent),
    GUEST_TEST(test_exec_dynamic_glibc_programs),
};

ITEST_MAIN(tests)
