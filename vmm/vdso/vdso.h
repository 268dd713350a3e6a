/* vdso.h - hearth's guest vDSO: a small ELF shared object (vmm/vdso/guest/)
 * that the loader maps into every guest and names in AT_SYSINFO_EHDR, so
 * that glibc's and musl's clock_gettime, gettimeofday, time, clock_getres
 * and getcpu run in the guest without an exit. The clocks come from rdtsc
 * (native at CPL 3) and a data page, the vvar (vvar.h), mapped read-only one
 * page below the vDSO, which the VMM fills and keeps in step with the host
 * clock. Whatever the vDSO cannot answer (other clocks, no usable TSC, a
 * line past its horizon) it asks the VMM with the rewritten-syscall `out`.
 *
 * The guest's clocks are then the line, not the host's clocks directly, so
 * the VMM serves the same clocks through the same line (vdso_clock_now,
 * vdso_sleep_until): a program mixing vDSO calls and real system calls
 * sees one clock. Life cycle: vdso_map (loader, before the stack is
 * written), vdso_start (once KVM exists), then vdso_tick on every exit. */
#ifndef HEARTH_VMM_VDSO_H
#define HEARTH_VMM_VDSO_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "vdso/timeline.h"
#include "vdso/vvar.h"

#define VDSO_REFRESH_NS 1000000000ull /* redraw the line at most this often */

struct vm;

struct vdso_state {
  uint64_t base;           /* guest address of the vDSO's ELF header (AT_SYSINFO_EHDR); 0: none */
  uint64_t vvar_gva;       /* the data page: base - one page */
  struct vdso_vvar *vvar;  /* host view of that page; NULL when none or no longer mapped */
  bool live;               /* the guest's clocks are the line (else the host's, read directly) */
  struct timeline mono;    /* CLOCK_MONOTONIC's line */
  struct timeline raw;     /* CLOCK_MONOTONIC_RAW's, redrawn with it from the same samples */
  struct vdso_vvar pub;    /* the VMM's own copy of what the page says (never read back from
                              the guest's page, which the guest can scribble on) */
  uint32_t seq;            /* the page's sequence count */
  uint64_t next_redraw_ns; /* host CLOCK_MONOTONIC at which the line is redrawn */
  /* Guest clock minus host clock, ns, for CLOCK_MONOTONIC, _RAW and
   * BOOTTIME: 0 in a fresh VM; set by a restore (snapshot/snap_clock.c) so
   * that the guest's clocks go on from where the snapshot left them. */
  int64_t mono_shift, raw_shift, boot_shift;
};

/* Maps the vvar page and the vDSO image below vm->mm.mmap_top and sets
 * vm->vdso.base and vvar_gva (0 and nothing mapped with vm->cfg->no_vdso).
 * The page says "ask the VMM" until vdso_start. Uses only mm.h and the
 * copy-in of uaccess.h. 0, or -ENOMEM when guest memory or address space
 * runs out (logged). */
int vdso_map(struct vm *vm);

/* Decides whether the guest may read the TSC (an invariant TSC that is the
 * host's clocksource, a frequency from KVM_GET_TSC_KHZ or CPUID) and, if
 * so, draws the first line from a (guest TSC, host clocks) sample and
 * publishes it. Needs the vCPU. Never fails the VM: without a usable TSC
 * every call of the vDSO exits instead. Returns 0. */
int vdso_start(struct vm *vm);

/* Called at every system-call exit: redraws and republishes the line when
 * VDSO_REFRESH_NS have passed. Costs one host clock read otherwise. */
void vdso_tick(struct vm *vm);

/* The guest's clock `clk` now, as the vDSO would compute it: for the clocks
 * the line serves while it is live; any other clock is read from the host,
 * as clock_gettime(clk, now) would. */
void vdso_clock_now(struct vm *vm, clockid_t clk, struct timespec *now);

/* sleep_until (kernel/sleep.h) with `deadline` on the guest's clock clk:
 * returns 0 only once the guest's clock has reached it. */
int vdso_sleep_until(struct vm *vm, clockid_t clk, const struct timespec *deadline);

/* Whether the line serves clock id `clk` (the vDSO's list). */
bool vdso_line_clock(clockid_t clk);

#endif
