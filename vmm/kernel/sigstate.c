/* sigstate.c - the guest's signal state and Linux's rules for it
 * (sigstate.h): default actions, masks, dispositions, the pending queue and
 * the alternate stack. Pure data: no vCPU, no guest memory. */
#include "sigstate.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#define UNBLOCKABLE (sig_bit(SIGKILL) | sig_bit(SIGSTOP))
/* Signals a fault raises: Linux delivers these before any other. */
#define SYNCHRONOUS                                                                                \
  (sig_bit(SIGSEGV) | sig_bit(SIGBUS) | sig_bit(SIGILL) | sig_bit(SIGTRAP) | sig_bit(SIGFPE) |     \
   sig_bit(SIGSYS))
#define STOP_SIGNALS (sig_bit(SIGSTOP) | sig_bit(SIGTSTP) | sig_bit(SIGTTIN) | sig_bit(SIGTTOU))

void sig_state_init(struct sig_state *s) {
  memset(s, 0, sizeof *s);
  s->altstack_flags = GUEST_SS_DISABLE;
}

void sig_state_exec(struct sig_state *s) {
  for (int sig = 1; sig <= GUEST_NSIG; sig++) {
    struct guest_sigaction *a = &s->action[sig];
    bool ignored = a->handler == 1; /* SIG_IGN */
    *a = (struct guest_sigaction){.handler = ignored ? 1 : 0};
  }
  sig_altstack_reset(s);
  s->frame_restored = false;
  s->restore_mask = false; /* no call is waiting across an exec */
}

enum sig_default sig_default_action(int sig) {
  switch (sig) {
  case SIGQUIT:
  case SIGILL:
  case SIGTRAP:
  case SIGABRT:
  case SIGBUS:
  case SIGFPE:
  case SIGSEGV:
  case SIGXCPU:
  case SIGXFSZ:
  case SIGSYS:
    return SIG_DEFAULT_CORE;
  case SIGCHLD:
  case SIGCONT:
  case SIGURG:
  case SIGWINCH:
    return SIG_DEFAULT_IGNORE;
  case SIGSTOP:
  case SIGTSTP:
  case SIGTTIN:
  case SIGTTOU:
    return SIG_DEFAULT_STOP;
  default:
    return SIG_DEFAULT_TERM; /* the rest of 1..31 and every real-time signal */
  }
}

uint64_t sig_mask_sanitize(uint64_t set) { return set & ~UNBLOCKABLE; }

int sig_mask_change(uint64_t *blocked, int how, uint64_t set) {
  switch (how) {
  case GUEST_SIG_BLOCK:
    *blocked |= set;
    break;
  case GUEST_SIG_UNBLOCK:
    *blocked &= ~set;
    break;
  case GUEST_SIG_SETMASK:
    *blocked = set;
    break;
  default:
    return -EINVAL;
  }
  *blocked = sig_mask_sanitize(*blocked);
  return 0;
}

/* Ignored by disposition alone, whatever the mask says. */
static bool sig_disposition_ignores(const struct sig_state *s, int sig) {
  uint64_t h = s->action[sig].handler;
  return h == GUEST_SIG_IGN ||
         (h == GUEST_SIG_DFL && sig_default_action(sig) == SIG_DEFAULT_IGNORE);
}

bool sig_ignored(const struct sig_state *s, int sig) {
  /* A blocked signal is kept: its disposition may change before unblocking. */
  return !(s->blocked & sig_bit(sig)) && sig_disposition_ignores(s, sig);
}

int sig_action_change(struct sig_state *s, int sig, const struct guest_sigaction *act,
                      struct guest_sigaction *old) {
  if (!sig_valid(sig) || (act && (sig == SIGKILL || sig == SIGSTOP)))
    return -EINVAL;
  if (old)
    *old = s->action[sig];
  if (!act)
    return 0;
  s->action[sig] = (struct guest_sigaction){.handler = act->handler,
                                            .flags = act->flags & GUEST_SA_KNOWN,
                                            .restorer = act->restorer,
                                            .mask = sig_mask_sanitize(act->mask)};
  /* POSIX: setting SIG_IGN (or an ignoring SIG_DFL) discards the pending signal. */
  if (sig_disposition_ignores(s, sig))
    sig_discard(s, sig);
  return 0;
}

static int sig_queue_find(const struct sig_state *s, int sig) {
  for (unsigned i = 0; i < s->queued; i++)
    if (s->queue[i].signo == sig)
      return (int)i;
  return -1;
}

