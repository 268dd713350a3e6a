/* Unit tests of the guest's signal state rules (sigstate.c): default
 * actions, masks, dispositions, the pending queue and the alternate stack,
 * each against what Linux does. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/sigstate.h"

static struct sig_info info_of(int sig, int code, int pid) {
  return (struct sig_info){.signo = sig, .code = code, .pid = pid, .uid = 1000};
}

static void default_actions_match_linux(void **state) {
  static const int core[] = {SIGQUIT, SIGILL,  SIGTRAP, SIGABRT, SIGBUS,
                             SIGFPE,  SIGSEGV, SIGXCPU, SIGXFSZ, SIGSYS};
  static const int ignore[] = {SIGCHLD, SIGCONT, SIGURG, SIGWINCH};
  static const int stop[] = {SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU};
  static const int term[] = {SIGHUP,  SIGINT,    SIGKILL,   SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM,
                             SIGTERM, SIGSTKFLT, SIGVTALRM, SIGPROF, SIGIO,   SIGPWR};
  enum sig_default want[GUEST_NSIG + 1];
  for (int s = 1; s <= GUEST_NSIG; s++)
    want[s] = SIG_DEFAULT_TERM + 100; /* unset */
  for (size_t i = 0; i < sizeof core / sizeof *core; i++)
    want[core[i]] = SIG_DEFAULT_CORE;
  for (size_t i = 0; i < sizeof ignore / sizeof *ignore; i++)
    want[ignore[i]] = SIG_DEFAULT_IGNORE;
  for (size_t i = 0; i < sizeof stop / sizeof *stop; i++)
    want[stop[i]] = SIG_DEFAULT_STOP;
  for (size_t i = 0; i < sizeof term / sizeof *term; i++)
    want[term[i]] = SIG_DEFAULT_TERM;
  for (int s = GUEST_SIGRTMIN; s <= GUEST_NSIG; s++)
    want[s] = SIG_DEFAULT_TERM;
  for (int s = 1; s <= GUEST_NSIG; s++) {
    assert_int_not_equal(want[s], SIG_DEFAULT_TERM + 100); /* the table covers 1..64 */
    assert_int_equal(sig_default_action(s), want[s]);
  }
}

static void kill_and_stop_can_never_be_blocked(void **state) {
  uint64_t blocked = 0;
  assert_int_equal(sig_mask_change(&blocked, GUEST_SIG_SETMASK, ~0ULL), 0);
  assert_int_equal(blocked, ~0ULL & ~(sig_bit(SIGKILL) | sig_bit(SIGSTOP)));
  blocked = 0;
  assert_int_equal(sig_mask_change(&blocked, GUEST_SIG_BLOCK, sig_bit(SIGKILL) | sig_bit(SIGINT)),
                   0);
  assert_int_equal(blocked, sig_bit(SIGINT));
  assert_int_equal(sig_mask_sanitize(sig_bit(SIGSTOP) | sig_bit(SIGTERM)), sig_bit(SIGTERM));
}

static void mask_operations_block_unblock_and_set(void **state) {
  uint64_t blocked = sig_bit(SIGUSR1);
  assert_int_equal(sig_mask_change(&blocked, GUEST_SIG_BLOCK, sig_bit(SIGUSR2)), 0);
  assert_int_equal(blocked, sig_bit(SIGUSR1) | sig_bit(SIGUSR2));
  assert_int_equal(sig_mask_change(&blocked, GUEST_SIG_UNBLOCK, sig_bit(SIGUSR1)), 0);
  assert_int_equal(blocked, sig_bit(SIGUSR2));
  assert_int_equal(sig_mask_change(&blocked, GUEST_SIG_SETMASK, sig_bit(64)), 0);
  assert_int_equal(blocked, sig_bit(64));
  assert_int_equal(sig_mask_change(&blocked, 3, sig_bit(SIGINT)), -EINVAL);
  assert_int_equal(sig_mask_change(&blocked, -1, sig_bit(SIGINT)), -EINVAL);
  assert_int_equal(blocked, sig_bit(64)); /* untouched by the refused calls */
}

