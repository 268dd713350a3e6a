/* cpu.c - puts a fresh vCPU into 64-bit user mode with no guest kernel
 * (cpu.h). The guest never runs CPL 0 code of its own: the only supervisor
 * entry is `syscall`, whose LSTAR stub is one `out` to the VMM. */
#include "cpu.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"
#include "mem/gmem.h"
#include "mem/layout.h"

#define GDT_ENTRIES 8 /* null, kcode, kdata, ucode32, udata, ucode, tss (2) */
#define TSS_OFFSET 0x80
#define TSS_SIZE 104
/* I/O permission bitmap right after the TSS, covering ports 0-255, plus the
 * all-ones byte the CPU requires after it. */
#define TSS_IOMAP_BYTES 32
#define TSS_LIMIT (TSS_SIZE + TSS_IOMAP_BYTES + 1 - 1)

#define CR0_PE 0x1ULL
#define CR0_MP 0x2ULL
#define CR0_ET 0x10ULL
#define CR0_NE 0x20ULL
#define CR0_WP 0x10000ULL
#define CR0_PG 0x80000000ULL
#define CR4_PAE 0x20ULL
#define CR4_OSFXSR 0x200ULL
#define CR4_OSXMMEXCPT 0x400ULL
#define CR4_OSXSAVE 0x40000ULL
#define EFER_SCE 0x1ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL

#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

/* RFLAGS bits cleared on `syscall` entry: TF, IF, DF, AC, NT. */
#define SFMASK_BITS (0x100ULL | 0x200ULL | 0x400ULL | 0x40000ULL | 0x4000ULL)

/* XCR0 components we enable when KVM offers them: x87, SSE, AVX, AVX-512. */
#define XCR0_WANTED 0xe7ULL

static void gdt_write(uint64_t *gdt) {
  gdt[1] = 0x00af9b000000ffffULL; /* kernel code, 64-bit */
  gdt[2] = 0x00cf93000000ffffULL; /* kernel data */
  gdt[3] = 0x00cffb000000ffffULL; /* user code, 32-bit (SYSRET base) */
  gdt[4] = 0x00cff3000000ffffULL; /* user data */
  gdt[5] = 0x00affb000000ffffULL; /* user code, 64-bit */
  uint64_t base = LAYOUT_GDT_PAGE + TSS_OFFSET, limit = TSS_LIMIT;
  gdt[6] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x8bULL << 40) |
           ((base >> 24 & 0xff) << 56); /* present, busy 64-bit TSS */
  gdt[7] = base >> 32;
}

/* The I/O bitmap allows only hearth's ports. Hardware KVM never reads it
 * (IOPL=3 at CPL 3 is enough), but PVM checks it on every `out`. */
static void tss_write(uint8_t *tss) {
  uint16_t iomap = TSS_SIZE;
  memcpy(tss + 102, &iomap, sizeof iomap);
  uint8_t *bitmap = tss + TSS_SIZE;
  memset(bitmap, 0xff, TSS_IOMAP_BYTES + 1);
  static const uint16_t allowed[] = {PORT_SYSCALL, PORT_LSTAR, PORT_CALIBRATE, PORT_CALIBRATE + 1,
                                     PORT_CALIBRATE + 2};
  for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
    bitmap[allowed[i] / 8] &= (uint8_t) ~(1u << (allowed[i] % 8));
}

int cpu_build_system_pages(struct gmem *m) {
  int rc = gmem_map_system_page(m, LAYOUT_GDT_PAGE, false, false);
  if (rc == 0)
    rc = gmem_map_system_page(m, LAYOUT_STUB_PAGE, true, false);
  if (rc < 0)
    return rc;
  gdt_write(gmem_pa_host(m, LAYOUT_GDT_PAGE));
  tss_write(gmem_pa_host(m, LAYOUT_GDT_PAGE + TSS_OFFSET));
  uint8_t *stub = gmem_pa_host(m, LAYOUT_STUB_PAGE);
  static const uint8_t lstar_stub[] = {0xe6, PORT_LSTAR, 0x0f, 0x0b}; /* out; ud2 guard */
  static const uint8_t probe[] = {0xe6, PORT_CALIBRATE,     0xe6, PORT_CALIBRATE + 1,
                                  0xe6, PORT_CALIBRATE + 2, 0x0f, 0x0b};
  memcpy(stub, lstar_stub, sizeof lstar_stub);
  memcpy(stub + CPU_PROBE_OFFSET, probe, sizeof probe);
  return 0;
}

static struct kvm_segment user_segment(uint16_t selector, bool code) {
  return (struct kvm_segment){.base = 0,
                              .limit = 0xffffffff,
                              .selector = selector,
                              .type = code ? 11 : 3,
                              .present = 1,
                              .dpl = 3,
                              .db = code ? 0 : 1,
                              .s = 1,
                              .l = code ? 1 : 0,
                              .g = 1};
}

