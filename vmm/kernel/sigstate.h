/* sigstate.h - the guest's signal state as plain data, and the rules Linux
 * applies to it: dispositions, the blocked mask, pending signals with their
 * siginfo, and the alternate signal stack. Nothing here touches the vCPU or
 * guest memory, so every rule is testable on its own; signal.h acts on it.
 *
 * Numbers, flags and masks are x86-64 Linux's: bit (sig - 1) of a mask
 * stands for signal sig, and a signal set is 8 bytes. */
#ifndef HEARTH_VMM_SIGSTATE_H
#define HEARTH_VMM_SIGSTATE_H

#include <stdbool.h>
#include <stdint.h>

#define GUEST_NSIG 64
#define GUEST_SIGRTMIN 32
#define GUEST_SIGSET_SIZE 8 /* the kernel's sigset_t: the only sigsetsize accepted */

#define GUEST_SIG_DFL 0ULL
#define GUEST_SIG_IGN 1ULL

/* sa_flags */
#define GUEST_SA_NOCLDSTOP 0x1ULL
#define GUEST_SA_NOCLDWAIT 0x2ULL
#define GUEST_SA_SIGINFO 0x4ULL
#define GUEST_SA_EXPOSE_TAGBITS 0x800ULL
#define GUEST_SA_RESTORER 0x04000000ULL
#define GUEST_SA_ONSTACK 0x08000000ULL
#define GUEST_SA_RESTART 0x10000000ULL
#define GUEST_SA_NODEFER 0x40000000ULL
#define GUEST_SA_RESETHAND 0x80000000ULL
/* The flags Linux keeps; any other bit (SA_UNSUPPORTED among them) reads
 * back as 0, which is how programs probe for flag support. */
#define GUEST_SA_KNOWN                                                                             \
  (GUEST_SA_NOCLDSTOP | GUEST_SA_NOCLDWAIT | GUEST_SA_SIGINFO | GUEST_SA_EXPOSE_TAGBITS |          \
   GUEST_SA_RESTORER | GUEST_SA_ONSTACK | GUEST_SA_RESTART | GUEST_SA_NODEFER |                    \
   GUEST_SA_RESETHAND)

/* si_code */
#define GUEST_SI_USER 0
#define GUEST_SI_KERNEL 0x80
#define GUEST_SI_TKILL (-6)

/* rt_sigprocmask `how` */
#define GUEST_SIG_BLOCK 0
#define GUEST_SIG_UNBLOCK 1
#define GUEST_SIG_SETMASK 2

/* sigaltstack */
#define GUEST_SS_ONSTACK 1u
#define GUEST_SS_DISABLE 2u
#define GUEST_SS_AUTODISARM (1u << 31)
#define GUEST_MINSIGSTKSZ 2048

/* Pending instances that carry their own siginfo; also the RLIMIT_SIGPENDING
 * the guest is offered. */
#define SIG_QUEUE_MAX 64

/* struct kernel_sigaction as x86-64 Linux lays it out for rt_sigaction. */
struct guest_sigaction {
  uint64_t handler; /* SIG_DFL 0, SIG_IGN 1, or a guest address */
  uint64_t flags;
  uint64_t restorer;
  uint64_t mask;
};

/* stack_t */
struct guest_stack {
  uint64_t ss_sp;
  uint32_t ss_flags; /* an int in C; SS_AUTODISARM is its sign bit */
  uint32_t pad;
  uint64_t ss_size;
};

/* One pending signal instance: what its handler's siginfo will say. */
struct sig_info {
  int32_t signo, code;
  int32_t pid; /* sender, for SI_USER and SI_TKILL */
  uint32_t uid;
  uint64_t addr;               /* faulting address, for signals raised by a fault */
  uint32_t trapno, error_code; /* the fault's vector and error code */
};

struct sig_state {
  struct guest_sigaction action[GUEST_NSIG + 1]; /* indexed by signal number */
  uint64_t blocked;
  uint64_t pending;                     /* signals with at least one instance pending */
  struct sig_info queue[SIG_QUEUE_MAX]; /* siginfo of pending instances, oldest first */
  unsigned queued;
  uint64_t altstack_sp, altstack_size;
  uint32_t altstack_flags; /* as last set; SS_DISABLE when there is none */
  /* Set by each rt_sigreturn: true when it restored every register from a
   * good frame, so the run loop must not apply the usual system call return
   * (RIP, RCX, R11, RFLAGS); false on a bad frame (SIGSEGV forced). */
  bool frame_restored;
  /* Linux's TIF_RESTORE_SIGMASK: a call that waits under a temporary mask
   * (ppoll, epoll_pwait) keeps the caller's own here while the temporary
   * one is `blocked`. The first signal frame built saves saved_mask (so the
   * handler runs under the temporary mask, and its return brings the
   * caller's back) and clears the flag; with no frame built, the end of
   * sig_deliver_pending puts saved_mask back. */
  bool restore_mask;
  uint64_t saved_mask;
};