static void sigaction_validates_like_linux(void **state) {
  struct sig_state s;
  sig_state_init(&s);
  struct guest_sigaction act = {.handler = 0x401000,
                                .flags = GUEST_SA_SIGINFO | GUEST_SA_RESTORER |
                                         0x400 /* SA_UNSUPPORTED */,
                                .restorer = 0x402000,
                                .mask = sig_bit(SIGKILL) | sig_bit(SIGUSR2)},
                         old;
  assert_int_equal(sig_action_change(&s, 0, &act, NULL), -EINVAL);
  assert_int_equal(sig_action_change(&s, 65, &act, NULL), -EINVAL);
  assert_int_equal(sig_action_change(&s, -3, NULL, &old), -EINVAL);
  assert_int_equal(sig_action_change(&s, SIGKILL, &act, NULL), -EINVAL);
  assert_int_equal(sig_action_change(&s, SIGSTOP, &act, NULL), -EINVAL);
  /* Reading SIGKILL's action is allowed. */
  assert_int_equal(sig_action_change(&s, SIGKILL, NULL, &old), 0);
  assert_int_equal(old.handler, GUEST_SIG_DFL);

  assert_int_equal(sig_action_change(&s, SIGUSR1, &act, &old), 0);
  assert_int_equal(old.handler, GUEST_SIG_DFL);
  assert_int_equal(sig_action_change(&s, SIGUSR1, NULL, &old), 0);
  assert_int_equal(old.handler, 0x401000);
  assert_int_equal(old.restorer, 0x402000);
  assert_int_equal(old.flags, GUEST_SA_SIGINFO | GUEST_SA_RESTORER); /* unknown bit dropped */
  assert_int_equal(old.mask, sig_bit(SIGUSR2));                      /* SIGKILL dropped */
  assert_int_equal(sig_action_change(&s, 64, &act, NULL), 0);
}

static void ignoring_a_pending_signal_discards_it(void **state) {
  struct sig_state s;
  sig_state_init(&s);
  s.blocked = sig_bit(SIGUSR1) | sig_bit(SIGCHLD) | sig_bit(SIGTERM);
  struct sig_info i1 = info_of(SIGUSR1, GUEST_SI_USER, 2), i2 = info_of(SIGCHLD, 0, 2),
                  i3 = info_of(SIGTERM, 0, 2);
  assert_int_equal(sig_enqueue(&s, &i1, SIG_QUEUE_MAX), 0);
  assert_int_equal(sig_enqueue(&s, &i2, SIG_QUEUE_MAX), 0);
  assert_int_equal(sig_enqueue(&s, &i3, SIG_QUEUE_MAX), 0);
  assert_int_equal(s.pending, sig_bit(SIGUSR1) | sig_bit(SIGCHLD) | sig_bit(SIGTERM));

  struct guest_sigaction ign = {.handler = GUEST_SIG_IGN}, dfl = {.handler = GUEST_SIG_DFL};
  assert_int_equal(sig_action_change(&s, SIGUSR1, &ign, NULL), 0);
  assert_int_equal(sig_action_change(&s, SIGCHLD, &dfl, NULL), 0); /* default: ignore */
  assert_int_equal(sig_action_change(&s, SIGTERM, &dfl, NULL), 0); /* default: terminate */
  assert_int_equal(s.pending, sig_bit(SIGTERM));
  assert_int_equal(s.queued, 1);
}

static void blocked_signals_are_never_ignored_at_send(void **state) {
  struct sig_state s;
  sig_state_init(&s);
  assert_true(sig_ignored(&s, SIGCHLD));
  assert_true(sig_ignored(&s, SIGWINCH));
  assert_false(sig_ignored(&s, SIGTERM));
  s.action[SIGTERM].handler = GUEST_SIG_IGN;
  assert_true(sig_ignored(&s, SIGTERM));
  s.blocked = sig_bit(SIGTERM) | sig_bit(SIGCHLD);
  assert_false(sig_ignored(&s, SIGTERM));
  assert_false(sig_ignored(&s, SIGCHLD));
}

static void standard_signals_coalesce_keeping_the_first_siginfo(void **state) {
  struct sig_state s;
  sig_state_init(&s);
  s.blocked = sig_bit(SIGUSR1);
  struct sig_info a = info_of(SIGUSR1, GUEST_SI_USER, 2), b = info_of(SIGUSR1, GUEST_SI_TKILL, 7);
  assert_int_equal(sig_enqueue(&s, &a, SIG_QUEUE_MAX), 0);
  assert_int_equal(sig_enqueue(&s, &b, SIG_QUEUE_MAX), 0);
  assert_int_equal(s.queued, 1);
  struct sig_info out;
  assert_false(sig_dequeue(&s, &out)); /* blocked */
  s.blocked = 0;
  assert_true(sig_dequeue(&s, &out));
  assert_int_equal(out.signo, SIGUSR1);
  assert_int_equal(out.code, GUEST_SI_USER);
  assert_int_equal(out.pid, 2);
  assert_false(sig_dequeue(&s, &out));
  assert_int_equal(s.pending, 0);
}

