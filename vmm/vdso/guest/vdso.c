/* vdso.c - hearth's guest vDSO: the time functions Linux's vDSO exports, by
 * the names and version (LINUX_2.6) glibc and musl look up, computed from
 * rdtsc and the vvar page one page below this image (vvar.h). Built
 * freestanding into a shared object of its own (vdso.lds, vdso.map) and
 * run by the guest at CPL 3, never by the VMM.
 *
 * What the page cannot answer goes to the VMM as a system call. The call
 * is written directly as hearth's rewritten form, `out PORT_SYSCALL, al`
 * with the syscall's registers: one exit, and no `syscall` instruction for
 * anyone to rewrite (the loader never scans this image) or for the slower
 * LSTAR path to catch. Like a real system call it returns in RAX and
 * clobbers RCX and R11. */
#include <asm/unistd.h>
#include <stdbool.h>
#include <stdint.h>

#include "mem/layout.h"
#include "vdso/vvar.h"

#define EXPORT __attribute__((visibility("default")))
#define NS_PER_S 1000000000LL

/* The page below the image (vdso.lds places the symbol there). */
extern const struct vdso_vvar vdso_vvar_page __attribute__((visibility("hidden")));

/* The guest ABI's structures (x86-64 Linux). */
struct vdso_timespec {
  int64_t tv_sec, tv_nsec;
};
struct vdso_timeval {
  int64_t tv_sec, tv_usec;
};
struct vdso_timezone {
  int32_t tz_minuteswest, tz_dsttime;
};

static long vdso_syscall2(long nr, long a0, long a1) {
  long ret;
  __asm__ volatile("out %%al, %[port]"
                   : "=a"(ret)
                   : "a"(nr), "D"(a0), "S"(a1), [port] "i"(PORT_SYSCALL)
                   : "rcx", "r11", "memory");
  return ret;
}

/* lfence keeps rdtsc from running ahead of the loads before it (the
 * sequence count), as Linux's rdtsc_ordered does. */
static inline uint64_t vdso_rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi)::"memory");
  return ((uint64_t)hi << 32) | lo;
}

static inline void compiler_barrier(void) { __asm__ volatile("" ::: "memory"); }

/* Clock `clk` now, in ns; false when the VMM must answer: the page is not in
 * TSC mode, is being written, does not serve clk, or its line is stale. */
static bool vdso_clock_ns(int clk, int64_t *ns) {
  const struct vdso_vvar *v = &vdso_vvar_page;
  uint32_t seq = __atomic_load_n(&v->seq, __ATOMIC_ACQUIRE);
  if ((seq & 1) || v->mode != VVAR_MODE_TSC)
    return false;
  uint64_t tsc = vdso_rdtsc();
  bool ok = tsc - v->mono.tsc_base <= v->horizon && vvar_clock_ns(v, clk, tsc, ns);
  compiler_barrier();
  return ok && __atomic_load_n(&v->seq, __ATOMIC_ACQUIRE) == seq;
}

/* Floor division, so a time before 1970 keeps its fraction in range. */
static void split_ns(int64_t ns, int64_t unit, int64_t *whole, int64_t *frac) {
  *whole = ns / NS_PER_S;
  *frac = ns % NS_PER_S;
  if (*frac < 0) {
    (*whole)--;
    *frac += NS_PER_S;
  }
  *frac /= unit;
}

EXPORT int __vdso_clock_gettime(int clk, struct vdso_timespec *ts) {
  int64_t ns;
  if (!vdso_clock_ns(clk, &ns))
    return (int)vdso_syscall2(__NR_clock_gettime, clk, (long)ts);
  split_ns(ns, 1, &ts->tv_sec, &ts->tv_nsec);
  return 0;
}

EXPORT int __vdso_gettimeofday(struct vdso_timeval *tv, struct vdso_timezone *tz) {
  int64_t ns;
  if (!vdso_clock_ns(VVAR_CLOCK_REALTIME, &ns))
    return (int)vdso_syscall2(__NR_gettimeofday, (long)tv, (long)tz);
  if (tv)
    split_ns(ns, 1000, &tv->tv_sec, &tv->tv_usec);
  if (tz) /* UTC without DST, as the VMM answers */
    *tz = (struct vdso_timezone){0, 0};
  return 0;
}

EXPORT long __vdso_time(long *t) {
  int64_t ns, sec, frac;
  if (!vdso_clock_ns(VVAR_CLOCK_REALTIME, &ns))
    return vdso_syscall2(__NR_time, (long)t, 0);
  split_ns(ns, 1, &sec, &frac);
  if (t)
    *t = sec;
  return sec;
}

/* The fine clocks tick in nanoseconds; the coarse ones report the host's
 * coarse resolution, as the VMM does. */
EXPORT int __vdso_clock_getres(int clk, struct vdso_timespec *res) {
  const struct vdso_vvar *v = &vdso_vvar_page;
  int64_t ns;
  if (v->mode != VVAR_MODE_TSC || !vvar_clock_ns(v, clk, 0, &ns))
    return (int)vdso_syscall2(__NR_clock_getres, clk, (long)res);
  bool coarse = clk == VVAR_CLOCK_REALTIME_COARSE || clk == VVAR_CLOCK_MONOTONIC_COARSE;
  if (res)
    *res = (struct vdso_timespec){0, coarse ? v->coarse_res : 1};
  return 0;
}

/* The guest has one CPU, number 0, on node 0. */
EXPORT long __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused) {
  (void)unused;
  if (cpu)
    *cpu = 0;
  if (node)
    *node = 0;
  return 0;
}

/* The names without the prefix, as Linux's vDSO also exports them. */
#define ALIAS(name) EXPORT __attribute__((weak, alias(name)))
ALIAS("__vdso_clock_gettime") int clock_gettime(int, struct vdso_timespec *);
ALIAS("__vdso_gettimeofday") int gettimeofday(struct vdso_timeval *, struct vdso_timezone *);
ALIAS("__vdso_time") long time(long *);
ALIAS("__vdso_clock_getres") int clock_getres(int, struct vdso_timespec *);
ALIAS("__vdso_getcpu") long getcpu(unsigned *, unsigned *, void *);
