/* test_mapexec.c - `syscall` sites of executable FILE mappings (guest
 * mapexec.c maps a copy of its own code, as ld.so maps a library's text):
 * an mmap with PROT_EXEC, and an mprotect adding PROT_EXEC, get the copy's
 * site rewritten, so its calls arrive as port I/O and never through the
 * LSTAR stub; with --no-rewrite every one of them takes the LSTAR path. The
 * site list is kept in the --site-cache directory for the next run. */
#include "itest.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "stats.h"

#define CALLS "20"
#define NCALLS 20

struct run {
  char out[256];
  struct vmm_stats stats;
};

static void run_mapexec(struct itest *t, const char *mode, const char *calls, bool rewrite,
                        struct run *out) {
  char cache[PATH_MAX + 8];
  snprintf(cache, sizeof cache, "%s/sites", t->dir);
  const char *const with[] = {"--site-cache", cache, "--stats", t->stats, "--",
                              "/mapexec",     mode,  calls,     NULL};
  const char *const without[] = {"--no-rewrite", "--site-cache", cache, "--stats", t->stats,
                                 "--",           "/mapexec",     mode,  calls,     NULL};
  unlink(t->stats);
  const struct spawn_result *r = itest_vmm(t, NULL, 0, rewrite ? with : without);
  assert_vmm_status(r, 0);
  snprintf(out->out, sizeof out->out, "%s", r->out);
  int rc = vmm_stats_read(t->stats, &out->stats);
  if (rc != 0)
    fail_msg("--stats %s unreadable: %s", t->stats, strerror(-rc));
  print_message("mapexec %s %s%s: syscalls %lu lstar %lu rewritten %lu\n", mode, calls,
                rewrite ? "" : " --no-rewrite", (unsigned long)out->stats.syscalls,
                (unsigned long)out->stats.lstar_syscalls,
                (unsigned long)out->stats.sites_rewritten);
}

static size_t cached_lists(const struct itest *t) {
  char dir[PATH_MAX + 8];
  snprintf(dir, sizeof dir, "%s/sites", t->dir);
  DIR *d = opendir(dir);
  if (!d)
    return 0;
  size_t n = 0;
  for (struct dirent *e; (e = readdir(d));) {
    size_t len = strlen(e->d_name);
    n += len > 6 && strcmp(e->d_name + len - 6, ".sites") == 0;
  }
  closedir(d);
  return n;
}

static void check_mode(struct itest *t, const char *mode, const char *site_lines_rewritten,
                       const char *site_lines_raw) {
  itest_put_guest(t, "mapexec", "/mapexec");
  struct run none, many, raw_none, raw_many;
  run_mapexec(t, mode, "0", true, &none);
  run_mapexec(t, mode, CALLS, true, &many);
  run_mapexec(t, mode, "0", false, &raw_none);
  run_mapexec(t, mode, CALLS, false, &raw_many);
  char want[256];
  snprintf(want, sizeof want, "%s" CALLS " calls of the mapped copy, 0 wrong\n",
           site_lines_rewritten);
  assert_string_equal(many.out, want);
  snprintf(want, sizeof want, "%s" CALLS " calls of the mapped copy, 0 wrong\n", site_lines_raw);
  assert_string_equal(raw_many.out, want);
  /* The copy's calls are ordinary system calls... */
  assert_int_equal(many.stats.syscalls, none.stats.syscalls + NCALLS);
  assert_int_equal(raw_many.stats.syscalls, raw_none.stats.syscalls + NCALLS);
  /* ...that never take the LSTAR path once the mapping is rewritten, and
   * always do without rewriting. */
  assert_int_equal(many.stats.lstar_syscalls, none.stats.lstar_syscalls);
  assert_int_equal(raw_many.stats.lstar_syscalls, raw_none.stats.lstar_syscalls + NCALLS);
  assert_int_equal(raw_many.stats.lstar_syscalls, raw_many.stats.syscalls);
  assert_true(many.stats.sites_rewritten > 0);
  assert_int_equal(raw_many.stats.sites_rewritten, 0);
  if (strcmp(t->variant, "musl") != 0) /* glibc's sites are all rewritten at load */
    assert_int_equal(many.stats.lstar_syscalls, 0);
  assert_true(cached_lists(t) >= 1);
}

static void test_mmap_exec_is_rewritten(void **state) {
  check_mode(*state, "mmap", "mapped site: e6 90\n", "mapped site: 0f 05\n");
}

/* Not executable, the mapping is left as the file has it; mprotect adding
 * PROT_EXEC rewrites it. */
static void test_mprotect_exec_is_rewritten(void **state) {
  check_mode(*state, "mprotect", "before mprotect: 0f 05\nmapped site: e6 90\n",
             "before mprotect: 0f 05\nmapped site: 0f 05\n");
}

static const struct CMUnitTest tests[] = {
    GUEST_TEST(test_mmap_exec_is_rewritten),
    GUEST_TEST(test_mprotect_exec_is_rewritten),
};

ITEST_MAIN(tests)
