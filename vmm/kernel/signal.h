/* signal.h - what happens when a signal is sent to the (single-threaded)
 * guest: thrown away when ignored, left pending while blocked, its default
 * action taken (termination ends the VM with status 128+sig), or its
 * handler entered through a signal frame (sigframe.h) at the next return to
 * the guest. The state itself and its rules are in sigstate.h. */
#ifndef HEARTH_VMM_SIGNAL_H
#define HEARTH_VMM_SIGNAL_H

#include "sigstate.h"

struct vm;

/* Sends `sig` on the VMM's own account (SI_KERNEL), e.g. SIGPIPE from a
 * write to a pipe with no reader. Takes effect at sig_deliver_pending();
 * SIGKILL ends the VM at once. */
void sig_send(struct vm *vm, int sig);

/* Sends info->signo with that siginfo (kill, tkill, tgkill). 0, or -EAGAIN
 * when a real-time SI_TKILL signal finds the queue full. */
int sig_send_info(struct vm *vm, const struct sig_info *info);

/* Raises a signal the guest caused synchronously (a fault, a bad signal
 * frame): when it is blocked or ignored, it is unblocked and reset to
 * SIG_DFL first, so it cannot be dodged, as Linux's force_sig(). */
void sig_force(struct vm *vm, const struct sig_info *info);

/* Called after every system call, with RAX already holding its result and
 * RIP the return address, before the vCPU runs again: takes every
 * deliverable pending signal in turn, stacking one frame per handler (the
 * last one entered runs first), and stops early when the VM ends. */
void sig_deliver_pending(struct vm *vm);

#endif
