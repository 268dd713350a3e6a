/* test_rewrite.c - both ways a system call reaches the VMM: `syscall`
 * instructions rewritten into port I/O at load, and the LSTAR stub that
 * catches any left alone. The same program must give the same output and
 * make the same system calls either way; hearth-vmm's --stats tells the
 * paths apart. */
#include "itest.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "stats.h"

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* With rewriting, the LSTAR path is for the few sites no .eh_frame FDE
 * covers (glibc's clone and clone3, hand-written asm): a handful at most. */
#define LSTAR_TINY 4

/* Debian's musl libc.a is built without unwind tables: a static musl
 * program has FDEs for its own code only (main, _start_c), so FDE-driven
 * rewriting finds none of libc's sites and its system calls keep taking the
 * LSTAR path. Correct, only slower; glibc's libc.a has FDEs throughout. */
static bool libc_has_fdes(const struct itest *t) { return strcmp(t->variant, "musl") != 0; }

struct run {
  char *out;
  size_t out_len;
  struct vmm_stats stats;
};

static void run_counted(struct itest *t, const char *prog, bool rewrite, const char *in,
                        struct run *out) {
  const char *const with[] = {"--stats", t->stats, "--", prog, NULL};
  const char *const without[] = {"--no-rewrite", "--stats", t->stats, "--", prog, NULL};
  unlink(t->stats); /* a stale file from the previous run must not count */
  const struct spawn_result *r = itest_vmm(t, in, strlen(in), rewrite ? with : without);
  assert_vmm_status(r, 0);
  out->out = test_malloc(r->out_len + 1);
  memcpy(out->out, r->out, r->out_len + 1);
  out->out_len = r->out_len;
  int rc = vmm_stats_read(t->stats, &out->stats);
  if (rc != 0)
    fail_msg("--stats %s unreadable or malformed: %s", t->stats, strerror(-rc));
  print_message("%s %s: exits %lu syscalls %lu lstar %lu rewritten %lu\n", prog,
                rewrite ? "rewritten" : "--no-rewrite", (unsigned long)out->stats.exits,
                (unsigned long)out->stats.syscalls, (unsigned long)out->stats.lstar_syscalls,
                (unsigned long)out->stats.sites_rewritten);
}

static void assert_paths(const struct itest *t, const struct run *rw, const struct run *raw) {
  assert_int_equal(rw->out_len, raw->out_len);
  assert_memory_equal(rw->out, raw->out, rw->out_len);
  assert_true(raw->stats.syscalls > 0);
  assert_int_equal(raw->stats.sites_rewritten, 0);
  assert_int_equal(raw->stats.lstar_syscalls, raw->stats.syscalls);
  assert_true(raw->stats.exits >= raw->stats.syscalls);
  assert_int_equal(rw->stats.syscalls, raw->stats.syscalls);
  assert_true(rw->stats.exits >= rw->stats.syscalls);
  assert_true(rw->stats.lstar_syscalls <= rw->stats.syscalls);
  if (libc_has_fdes(t))
    assert_true(rw->stats.sites_rewritten > 0);
}

static void compare_paths(struct itest *t, const char *guest, const char *in,
                          const char *want_out) {
  char prog[64];
  snprintf(prog, sizeof prog, "/%s", guest);
  itest_put_guest(t, guest, prog);
  struct run rw, raw;
  run_counted(t, prog, true, in, &rw);
  run_counted(t, prog, false, in, &raw);
  assert_string_equal(rw.out, want_out);
  assert_paths(t, &rw, &raw);
  if (libc_has_fdes(t))
    assert_in_range(rw.stats.lstar_syscalls, 0, LSTAR_TINY);
  test_free(rw.out);
  test_free(raw.out);
}

static void test_rewrite_hello(void **state) {
  compare_paths(*state, "hello", "", "hello from hearth\n");
}

static void test_rewrite_echo(void **state) {
  static const char in[] = "through both paths\n";
  compare_paths(*state, "echo", in, in);
}

/* raw_syscall's write sits where no FDE reaches: it must arrive through
 * LSTAR even with rewriting on, and still do its job. */
static void test_raw_syscall_takes_lstar_path(void **state) {
  struct itest *t = *state;
  itest_put_guest(t, "raw_syscall", "/raw_syscall");
  struct run rw, raw;
  run_counted(t, "/raw_syscall", true, "", &rw);
  run_counted(t, "/raw_syscall", false, "", &raw);
  assert_string_equal(rw.out, "raw syscall ok\nraw_write returned 15\n");
  assert_paths(t, &rw, &raw);
  assert_true(rw.stats.lstar_syscalls >= 1);
  if (libc_has_fdes(t))
    assert_in_range(rw.stats.lstar_syscalls, 1, LSTAR_TINY + 1);
  test_free(rw.out);
  test_free(raw.out);
}

static const struct CMUnitTest tests[] = {
    GUEST_TEST(test_rewrite_hello),
    GUEST_TEST(test_rewrite_echo),
    GUEST_TEST(test_raw_syscall_takes_lstar_path),
};

ITEST_MAIN(tests)
