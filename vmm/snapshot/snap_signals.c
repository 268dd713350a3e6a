/* snap_signals.c - the signal section (snap_parts.h): every disposition,
 * the blocked mask, pending signals with their queued siginfo, the
 * alternate stack and the saved mask of a wait under a temporary one. A load
 * holds each field to what rt_sigaction, rt_sigprocmask, sigaltstack and
 * the sending paths could have produced (sigstate.h), so a crafted section
 * cannot give the guest a state Linux would never allow (a handled
 * SIGKILL, a blocked SIGSTOP, a queue past SIG_QUEUE_MAX). */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "kernel/sigstate.h"
#include "snapshot/snap_parts.h"
#include "vm.h"

#define ALTSTACK_FLAGS (GUEST_SS_ONSTACK | GUEST_SS_DISABLE | GUEST_SS_AUTODISARM)

static void put_info(struct snap_buf *b, const struct sig_info *i) {
  snap_put_u32(b, (uint32_t)i->signo);
  snap_put_u32(b, (uint32_t)i->code);
  snap_put_u32(b, (uint32_t)i->pid);
  snap_put_u32(b, i->uid);
  snap_put_u64(b, i->addr);
  snap_put_u32(b, i->trapno);
  snap_put_u32(b, i->error_code);
}

static void get_info(struct snap_cursor *c, struct sig_info *i) {
  i->signo = (int32_t)snap_get_u32(c);
  i->code = (int32_t)snap_get_u32(c);
  i->pid = (int32_t)snap_get_u32(c);
  i->uid = snap_get_u32(c);
  i->addr = snap_get_u64(c);
  i->trapno = snap_get_u32(c);
  i->error_code = snap_get_u32(c);
}

int snap_save_signals(const struct vm *vm, struct snap_buf *b) {
  const struct sig_state *s = &vm->sig;
  for (int sig = 1; sig <= GUEST_NSIG; sig++) {
    snap_put_u64(b, s->action[sig].handler);
    snap_put_u64(b, s->action[sig].flags);
    snap_put_u64(b, s->action[sig].restorer);
    snap_put_u64(b, s->action[sig].mask);
  }
  snap_put_u64(b, s->blocked);
  snap_put_u64(b, s->pending);
  snap_put_u32(b, s->queued);
  for (unsigned i = 0; i < s->queued && i < SIG_QUEUE_MAX; i++)
    put_info(b, &s->queue[i]);
  snap_put_u64(b, s->altstack_sp);
  snap_put_u64(b, s->altstack_size);
  snap_put_u32(b, s->altstack_flags);
  snap_put_u8(b, s->restore_mask);
  snap_put_u64(b, s->saved_mask);
  return b->err;
}

/* What rt_sigaction could have installed. */
static bool action_ok(int sig, const struct guest_sigaction *a) {
  if ((sig == SIGKILL || sig == SIGSTOP) && (a->handler != GUEST_SIG_DFL || a->flags || a->mask))
    return false;
  return (a->flags & ~GUEST_SA_KNOWN) == 0 && a->mask == sig_mask_sanitize(a->mask);
}

static bool queue_ok(const struct sig_state *s) {
  for (unsigned i = 0; i < s->queued; i++)
    if (!sig_valid(s->queue[i].signo) || !(s->pending & sig_bit(s->queue[i].signo)))
      return false;
  return true;
}

/* As sigaltstack leaves it: disabled, or at least MINSIGSTKSZ that does
 * not wrap around the address space. */
static bool altstack_ok(const struct sig_state *s) {
  if (s->altstack_flags & ~ALTSTACK_FLAGS)
    return false;
  if (s->altstack_flags & GUEST_SS_DISABLE)
    return true;
  return s->altstack_size >= GUEST_MINSIGSTKSZ &&
         s->altstack_sp + s->altstack_size > s->altstack_sp;
}

static int signals_check(const struct sig_state *s) {
  for (int sig = 1; sig <= GUEST_NSIG; sig++)
    if (!action_ok(sig, &s->action[sig]))
      return -EBADMSG;
  if (s->blocked != sig_mask_sanitize(s->blocked) ||
      s->saved_mask != sig_mask_sanitize(s->saved_mask))
    return -EBADMSG;
  if (!queue_ok(s) || !altstack_ok(s))
    return -EBADMSG;
  return 0;
}

int snap_load_signals(struct vm *vm, struct snap_cursor *c) {
  struct sig_state s;
  memset(&s, 0, sizeof s);
  for (int sig = 1; sig <= GUEST_NSIG; sig++) {
    s.action[sig].handler = snap_get_u64(c);
    s.action[sig].flags = snap_get_u64(c);
    s.action[sig].restorer = snap_get_u64(c);
    s.action[sig].mask = snap_get_u64(c);
  }
  s.blocked = snap_get_u64(c);
  s.pending = snap_get_u64(c);
  s.queued = snap_get_u32(c);
  if (s.queued > SIG_QUEUE_MAX)
    return -EBADMSG;
  for (unsigned i = 0; i < s.queued; i++)
    get_info(c, &s.queue[i]);
  s.altstack_sp = snap_get_u64(c);
  s.altstack_size = snap_get_u64(c);
  s.altstack_flags = snap_get_u32(c);
  uint8_t restore_mask = snap_get_u8(c);
  s.saved_mask = snap_get_u64(c);
  int rc = snap_cursor_done(c);
  if (rc < 0)
    return rc;
  if (restore_mask > 1)
    return -EBADMSG;
  s.restore_mask = restore_mask;
  if ((rc = signals_check(&s)) < 0)
    return rc;
  s.frame_restored = false; /* a run-loop flag between rt_sigreturn and its return */
  vm->sig = s;
  return 0;
}
