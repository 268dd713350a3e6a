/* kvm.c - creating the KVM machine and its vCPU, calibrating how KVM
 * reports an I/O exit, and running the vCPU (kvm.h). */
#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpu.h"
#include "log.h"
#include "mem/gmem.h"
#include "mem/layout.h"

static int vkvm_check_caps(int kvm_fd) {
  if (ioctl(kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
    vlog(VLOG_ERROR, "/dev/kvm speaks an unknown KVM API version");
    return -ENOTSUP;
  }
  int sync = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
  if (sync < 0 || !(sync & KVM_SYNC_X86_REGS)) {
    vlog(VLOG_ERROR, "KVM lacks KVM_CAP_SYNC_REGS, which hearth needs for cheap exits");
    return -ENOTSUP;
  }
  static const struct {
    int cap;
    const char *name;
  } needed[] = {{KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
                {KVM_CAP_XCRS, "KVM_CAP_XCRS"},
                {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"}};
  for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
    if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, needed[i].cap) <= 0) {
      vlog(VLOG_ERROR, "KVM lacks %s", needed[i].name);
      return -ENOTSUP;
    }
  }
  return 0;
}

static int vkvm_open_machine(struct vkvm *k, struct gmem *m) {
  k->vm_fd = ioctl(k->kvm_fd, KVM_CREATE_VM, 0);
  if (k->vm_fd < 0)
    return -errno;
  struct kvm_userspace_memory_region region = {.slot = 0,
                                               .guest_phys_addr = 0,
                                               .memory_size = m->size,
                                               .userspace_addr = (uintptr_t)m->host};
  if (ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
    return -errno;
  k->vcpu_fd = ioctl(k->vm_fd, KVM_CREATE_VCPU, 0);
  if (k->vcpu_fd < 0)
    return -errno;
  int size = ioctl(k->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (size < (int)sizeof(struct kvm_run))
    return -EIO;
  void *run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, k->vcpu_fd, 0);
  if (run == MAP_FAILED)
    return -errno;
  k->run = run;
  k->run_size = (size_t)size;
  k->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
  return 0;
}

/* Runs to the next exit, which must be an `out` to `port`. */
static int vkvm_expect_out(struct vkvm *k, uint16_t port) {
  int rc = vkvm_run(k);
  if (rc < 0)
    return rc;
  if (k->run->exit_reason != KVM_EXIT_IO || k->run->io.port != port) {
    vlog(VLOG_ERROR, "start-up probe: unexpected exit %u (port %#x), expected out to %#x",
         k->run->exit_reason, k->run->io.port, port);
    return -EIO;
  }
  return 0;
}

/* Learns two things about this KVM with a three-`out` probe: whether RIP is
 * past the `out` at an I/O exit, and whether KVM still skips the `out` at
 * the next KVM_RUN after the VMM writes RIP (PLATFORM.md). */
static int vkvm_calibrate(struct vkvm *k) {
  uint64_t probe = LAYOUT_STUB_PAGE + CPU_PROBE_OFFSET;
  vkvm_set_entry(k, probe, 0);
  int rc = vkvm_expect_out(k, PORT_CALIBRATE);
  if (rc < 0)
    return rc;
  uint64_t rip = vkvm_regs(k)->rip;
  if (rip != probe && rip != probe + 2) {
    vlog(VLOG_ERROR, "start-up probe: I/O exit at unexpected RIP %#llx", (unsigned long long)rip);
    return -EIO;
  }
  k->rip_past_out = rip == probe + 2;
  /* Ask to resume at the second `out` explicitly. */
  vkvm_regs(k)->rip = probe + 2;
  vkvm_regs(k)->rflags |= RFLAGS_IOPL3;
  vkvm_regs_dirty(k);
  rc = vkvm_run(k);
  if (rc < 0 || k->run->exit_reason != KVM_EXIT_IO)
    return rc < 0 ? rc : -EIO;
  if (k->run->io.port == PORT_CALIBRATE + 1)
    k->io_skip = 0;
  else if (k->run->io.port == PORT_CALIBRATE + 2)
    k->io_skip = 2;
  else
    return -EIO;
  vlog(VLOG_DEBUG, "KVM exit-RIP rule: RIP %s the out; skip after RIP write: %u",
       k->rip_past_out ? "past" : "on", k->io_skip);
  return 0;
}

int vkvm_create(struct vkvm *k, struct gmem *m) {
  memset(k, 0, sizeof *k);
  k->vm_fd = k->vcpu_fd = -1;
  k->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (k->kvm_fd < 0) {
    int err = errno;
    vlog(VLOG_ERROR, "cannot open /dev/kvm: %s", strerror(err));
    return -err;
  }
  int rc = vkvm_check_caps(k->kvm_fd);
  if (rc == 0 && (rc = vkvm_open_machine(k, m)) < 0)
    vlog(VLOG_ERROR, "cannot create the KVM machine: %s", strerror(-rc));
  if (rc == 0)
    rc = cpu_configure(k->kvm_fd, k->vcpu_fd);
  if (rc == 0 && (rc = vkvm_calibrate(k)) < 0)
    vlog(VLOG_ERROR, "cannot calibrate KVM's I/O exit rule: %s", strerror(-rc));
  if (rc < 0)
    vkvm_destroy(k);
  return rc;
}

void vkvm_destroy(struct vkvm *k) {
  if (k->run)
    munmap(k->run, k->run_size);
  if (k->vcpu_fd >= 0)
    close(k->vcpu_fd);
  if (k->vm_fd >= 0)
    close(k->vm_fd);
  if (k->kvm_fd >= 0)
    close(k->kvm_fd);
  k->run = NULL;
  k->vcpu_fd = k->vm_fd = k->kvm_fd = -1;
}

int vkvm_run(struct vkvm *k) {
  int rc = ioctl(k->vcpu_fd, KVM_RUN, 0);
  if (rc < 0) {
    int err = errno;
    /* A signal (e.g. the --timeout alarm) interrupted us; the pending I/O
     * exit, if any, is still pending. */
    k->run->immediate_exit = 0;
    return -err;
  }
  k->io_pending = k->run->exit_reason == KVM_EXIT_IO;
  return 0;
}

void vkvm_set_entry(struct vkvm *k, uint64_t rip, uint64_t rsp) {
  struct kvm_regs *r = vkvm_regs(k);
  memset(r, 0, sizeof *r);
  r->rsp = rsp;
  r->rflags = RFLAGS_FIXED | RFLAGS_IOPL3;
  vkvm_set_rip(k, rip);
}

static int vkvm_segment_base(struct vkvm *k, bool fs, uint64_t *get, const uint64_t *set) {
  struct kvm_sregs s;
  if (ioctl(k->vcpu_fd, KVM_GET_SREGS, &s) < 0)
    return -errno;
  struct kvm_segment *seg = fs ? &s.fs : &s.gs;
  if (get) {
    *get = seg->base;
    return 0;
  }
  seg->base = *set;
  return ioctl(k->vcpu_fd, KVM_SET_SREGS, &s) < 0 ? -errno : 0;
}

int vkvm_set_fs_base(struct vkvm *k, uint64_t base) {
  return vkvm_segment_base(k, true, NULL, &base);
}
int vkvm_get_fs_base(struct vkvm *k, uint64_t *base) {
  return vkvm_segment_base(k, true, base, NULL);
}
int vkvm_set_gs_base(struct vkvm *k, uint64_t base) {
  return vkvm_segment_base(k, false, NULL, &base);
}
int vkvm_get_gs_base(struct vkvm *k, uint64_t *base) {
  return vkvm_segment_base(k, false, base, NULL);
}

int vkvm_ensure_user_mode(struct vkvm *k) {
  struct kvm_sregs s;
  if (ioctl(k->vcpu_fd, KVM_GET_SREGS, &s) < 0)
    return -errno;
  if (s.cs.dpl == 3 && s.cs.selector == SEL_USER_CODE)
    return 0;
  s.cs = (struct kvm_segment){.limit = 0xffffffff,
                              .selector = SEL_USER_CODE,
                              .type = 11,
                              .present = 1,
                              .dpl = 3,
                              .s = 1,
                              .l = 1,
                              .g = 1};
  s.ss = (struct kvm_segment){.limit = 0xffffffff,
                              .selector = SEL_USER_DATA,
                              .type = 3,
                              .present = 1,
                              .dpl = 3,
                              .db = 1,
                              .s = 1,
                              .g = 1};
  return ioctl(k->vcpu_fd, KVM_SET_SREGS, &s) < 0 ? -errno : 0;
}