static void realtime_signals_queue_each_instance(void **state) {
  struct sig_state s;
  sig_state_init(&s);
  s.blocked = sig_bit(40);
  for (int pid = 1; pid <= 3; pid++) {
    struct sig_info i = info_of(40, GUEST_SI_TKILL, pid);
    assert_int_equal(sig_enqueue(&s, &i, SIG_QUEUE_MAX), 0);
  }
  s.blocked = 0;
  struct sig_info out;
  for (int pid = 1; pid <= 3; pid++) {
    assert_true(sig_dequeue(&s, &out));
    assert_int_equal(out.signo, 40);
    assert_int_equal(out.pid, pid); /* in sending order */
    assert_int_equal(!!(s.pending & sig_bit(40)), pid < 3);
  }
  assert_false(sig_dequeue(&s, &out));
}

static void full_queue_fails_tkill_and_loses_kill_siginfo(void **state) {
  struct sig_state s;
  sig_state_init(&s);
  s.blocked = ~0ULL;
  struct sig_info rt_tkill = info_of(50, GUEST_SI_TKILL, 2),
                  rt_user = info_of(51, GUEST_SI_USER, 2),
                  usr1 = info_of(SIGUSR1, GUEST_SI_USER, 2);
  assert_int_equal(sig_enqueue(&s, &rt_tkill, 1), 0);
  assert_int_equal(sig_enqueue(&s, &rt_tkill, 1), -EAGAIN); /* over the limit */
  assert_int_equal(sig_enqueue(&s, &rt_user, 1), 0);        /* kept, siginfo lost */
  assert_int_equal(sig_enqueue(&s, &usr1, 1), 0);
  assert_int_equal(s.queued, 1);
  assert_int_equal(s.pending, sig_bit(50) | sig_bit(51) | sig_bit(SIGUSR1));
  s.blocked = 0;
  struct sig_info out;
  assert_true(sig_dequeue(&s, &out));
  assert_int_equal(out.signo, SIGUSR1);
  assert_int_equal(out.code, GUEST_SI_USER);
  assert_int_equal(out.pid, 0); /* synthesised: Linux reports pid 0 */
  assert_true(sig_dequeue(&s, &out));
  assert_int_equal(out.signo, 50);
  assert_int_equal(out.pid, 2);
  assert_true(sig_dequeue(&s, &out));
  assert_int_equal(out.signo, 51);
  assert_int_equal(out.pid, 0);
  assert_false(sig_dequeue(&s, &out));
}

static void synchronous_signals_come_first_then_lowest(void **state) {
  struct sig_state s;
  sig_state_init(&s);
  int order_sent[] = {40, SIGTERM, SIGSEGV, SIGINT, SIGBUS};
  s.blocked = ~0ULL;
  for (size_t i = 0; i < 5; i++) {
    struct sig_info in = info_of(order_sent[i], 0, 0);
    assert_int_equal(sig_enqueue(&s, &in, SIG_QUEUE_MAX), 0);
  }
  s.blocked = sig_bit(SIGINT);
  int want[] = {SIGBUS, SIGSEGV, SIGTERM, 40};
  struct sig_info out;
  for (size_t i = 0; i < 4; i++) {
    assert_true(sig_dequeue(&s, &out));
    assert_int_equal(out.signo, want[i]);
  }
  assert_false(sig_dequeue(&s, &out));
  assert_int_equal(s.pending, sig_bit(SIGINT));
}

static void stop_and_continue_cancel_each_other(void **state) {
  struct sig_state s;
  sig_state_init(&s);
  s.blocked = ~0ULL;
  struct sig_info tstp = info_of(SIGTSTP, 0, 0), ttin = info_of(SIGTTIN, 0, 0),
                  cont = info_of(SIGCONT, 0, 0);
  sig_enqueue(&s, &tstp, SIG_QUEUE_MAX);
  sig_enqueue(&s, &ttin, SIG_QUEUE_MAX);
  sig_cancel_opposites(&s, SIGCONT);
  assert_int_equal(s.pending, 0);
  sig_enqueue(&s, &cont, SIG_QUEUE_MAX);
  sig_cancel_opposites(&s, SIGTTOU);
  assert_int_equal(s.pending, 0);
  assert_int_equal(s.queued, 0);
}

