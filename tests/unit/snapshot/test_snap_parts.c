/* Unit tests of the process and signal sections (snap_proc.c,
 * snap_signals.c): round trips that give back the same state, and the
 * refusal of every value a running guest could not have reached. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <cmocka.h>

#include "kernel/proc.h"
#include "kernel/sigstate.h"
#include "snapshot/snap_parts.h"
#include "vm.h"

#define STACK_BYTES (8ull << 20)
#define MEM_BYTES (64ull << 20)
#define NS 1000000000ull

static const struct vm_config test_cfg = {.mem_bytes = MEM_BYTES};

/* A zeroed VM as a restore starts from, with the config and stack the
 * process limits are checked against. */
static void vm_blank(struct vm *vm) {
  memset(vm, 0, sizeof *vm);
  vm->cfg = &test_cfg;
  vm->mm.stack_top = 0x7ffffffde000ull;
  vm->mm.stack_bottom = vm->mm.stack_top - STACK_BYTES;
}

static uint64_t mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * NS + (uint64_t)t.tv_nsec;
}

static struct snap_cursor cursor_of(const struct snap_buf *b) {
  return (struct snap_cursor){.p = b->p, .len = b->len};
}

/* ---- process ---- */

static void proc_sample(struct vm *vm) {
  vm_blank(vm);
  proc_state_init(&vm->proc, STACK_BYTES, MEM_BYTES);
  vm->proc.clear_child_tid = 0x7f0000001000ull;
  vm->proc.robust_list = 0x7f0000002000ull;
  vm->proc.robust_len = 24;
  vm->proc.rlim_cur[RLIMIT_NOFILE] = 100;
  for (unsigned i = 0; i < sizeof vm->proc.random; i++)
    vm->proc.random[i] = (uint8_t)(i * 7 + 1);
  vm->proc.start_ns = mono_ns() - 5 * NS; /* up for five seconds */
}

/* Saves src's process section and loads it into a blank VM. */
static int proc_roundtrip(const struct vm *src, struct vm *dst) {
  struct snap_buf b = {0};
  assert_int_equal(snap_save_proc(src, &b), 0);
  vm_blank(dst);
  dst->proc.pid = -1; /* a refused load leaves it alone */
  struct snap_cursor c = cursor_of(&b);
  int rc = snap_load_proc(dst, &c);
  free(b.p);
  return rc;
}

static void proc_round_trip(void **state) {
  (void)state;
  static struct vm src, dst;
  proc_sample(&src);
  assert_int_equal(proc_roundtrip(&src, &dst), 0);
  assert_int_equal(dst.proc.pid, PROC_GUEST_PID);
  assert_int_equal(dst.proc.tid, PROC_GUEST_PID);
  assert_int_equal(dst.proc.clear_child_tid, src.proc.clear_child_tid);
  assert_int_equal(dst.proc.robust_list, src.proc.robust_list);
  assert_int_equal(dst.proc.robust_len, 24);
  assert_memory_equal(dst.proc.rlim_cur, src.proc.rlim_cur, sizeof src.proc.rlim_cur);
  assert_memory_equal(dst.proc.rlim_max, src.proc.rlim_max, sizeof src.proc.rlim_max);
  assert_memory_equal(dst.proc.random, src.proc.random, sizeof src.proc.random);
  /* The uptime goes on from the snapshot's: never less than it was. */
  assert_true(mono_ns() - dst.proc.start_ns >= 5 * NS);
}

