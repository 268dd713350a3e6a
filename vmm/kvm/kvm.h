/* kvm.h - one KVM virtual machine with one vCPU, set up to run a Linux
 * program at CPL 3 with no guest kernel: long mode, the VMM's page tables,
 * a GDT with user segments and a TSS, IOPL=3, SSE/AVX enabled, and an LSTAR
 * stub that is a single `out`. Registers are exchanged through
 * KVM_CAP_SYNC_REGS, so a system call costs one KVM_RUN and no register
 * ioctls. */
#ifndef HEARTH_VMM_KVM_H
#define HEARTH_VMM_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gmem;

#define RFLAGS_IOPL3 0x3000ULL
#define RFLAGS_FIXED 0x2ULL

struct vkvm {
  int kvm_fd, vm_fd, vcpu_fd;
  struct kvm_run *run;
  size_t run_size;
  /* Calibrated at start-up: whether RIP at a KVM_EXIT_IO is already past
   * the `out` (PVM) or still on it (hardware KVM). */
  bool rip_past_out;
  /* Calibrated too: bytes KVM still skips at the next KVM_RUN after an I/O
   * exit even when the VMM wrote RIP (0 where KVM notices the write). */
  unsigned io_skip;
  bool io_pending; /* the last exit was an I/O exit not yet resumed */
};

/* Opens /dev/kvm, creates the VM over `m` and its vCPU in user mode, and
 * calibrates the exit-RIP rule. Negative errno: -ENOENT/-EACCES when
 * /dev/kvm is missing or not permitted, -ENOTSUP when a needed capability
 * is missing, others from KVM. Logs what failed. */
int vkvm_create(struct vkvm *k, struct gmem *m);
void vkvm_destroy(struct vkvm *k);

/* The synced general registers (valid between KVM_RUN calls). */
static inline struct kvm_regs *vkvm_regs(struct vkvm *k) { return &k->run->s.regs.regs; }
/* Marks the synced registers as changed so KVM_RUN loads them. */
static inline void vkvm_regs_dirty(struct vkvm *k) { k->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS; }

/* Runs the vCPU until the next exit. 0, or -EINTR when interrupted by a
 * signal (check the VM's stop request), or another negative errno. */
int vkvm_run(struct vkvm *k);

/* Where execution continues after the `out` of the current I/O exit. */
static inline uint64_t vkvm_io_next_rip(struct vkvm *k) {
  return k->run->s.regs.regs.rip + (k->rip_past_out ? 0 : 2);
}

/* Sets the RIP the guest resumes at, compensating for a skip KVM will still
 * apply to a pending I/O exit. Marks registers dirty. */
static inline void vkvm_set_rip(struct vkvm *k, uint64_t rip) {
  k->run->s.regs.regs.rip = rip - (k->io_pending ? k->io_skip : 0);
  vkvm_regs_dirty(k);
}

/* Points the vCPU at a fresh user-mode context: RIP, RSP, all other general
 * registers zero, RFLAGS with IOPL=3. */
void vkvm_set_entry(struct vkvm *k, uint64_t rip, uint64_t rsp);

/* FS base (arch_prctl ARCH_SET_FS / ARCH_GET_FS). */
int vkvm_set_fs_base(struct vkvm *k, uint64_t base);
int vkvm_get_fs_base(struct vkvm *k, uint64_t *base);
int vkvm_set_gs_base(struct vkvm *k, uint64_t base);
int vkvm_get_gs_base(struct vkvm *k, uint64_t *base);

/* After a `syscall` caught by the LSTAR stub: on hardware KVM the vCPU is
 * at CPL 0 in the stub (PVM keeps CPL 3); puts the user code and stack
 * segments back. */
int vkvm_ensure_user_mode(struct vkvm *k);

#endif