static int cpu_set_sregs(int vcpu_fd) {
  struct kvm_sregs s;
  if (ioctl(vcpu_fd, KVM_GET_SREGS, &s) < 0)
    return -errno;
  s.cs = user_segment(SEL_USER_CODE, true);
  s.ds = s.es = s.fs = s.gs = s.ss = user_segment(SEL_USER_DATA, false);
  s.tr = (struct kvm_segment){.base = LAYOUT_GDT_PAGE + TSS_OFFSET,
                              .limit = TSS_LIMIT,
                              .selector = SEL_TSS,
                              .type = 11,
                              .present = 1};
  s.ldt = (struct kvm_segment){.unusable = 1};
  s.gdt.base = LAYOUT_GDT_PAGE;
  s.gdt.limit = GDT_ENTRIES * 8 - 1;
  s.idt.base = 0;
  s.idt.limit = 0; /* no IDT yet: a guest fault shuts the VM down */
  s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
  s.cr3 = LAYOUT_PML4_PAGE;
  s.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE;
  s.efer = EFER_SCE | EFER_LME | EFER_LMA;
  return ioctl(vcpu_fd, KVM_SET_SREGS, &s) < 0 ? -errno : 0;
}

static int cpu_set_msrs(int vcpu_fd) {
  struct {
    struct kvm_msrs hdr;
    struct kvm_msr_entry e[5];
  } msrs = {.hdr.nmsrs = 5};
  uint64_t star = ((uint64_t)SEL_USER_CODE32 << 48) | ((uint64_t)SEL_KERNEL_CODE << 32);
  msrs.e[0] = (struct kvm_msr_entry){.index = MSR_STAR, .data = star};
  msrs.e[1] = (struct kvm_msr_entry){.index = MSR_LSTAR, .data = LAYOUT_STUB_PAGE};
  msrs.e[2] = (struct kvm_msr_entry){.index = MSR_CSTAR, .data = LAYOUT_STUB_PAGE};
  msrs.e[3] = (struct kvm_msr_entry){.index = MSR_SFMASK, .data = SFMASK_BITS};
  msrs.e[4] = (struct kvm_msr_entry){.index = MSR_KERNEL_GS_BASE, .data = 0};
  int n = ioctl(vcpu_fd, KVM_SET_MSRS, &msrs);
  return n == 5 ? 0 : -EIO;
}

static struct kvm_cpuid2 *cpu_supported_cpuid(int kvm_fd) {
  for (int nent = 64; nent <= 4096; nent *= 2) {
    struct kvm_cpuid2 *c = calloc(1, sizeof *c + nent * sizeof(struct kvm_cpuid_entry2));
    if (!c)
      return NULL;
    c->nent = nent;
    if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
      return c;
    free(c);
    if (errno != E2BIG)
      return NULL;
  }
  return NULL;
}

static uint64_t cpu_supported_xcr0(const struct kvm_cpuid2 *c) {
  for (uint32_t i = 0; i < c->nent; i++)
    if (c->entries[i].function == 0xd && c->entries[i].index == 0)
      return c->entries[i].eax | ((uint64_t)c->entries[i].edx << 32);
  return 0x3; /* x87 and SSE are architectural in long mode */
}

static int cpu_set_cpuid(int kvm_fd, int vcpu_fd, uint64_t *xcr0) {
  struct kvm_cpuid2 *c = cpu_supported_cpuid(kvm_fd);
  if (!c)
    return errno ? -errno : -ENOMEM;
  int rc = ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
  *xcr0 = (cpu_supported_xcr0(c) & XCR0_WANTED) | 1;
  free(c);
  /* AVX-512 state is only usable as a whole. */
  if ((*xcr0 & 0xe0) != 0xe0)
    *xcr0 &= ~0xe0ULL;
  return rc;
}

/* XCR0 can only be set once CR4.OSXSAVE is. */
static int cpu_set_xcr0(int vcpu_fd, uint64_t xcr0) {
  struct kvm_xcrs x = {.nr_xcrs = 1, .xcrs[0] = {.xcr = 0, .value = xcr0}};
  return ioctl(vcpu_fd, KVM_SET_XCRS, &x) < 0 ? -errno : 0;
}

int cpu_configure(int kvm_fd, int vcpu_fd) {
  uint64_t xcr0 = 0x3;
  int rc = cpu_set_cpuid(kvm_fd, vcpu_fd, &xcr0);
  if (rc < 0) {
    vlog(VLOG_ERROR, "cannot set the vCPU's CPUID: %s", strerror(-rc));
    return rc;
  }
  if ((rc = cpu_set_sregs(vcpu_fd)) < 0) {
    vlog(VLOG_ERROR, "cannot set the vCPU's segments and control registers: %s", strerror(-rc));
    return rc;
  }
  if ((rc = cpu_set_xcr0(vcpu_fd, xcr0)) < 0) {
    vlog(VLOG_ERROR, "cannot set XCR0 to %#llx: %s", (unsigned long long)xcr0, strerror(-rc));
    return rc;
  }
  if ((rc = cpu_set_msrs(vcpu_fd)) < 0) {
    vlog(VLOG_ERROR, "cannot set the vCPU's SYSCALL MSRs");
    return rc;
  }
  return 0;
}
