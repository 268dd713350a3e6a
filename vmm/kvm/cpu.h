/* cpu.h - the vCPU's architectural set-up for a kernel-less guest: GDT, TSS,
 * LSTAR stub, control registers, MSRs, XCR0 and CPUID. */
#ifndef HEARTH_VMM_CPU_H
#define HEARTH_VMM_CPU_H

struct gmem;

/* Guest address of the start-up probe used to calibrate the exit-RIP rule:
 * three `out` instructions (ports PORT_CALIBRATE, +1, +2). */
#define CPU_PROBE_OFFSET 0x100

/* Writes the GDT/TSS page and the stub page into guest memory and maps them. */
int cpu_build_system_pages(struct gmem *m);

/* Configures vcpu_fd: CPUID from KVM's supported list, segments and control
 * registers for 64-bit mode at CPL 3, SYSCALL MSRs, XCR0. Logs what failed. */
int cpu_configure(int kvm_fd, int vcpu_fd);

#endif
