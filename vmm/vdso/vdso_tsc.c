/* vdso_tsc.c - the guest's TSC seen from the VMM (vdso_impl.h): whether the
 * guest may tell time by it, at what frequency it runs, and its value now.
 *
 * The guest may use it only when the host kernel itself does: an invariant
 * TSC (CPUID 0x80000007 EDX bit 8: constant rate, runs in deep C-states)
 * that the host chose as its clocksource (so it is synchronised across the
 * host's CPUs, whichever one the vCPU thread runs on). */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vdso/timeline.h"
#include "vdso/vdso_impl.h"
#include "vm.h"

#define MSR_IA32_TSC 0x10
#define CPUID_INVARIANT_TSC (1u << 8)
#define CLOCKSOURCE_PATH "/sys/devices/system/clocksource/clocksource0/current_clocksource"

static bool host_tsc_invariant(void) {
  unsigned a, b, c, d;
  return __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & CPUID_INVARIANT_TSC);
}

static bool host_clocksource_is_tsc(void) {
  char buf[16] = {0};
  int fd = open(CLOCKSOURCE_PATH, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  return n > 0 && strcmp(buf, "tsc\n") == 0;
}

/* The TSC frequency CPUID states: leaf 0x15 (crystal clock and ratio),
 * else leaf 0x16 (base frequency in MHz); 0 when neither says. */
static uint64_t cpuid_tsc_khz(void) {
  unsigned a, b, c, d, max = __get_cpuid_max(0, NULL);
  if (max >= 0x15 && __get_cpuid(0x15, &a, &b, &c, &d) && a && b && c)
    return (uint64_t)c * b / a / 1000;
  if (max >= 0x16 && __get_cpuid(0x16, &a, &b, &c, &d) && (a & 0xffff))
    return (uint64_t)(a & 0xffff) * 1000;
  return 0;
}

/* KVM's figure is the guest's own (after any scaling KVM applies). */
static uint64_t guest_tsc_khz(const struct vm *vm) {
  int khz = ioctl(vm->kvm.vcpu_fd, KVM_GET_TSC_KHZ, 0);
  return khz > 0 ? (uint64_t)khz : cpuid_tsc_khz();
}

const char *vdso_tsc_check(const struct vm *vm, uint64_t *khz) {
  if (!host_tsc_invariant())
    return "the host's TSC is not invariant";
  if (!host_clocksource_is_tsc())
    return "the host's clocksource is not the TSC";
  *khz = guest_tsc_khz(vm);
  if (*khz < TIMELINE_MIN_KHZ || *khz > TIMELINE_MAX_KHZ)
    return "the TSC's frequency is unknown";
  return NULL;
}

int vdso_guest_tsc(const struct vm *vm, uint64_t *tsc) {
  struct {
    struct kvm_msrs hdr;
    struct kvm_msr_entry e[1];
  } m = {.hdr.nmsrs = 1, .e[0].index = MSR_IA32_TSC};
  if (ioctl(vm->kvm.vcpu_fd, KVM_GET_MSRS, &m) != 1)
    return -EIO;
  *tsc = m.e[0].data;
  return 0;
}
