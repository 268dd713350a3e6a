/* layout.h - where things live in a hearth microVM, guest-physical and
 * guest-virtual. The low 64 KiB of the virtual space is below Linux's
 * mmap_min_addr, so no program expects to map there: the VMM keeps its few
 * system pages there (identity-mapped), and page 0 stays unmapped so that
 * NULL dereferences fault. Everything else is handed out by the page
 * allocator in gmem.c. */
#ifndef HEARTH_VMM_LAYOUT_H
#define HEARTH_VMM_LAYOUT_H

#define GUEST_PAGE_SIZE 4096ULL
#define GUEST_PAGE_MASK (~(GUEST_PAGE_SIZE - 1))

/* System pages: guest-physical == guest-virtual. */
#define LAYOUT_GDT_PAGE 0x1000ULL    /* GDT and TSS, supervisor-only */
#define LAYOUT_STUB_PAGE 0x2000ULL   /* LSTAR stub and calibration probe: user, read-only */
#define LAYOUT_PML4_PAGE 0x3000ULL   /* top-level page table, never mapped */
#define LAYOUT_FIRST_FREE 0x10000ULL /* first page the allocator hands out */

/* Virtual address space offered to the program (as Linux x86-64 with 47
 * bits of user space). */
#define LAYOUT_MMAP_MIN 0x10000ULL
#define LAYOUT_USER_TOP 0x7ffffffff000ULL
/* Where a static-PIE executable or the dynamic loader is placed, like Linux's
 * ELF_ET_DYN_BASE (2/3 of the space), before randomisation. */
#define LAYOUT_PIE_BASE 0x555555554000ULL
/* Stack top before randomisation; mmaps go below the stack gap. */
#define LAYOUT_STACK_TOP 0x7ffffffde000ULL
#define LAYOUT_STACK_GAP (128ULL << 20)

/* I/O ports the guest uses to reach the VMM. */
#define PORT_SYSCALL 0x90   /* rewritten `syscall` sites: out 0x90, al */
#define PORT_LSTAR 0x91     /* the LSTAR stub, for unrewritten `syscall` */
#define PORT_CALIBRATE 0x92 /* start-up probe of the exit-RIP rule */

/* GDT selectors. SYSRET takes user CS/SS from STAR[63:48] + 16 / + 8. */
#define SEL_KERNEL_CODE 0x08
#define SEL_KERNEL_DATA 0x10
#define SEL_USER_CODE32 0x18
#define SEL_USER_DATA 0x23
#define SEL_USER_CODE 0x2b
#define SEL_TSS 0x30

#endif
