/* vdso_impl.h - what the VMM-side files of the vDSO share among themselves;
 * the rest of the VMM uses vdso.h. */
#ifndef HEARTH_VMM_VDSO_IMPL_H
#define HEARTH_VMM_VDSO_IMPL_H

#include <stdint.h>
#include <time.h>

struct vm;

/* Why the guest may not compute time from its TSC, or NULL when it may, with
 * the TSC's frequency in *khz. Needs the vCPU. (vdso_tsc.c) */
const char *vdso_tsc_check(const struct vm *vm, uint64_t *khz);

/* The guest's TSC as the guest would read it now: KVM_GET_MSRS of
 * IA32_TSC, which applies KVM's offset and scaling (on PVM both are nil).
 * Read while the vCPU is stopped in an exit, it lies between the guest's
 * last rdtsc and its next. 0 or -EIO. (vdso_tsc.c) */
int vdso_guest_tsc(const struct vm *vm, uint64_t *tsc);

/* Draws the line anew from a fresh sample and publishes it; when the TSC
 * cannot be read any more, stops using the line (logged). (vdso_clock.c) */
void vdso_redraw(struct vm *vm);

/* The guest's clock `clk` minus the host's (vdso_state's shifts): 0 for
 * CLOCK_REALTIME and TAI, which are always the host's. (vdso_time.c) */
int64_t vdso_clock_shift(const struct vm *vm, clockid_t clk);

#endif