/* What SIG_DFL does, per Linux. Core-dumping signals terminate too (no core
 * is written); SIGCONT's "continue" is nothing to a process never stopped. */
enum sig_default {
  SIG_DEFAULT_TERM,
  SIG_DEFAULT_CORE,
  SIG_DEFAULT_IGNORE,
  SIG_DEFAULT_STOP,
};

static inline bool sig_valid(long sig) { return sig >= 1 && sig <= GUEST_NSIG; }
/* The mask bit of signal sig (1..64). */
static inline uint64_t sig_bit(int sig) { return 1ULL << (sig - 1); }

/* No handlers, nothing blocked or pending, no alternate stack. */
void sig_state_init(struct sig_state *s);
/* What execve keeps: the blocked mask, pending signals and ignored
 * dispositions; handlers go back to SIG_DFL and the alternate stack goes. */
void sig_state_exec(struct sig_state *s);

/* The default action of signal sig (1..64). */
enum sig_default sig_default_action(int sig);

/* set without SIGKILL and SIGSTOP, which can never be blocked. */
uint64_t sig_mask_sanitize(uint64_t set);

/* Applies rt_sigprocmask's SIG_BLOCK / SIG_UNBLOCK / SIG_SETMASK of `set`
 * to *blocked (never blocking SIGKILL or SIGSTOP). -EINVAL for another
 * `how`, leaving *blocked alone. */
int sig_mask_change(uint64_t *blocked, int how, uint64_t set);

/* rt_sigaction on the state: stores the old action in *old (when old is
 * not NULL) and installs *act (when not NULL): unknown flags dropped,
 * SIGKILL/SIGSTOP removed from its mask. Making a pending signal ignored
 * discards it. -EINVAL for a signal outside 1..64, or for changing SIGKILL
 * or SIGSTOP. */
int sig_action_change(struct sig_state *s, int sig, const struct guest_sigaction *act,
                      struct guest_sigaction *old);

/* True when a signal sent now would be thrown away: not blocked, and
 * SIG_IGN or SIG_DFL with a default of ignore. */
bool sig_ignored(const struct sig_state *s, int sig);

/* Marks info->signo pending with its siginfo. A standard signal already
 * pending is not queued twice (0: merged). A real-time signal queues one
 * instance per send while fewer than `limit` instances are queued; past it
 * the signal stays pending without its own siginfo, except for SI_TKILL
 * sends, which fail with -EAGAIN as Linux's do. */
int sig_enqueue(struct sig_state *s, const struct sig_info *info, unsigned limit);

/* Takes the next deliverable (pending, unblocked) instance: synchronous
 * fault signals first, then the lowest number. False when there is none. */
bool sig_dequeue(struct sig_state *s, struct sig_info *out);

/* Drops every pending instance of sig. */
void sig_discard(struct sig_state *s, int sig);
/* Before sending sig: a stop signal discards a pending SIGCONT and SIGCONT
 * discards pending stop signals, as on Linux. */
void sig_cancel_opposites(struct sig_state *s, int sig);

/* Whether sp is on the alternate stack (never, while it is SS_AUTODISARM). */
bool sig_on_altstack(const struct sig_state *s, uint64_t sp);
/* Linux's sas_ss_flags(sp): SS_DISABLE with no alternate stack, else
 * SS_ONSTACK when sp is on it, else 0. */
uint32_t sig_altstack_mode(const struct sig_state *s, uint64_t sp);
/* sigaltstack's old-stack answer for a thread whose stack pointer is sp. */
void sig_altstack_get(const struct sig_state *s, uint64_t sp, struct guest_stack *out);
/* sigaltstack's new stack: -EPERM while running on the alternate stack,
 * -EINVAL for unknown flags, -ENOMEM when smaller than MINSIGSTKSZ. */
int sig_altstack_set(struct sig_state *s, uint64_t sp, const struct guest_stack *ss);
/* Forgets the alternate stack (SS_AUTODISARM, at handler entry). */
void sig_altstack_reset(struct sig_state *s);

#endif
