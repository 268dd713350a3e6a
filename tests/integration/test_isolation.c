/* test_isolation.c - the guest cannot leave its root (.., absolute and
 * relative symlinks, directory descriptors, chdir, /proc) and unknown system
 * calls answer ENOSYS without ending it. */
#include "itest.h"

#include <stdio.h>
#include <string.h>

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const char decoy_passwd[] = "hearth-decoy passwd\n";
static const char decoy_hostname[] = "hearth-decoy hostname\n";

static void plant_root(struct itest *t) {
  itest_put_guest(t, "escape", "/escape");
  itest_mkdir(t, "/etc");
  itest_put_file(t, "/etc/passwd", decoy_passwd, strlen(decoy_passwd), 0644);
  itest_put_file(t, "/etc/hostname", decoy_hostname, strlen(decoy_hostname), 0644);
  itest_symlink(t, "/etc/passwd", "/abs_link");
  itest_symlink(t, "../../../../../../etc/passwd", "/rel_link");
  itest_symlink(t, "/etc", "/dir_link");
  itest_symlink(t, "../../..", "/up_link");
  itest_symlink(t, "loop_b", "/loop_a");
  itest_symlink(t, "loop_a", "/loop_b");
}

/* The first line of a host file, to prove it never appears in the output. */
static void host_first_line(const char *path, char *buf, size_t cap) {
  buf[0] = '\0';
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return;
  if (fgets(buf, (int)cap, f) == NULL)
    buf[0] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  fclose(f);
}

static void assert_no_host_line(const struct spawn_result *r, const char *host_path) {
  char line[256];
  host_first_line(host_path, line, sizeof line);
  if (strlen(line) >= 4 && strstr(r->out, line) != NULL)
    fail_msg("the guest read the host's %s:\n%s", host_path, r->out);
}

/* Linux with openat2(RESOLVE_IN_ROOT) semantics gives exactly these. */
static const char expected_fixed[] = "/etc/passwd: hearth-decoy passwd\n"
                                     "../../../../etc/passwd: hearth-decoy passwd\n"
                                     "/../../etc/hostname: hearth-decoy hostname\n"
                                     "/abs_link: hearth-decoy passwd\n"
                                     "/rel_link: hearth-decoy passwd\n"
                                     "/dir_link/hostname: hearth-decoy hostname\n"
                                     "/up_link/etc/passwd: hearth-decoy passwd\n"
                                     "/loop_a: error 40\n";

/* /proc/<pid>/root is either absent or the guest's own root: both are fine. */
static void assert_proc_line(const struct spawn_result *r, const char *label) {
  char decoy[128];
  snprintf(decoy, sizeof decoy, "\n%s: hearth-decoy passwd\n", label);
  char error[128];
  snprintf(error, sizeof error, "\n%s: error ", label);
  if (strstr(r->out, decoy) == NULL && strstr(r->out, error) == NULL)
    fail_msg("%s: neither the decoy nor an error:\n%s", label, r->out);
}

static void test_escape(void **state) {
  struct itest *t = *state;
  plant_root(t);
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/escape"));
  assert_vmm_status(r, 0);
  assert_no_host_line(r, "/etc/passwd");
  assert_no_host_line(r, "/etc/hostname");
  if (strncmp(r->out, expected_fixed, strlen(expected_fixed)) != 0)
    fail_msg("escape attempts, expected first:\n%s\ngot:\n%s", expected_fixed, r->out);
  assert_proc_line(r, "/proc/self/root/etc/passwd");
  assert_proc_line(r, "/proc/1/root/etc/passwd");
  assert_vmm_stdout_has(r, "\nopenat(/etc) ../../../etc/passwd: hearth-decoy passwd\n"
                           "chdir(/../../..) etc/hostname: hearth-decoy hostname\n"
                           "DONE\n");
}

static void test_enosys(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "enosys", "/enosys");
  const struct spawn_result *r = itest_vmm(t, NULL, 0, ARGS("--", "/enosys"));
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "syscall 174: result -1 errno 38\n"
                       "syscall 236: result -1 errno 38\n"
                       "syscall 1000: result -1 errno 38\n"
                       "syscall 100000: result -1 errno 38\n"
                       "syscall 1073741825: result -1 errno 38\n"
                       "syscall -1: result -1 errno 38\n"
                       "DONE\n");
}

static const struct CMUnitTest tests[] = {
    GUEST_TEST(test_escape),
    GUEST_TEST(test_enosys),
};

ITEST_MAIN(tests)