#define ALT_SP 0x7000000ULL
#define ALT_SIZE 0x4000ULL

static void altstack_rules(void **state) {
  struct sig_state s;
  sig_state_init(&s);
  struct guest_stack out, ss = {.ss_sp = ALT_SP, .ss_flags = 0, .ss_size = ALT_SIZE};
  sig_altstack_get(&s, 0x7fff0000, &out);
  assert_int_equal(out.ss_flags, GUEST_SS_DISABLE);
  assert_int_equal(out.ss_size, 0);

  struct guest_stack small = ss, bad = ss;
  small.ss_size = GUEST_MINSIGSTKSZ - 1;
  bad.ss_flags = 4;
  assert_int_equal(sig_altstack_set(&s, 0x7fff0000, &small), -ENOMEM);
  assert_int_equal(sig_altstack_set(&s, 0x7fff0000, &bad), -EINVAL);
  assert_int_equal(sig_altstack_set(&s, 0x7fff0000, &ss), 0);

  sig_altstack_get(&s, 0x7fff0000, &out);
  assert_int_equal(out.ss_sp, ALT_SP);
  assert_int_equal(out.ss_size, ALT_SIZE);
  assert_int_equal(out.ss_flags, 0);
  /* Running on it: reported, and it cannot be changed. */
  sig_altstack_get(&s, ALT_SP + 0x100, &out);
  assert_int_equal(out.ss_flags, GUEST_SS_ONSTACK);
  assert_true(sig_on_altstack(&s, ALT_SP + ALT_SIZE)); /* the top counts */
  assert_false(sig_on_altstack(&s, ALT_SP));           /* the base does not */
  assert_int_equal(sig_altstack_set(&s, ALT_SP + 0x100, &ss), -EPERM);

  struct guest_stack off = {.ss_flags = GUEST_SS_DISABLE};
  assert_int_equal(sig_altstack_set(&s, 0x7fff0000, &off), 0);
  sig_altstack_get(&s, ALT_SP + 0x100, &out);
  assert_int_equal(out.ss_flags, GUEST_SS_DISABLE);
  assert_int_equal(out.ss_sp, 0);
}

static void autodisarm_stack_never_counts_as_in_use(void **state) {
  struct sig_state s;
  sig_state_init(&s);
  struct guest_stack ss = {.ss_sp = ALT_SP, .ss_flags = GUEST_SS_AUTODISARM, .ss_size = ALT_SIZE},
                     out;
  assert_int_equal(sig_altstack_set(&s, 0x7fff0000, &ss), 0);
  assert_false(sig_on_altstack(&s, ALT_SP + 0x100));
  sig_altstack_get(&s, ALT_SP + 0x100, &out);
  assert_int_equal(out.ss_flags, GUEST_SS_AUTODISARM);
  assert_int_equal(sig_altstack_set(&s, ALT_SP + 0x100, &ss), 0); /* no -EPERM */
  sig_altstack_reset(&s);
  assert_int_equal(sig_altstack_mode(&s, ALT_SP + 0x100), GUEST_SS_DISABLE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(default_actions_match_linux),
      cmocka_unit_test(kill_and_stop_can_never_be_blocked),
      cmocka_unit_test(mask_operations_block_unblock_and_set),
      cmocka_unit_test(sigaction_validates_like_linux),
      cmocka_unit_test(ignoring_a_pending_signal_discards_it),
      cmocka_unit_test(blocked_signals_are_never_ignored_at_send),
      cmocka_unit_test(standard_signals_coalesce_keeping_the_first_siginfo),
      cmocka_unit_test(realtime_signals_queue_each_instance),
      cmocka_unit_test(full_queue_fails_tkill_and_loses_kill_siginfo),
      cmocka_unit_test(synchronous_signals_come_first_then_lowest),
      cmocka_unit_test(stop_and_continue_cancel_each_other),
      cmocka_unit_test(altstack_rules),
      cmocka_unit_test(autodisarm_stack_never_counts_as_in_use),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
