/* signal.h - the guest's signal state: dispositions, the blocked mask, and
 * what happens when a signal is sent to the (single-threaded) guest. */
#ifndef HEARTH_VMM_SIGNAL_H
#define HEARTH_VMM_SIGNAL_H

#include <stdbool.h>
#include <stdint.h>

#define GUEST_NSIG 64

/* struct kernel_sigaction as x86-64 Linux lays it out for rt_sigaction. */
struct guest_sigaction {
  uint64_t handler; /* SIG_DFL 0, SIG_IGN 1, or a guest address */
  uint64_t flags;
  uint64_t restorer;
  uint64_t mask;
};

struct sig_state {
  struct guest_sigaction action[GUEST_NSIG + 1]; /* indexed by signal number */
  uint64_t blocked;
  uint64_t pending;
  uint64_t altstack_sp, altstack_size;
  int altstack_flags;
};

void sig_state_init(struct sig_state *s);

struct vm;
/* Sends signal `sig` to the guest: ignored, left pending (blocked), delivered
 * to its handler at the next return to the guest, or its default action
 * (termination ends the VM with 128+sig). */
void sig_send(struct vm *vm, int sig);
/* Called before returning to the guest: acts on deliverable pending signals. */
void sig_deliver_pending(struct vm *vm);

#endif