static void sig_queue_remove(struct sig_state *s, unsigned i) {
  memmove(&s->queue[i], &s->queue[i + 1], (s->queued - i - 1) * sizeof s->queue[0]);
  s->queued--;
}

int sig_enqueue(struct sig_state *s, const struct sig_info *info, unsigned limit) {
  int sig = info->signo;
  bool realtime = sig >= GUEST_SIGRTMIN;
  if (!realtime && (s->pending & sig_bit(sig)))
    return 0; /* standard signals do not queue: one instance, the first siginfo */
  if (limit > SIG_QUEUE_MAX)
    limit = SIG_QUEUE_MAX;
  if (s->queued < limit)
    s->queue[s->queued++] = *info;
  else if (realtime && info->code == GUEST_SI_TKILL)
    return -EAGAIN;
  /* Otherwise the siginfo is lost, as on Linux, but the signal still arrives. */
  s->pending |= sig_bit(sig);
  return 0;
}

static int lowest_signal(uint64_t set) { return __builtin_ctzll(set) + 1; }

bool sig_dequeue(struct sig_state *s, struct sig_info *out) {
  uint64_t ready = s->pending & ~s->blocked;
  if (!ready)
    return false;
  int sig = lowest_signal((ready & SYNCHRONOUS) ? ready & SYNCHRONOUS : ready);
  int i = sig_queue_find(s, sig);
  if (i >= 0) {
    *out = s->queue[i];
    sig_queue_remove(s, (unsigned)i);
  } else {
    /* Its siginfo was lost to a full queue: Linux reports SI_USER from pid 0. */
    *out = (struct sig_info){.signo = sig, .code = GUEST_SI_USER};
  }
  if (sig_queue_find(s, sig) < 0)
    s->pending &= ~sig_bit(sig);
  return true;
}

void sig_discard(struct sig_state *s, int sig) {
  int i;
  while ((i = sig_queue_find(s, sig)) >= 0)
    sig_queue_remove(s, (unsigned)i);
  s->pending &= ~sig_bit(sig);
}

/* The alternate stack grows down from altstack_sp + altstack_size. */
static bool sig_in_altstack(const struct sig_state *s, uint64_t sp) {
  return sp > s->altstack_sp && sp - s->altstack_sp <= s->altstack_size;
}

bool sig_on_altstack(const struct sig_state *s, uint64_t sp) {
  return !(s->altstack_flags & GUEST_SS_AUTODISARM) && sig_in_altstack(s, sp);
}

uint32_t sig_altstack_mode(const struct sig_state *s, uint64_t sp) {
  if (s->altstack_size == 0)
    return GUEST_SS_DISABLE;
  return sig_on_altstack(s, sp) ? GUEST_SS_ONSTACK : 0;
}

void sig_altstack_get(const struct sig_state *s, uint64_t sp, struct guest_stack *out) {
  *out = (struct guest_stack){.ss_sp = s->altstack_sp,
                              .ss_flags = sig_altstack_mode(s, sp) |
                                          (s->altstack_flags & GUEST_SS_AUTODISARM),
                              .ss_size = s->altstack_size};
}

int sig_altstack_set(struct sig_state *s, uint64_t sp, const struct guest_stack *ss) {
  if (sig_on_altstack(s, sp))
    return -EPERM;
  uint32_t mode = ss->ss_flags & ~GUEST_SS_AUTODISARM;
  if (mode != 0 && mode != GUEST_SS_ONSTACK && mode != GUEST_SS_DISABLE)
    return -EINVAL;
  if (mode == GUEST_SS_DISABLE) {
    s->altstack_sp = s->altstack_size = 0;
  } else {
    if (ss->ss_size < GUEST_MINSIGSTKSZ)
      return -ENOMEM;
    s->altstack_sp = ss->ss_sp;
    s->altstack_size = ss->ss_size;
  }
  s->altstack_flags = ss->ss_flags;
  return 0;
}

void sig_altstack_reset(struct sig_state *s) {
  s->altstack_sp = s->altstack_size = 0;
  s->altstack_flags = GUEST_SS_DISABLE;
}

void sig_cancel_opposites(struct sig_state *s, int sig) {
  if (sig == SIGCONT) {
    for (int stop = 1; stop <= 31; stop++)
      if (STOP_SIGNALS & sig_bit(stop))
        sig_discard(s, stop);
  } else if (STOP_SIGNALS & sig_bit(sig)) {
    sig_discard(s, SIGCONT);
  }
}
