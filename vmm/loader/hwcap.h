/* hwcap.h - the auxv values a program reads about the CPU: AT_HWCAP as
 * Linux gives it on x86-64, and AT_MINSIGSTKSZ. The guest's CPUID is what
 * KVM supports of the host's CPU (vmm/kvm/cpu.c), so the host's own cpuid
 * stands in for it here. */
#ifndef HEARTH_VMM_LOADER_HWCAP_H
#define HEARTH_VMM_LOADER_HWCAP_H

#include <stdint.h>

#define HWCAP_MIN_SIGSTKSZ 2048u /* MINSIGSTKSZ of the x86-64 ABI */

/* AT_HWCAP: cpuid leaf 1's EDX feature bits, as Linux reports them. */
uint64_t hwcap_at_hwcap(void);

/* AT_MINSIGSTKSZ: an upper bound of the signal frame the VMM may push on a
 * signal stack: the largest XSAVE area this CPU supports (cpuid 0xd, every
 * component, so at least what the guest's XCR0 enables) plus siginfo,
 * ucontext and alignment, rounded up to 64 bytes; at least
 * HWCAP_MIN_SIGSTKSZ. It bounds sigframe_stack_need() from above. */
uint64_t hwcap_min_sigstksz(void);

#endif
