/* hwcap.c - CPU-dependent auxv values from the host's cpuid (see hwcap.h). */
#include "loader/hwcap.h"

#include <cpuid.h>

#define CPUID_XSAVE_LEAF 0xd
#define FXSAVE_AREA 512u
/* siginfo (128) + ucontext without its FP area (~450) + return address,
 * red zone (128) and alignment slack, generously rounded. */
#define SIGFRAME_OVERHEAD 1024u

uint64_t hwcap_at_hwcap(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d))
    return 0;
  return d;
}

static uint64_t xsave_area_max(void) {
  unsigned a, b, c, d;
  if (__get_cpuid_max(0, 0) < CPUID_XSAVE_LEAF)
    return FXSAVE_AREA;
  __cpuid_count(CPUID_XSAVE_LEAF, 0, a, b, c, d);
  return c > FXSAVE_AREA ? c : FXSAVE_AREA; /* ECX: all supported features */
}

uint64_t hwcap_min_sigstksz(void) {
  uint64_t size = (xsave_area_max() + SIGFRAME_OVERHEAD + 63) & ~63ULL;
  return size > HWCAP_MIN_SIGSTKSZ ? size : HWCAP_MIN_SIGSTKSZ;
}