static void proc_refuses_what_no_guest_has(void **state) {
  (void)state;
  static struct vm src, dst;
  proc_sample(&src);
  src.proc.pid = 1;
  assert_int_equal(proc_roundtrip(&src, &dst), -EBADMSG);
  assert_int_equal(dst.proc.pid, -1);

  proc_sample(&src);
  src.proc.rlim_cur[RLIMIT_STACK] = src.proc.rlim_max[RLIMIT_STACK] + 1; /* cur above max */
  assert_int_equal(proc_roundtrip(&src, &dst), -EBADMSG);

  proc_sample(&src);
  src.proc.rlim_max[RLIMIT_NOFILE] = UINT64_MAX; /* a hard limit above the VM's */
  assert_int_equal(proc_roundtrip(&src, &dst), -EBADMSG);

  proc_sample(&src);
  src.proc.rlim_cur[RLIMIT_NPROC] = src.proc.rlim_max[RLIMIT_NPROC] = 2;
  assert_int_equal(proc_roundtrip(&src, &dst), -EBADMSG);

  proc_sample(&src);
  src.proc.robust_len = 16;
  assert_int_equal(proc_roundtrip(&src, &dst), -EBADMSG);

  proc_sample(&src);
  src.proc.robust_list = 0xffff800000000000ull; /* a kernel address */
  assert_int_equal(proc_roundtrip(&src, &dst), -EBADMSG);
}

static void proc_refuses_bad_length(void **state) {
  (void)state;
  static struct vm src, dst;
  proc_sample(&src);
  struct snap_buf b = {0};
  assert_int_equal(snap_save_proc(&src, &b), 0);
  vm_blank(&dst);
  struct snap_cursor c = {.p = b.p, .len = b.len - 1};
  assert_int_equal(snap_load_proc(&dst, &c), -EBADMSG); /* truncated */
  snap_put_u8(&b, 0);
  c = cursor_of(&b);
  assert_int_equal(snap_load_proc(&dst, &c), -EBADMSG); /* trailing byte */
  free(b.p);
}

/* ---- signals ---- */

static void sig_sample(struct vm *vm) {
  vm_blank(vm);
  struct sig_state *s = &vm->sig;
  sig_state_init(s);
  struct guest_sigaction act = {.handler = 0x401000,
                                .flags = GUEST_SA_SIGINFO | GUEST_SA_RESTORER | GUEST_SA_ONSTACK,
                                .restorer = 0x401100,
                                .mask = sig_bit(SIGUSR2)};
  assert_int_equal(sig_action_change(s, SIGUSR1, &act, NULL), 0);
  act.handler = GUEST_SIG_IGN;
  act.flags = 0;
  assert_int_equal(sig_action_change(s, SIGPIPE, &act, NULL), 0);
  assert_int_equal(
      sig_mask_change(&s->blocked, GUEST_SIG_BLOCK, sig_bit(SIGUSR1) | sig_bit(GUEST_SIGRTMIN + 1)),
      0);
  struct sig_info rt = {.signo = GUEST_SIGRTMIN + 1, .code = GUEST_SI_TKILL, .pid = 2, .uid = 1000};
  assert_int_equal(sig_enqueue(s, &rt, SIG_QUEUE_MAX), 0);
  rt.pid = 3;
  assert_int_equal(sig_enqueue(s, &rt, SIG_QUEUE_MAX), 0);
  struct sig_info usr = {.signo = SIGUSR1, .code = GUEST_SI_USER, .pid = 2};
  assert_int_equal(sig_enqueue(s, &usr, SIG_QUEUE_MAX), 0);
  struct guest_stack ss = {.ss_sp = 0x7f0000010000ull, .ss_size = 65536};
  assert_int_equal(sig_altstack_set(s, 0, &ss), 0);
  s->restore_mask = true;
  s->saved_mask = sig_bit(SIGINT);
}

static int sig_roundtrip(const struct vm *src, struct vm *dst) {
  struct snap_buf b = {0};
  assert_int_equal(snap_save_signals(src, &b), 0);
  vm_blank(dst);
  struct snap_cursor c = cursor_of(&b);
  int rc = snap_load_signals(dst, &c);
  free(b.p);
  return rc;
}

static void signals_round_trip(void **state) {
  (void)state;
  static struct vm src, dst;
  sig_sample(&src);
  assert_true(src.sig.queued >= 2);
  assert_int_equal(sig_roundtrip(&src, &dst), 0);
  const struct sig_state *a = &src.sig, *b = &dst.sig;
  assert_memory_equal(b->action, a->action, sizeof a->action);
  assert_int_equal(b->blocked, a->blocked);
  assert_int_equal(b->pending, a->pending);
  assert_int_equal(b->queued, a->queued);
  assert_memory_equal(b->queue, a->queue, a->queued * sizeof a->queue[0]);
  assert_int_equal(b->altstack_sp, a->altstack_sp);
  assert_int_equal(b->altstack_size, a->altstack_size);
  assert_int_equal(b->altstack_flags, a->altstack_flags);
  assert_true(b->restore_mask);
  assert_int_equal(b->saved_mask, a->saved_mask);
  /* And it still behaves: unblocking SIGUSR1 delivers it, queue order kept. */
  struct sig_state s = *b;
  s.blocked = 0;
  struct sig_info out;
  assert_true(sig_dequeue(&s, &out));
  assert_int_equal(out.signo, SIGUSR1);
  assert_true(sig_dequeue(&s, &out));
  assert_int_equal(out.signo, GUEST_SIGRTMIN + 1);
  assert_int_equal(out.pid, 2);
}

static void signals_refuse_what_no_guest_has(void **state) {
  (void)state;
  static struct vm src, dst;
  sig_sample(&src);
  src.sig.action[SIGKILL].handler = 0x401000; /* a handled SIGKILL */
  assert_int_equal(sig_roundtrip(&src, &dst), -EBADMSG);

  sig_sample(&src);
  src.sig.action[SIGUSR2].flags = 0x100; /* a flag Linux does not keep */
  assert_int_equal(sig_roundtrip(&src, &dst), -EBADMSG);

  sig_sample(&src);
  src.sig.action[SIGUSR2].mask = sig_bit(SIGSTOP);
  assert_int_equal(sig_roundtrip(&src, &dst), -EBADMSG);

  sig_sample(&src);
  src.sig.blocked |= sig_bit(SIGKILL);
  assert_int_equal(sig_roundtrip(&src, &dst), -EBADMSG);

  sig_sample(&src);
  src.sig.saved_mask |= sig_bit(SIGSTOP);
  assert_int_equal(sig_roundtrip(&src, &dst), -EBADMSG);

  sig_sample(&src);
  src.sig.queued = SIG_QUEUE_MAX + 1;
  assert_int_equal(sig_roundtrip(&src, &dst), -EBADMSG);

  sig_sample(&src);
  src.sig.queue[0].signo = 0;
  assert_int_equal(sig_roundtrip(&src, &dst), -EBADMSG);

  sig_sample(&src);
  src.sig.pending &= ~sig_bit(GUEST_SIGRTMIN + 1); /* queued but not pending */
  assert_int_equal(sig_roundtrip(&src, &dst), -EBADMSG);

  sig_sample(&src);
  src.sig.altstack_size = 100; /* below MINSIGSTKSZ */
  assert_int_equal(sig_roundtrip(&src, &dst), -EBADMSG);

  sig_sample(&src);
  src.sig.altstack_sp = UINT64_MAX - 10; /* wraps */
  assert_int_equal(sig_roundtrip(&src, &dst), -EBADMSG);

  sig_sample(&src);
  src.sig.altstack_flags = 0x10;
  assert_int_equal(sig_roundtrip(&src, &dst), -EBADMSG);
}

static void signals_refuse_bad_bytes(void **state) {
  (void)state;
  static struct vm src, dst;
  sig_sample(&src);
  struct snap_buf b = {0};
  assert_int_equal(snap_save_signals(&src, &b), 0);
  vm_blank(&dst);
  b.p[b.len - 9] = 2; /* restore_mask, a boolean */
  struct snap_cursor c = cursor_of(&b);
  assert_int_equal(snap_load_signals(&dst, &c), -EBADMSG);
  b.p[b.len - 9] = 1;
  c = cursor_of(&b);
  assert_int_equal(snap_load_signals(&dst, &c), 0);
  c = (struct snap_cursor){.p = b.p, .len = b.len / 2};
  assert_int_equal(snap_load_signals(&dst, &c), -EBADMSG);
  free(b.p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(proc_round_trip),
      cmocka_unit_test(proc_refuses_what_no_guest_has),
      cmocka_unit_test(proc_refuses_bad_length),
      cmocka_unit_test(signals_round_trip),
      cmocka_unit_test(signals_refuse_what_no_guest_has),
      cmocka_unit_test(signals_refuse_bad_bytes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
