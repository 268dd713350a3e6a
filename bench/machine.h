/* machine.h - what a benchmark result must say about where it ran. */
#ifndef HEARTH_BENCH_MACHINE_H
#define HEARTH_BENCH_MACHINE_H

struct machine {
  char date[40];    /* UTC, e.g. "2025-11-25 14:10 UTC" */
  long nproc;       /* online CPUs */
  char kernel[128]; /* uname -r */
  char cpu[128];    /* /proc/cpuinfo "model name" */
  char kvm[64];     /* "PVM (kvm_pvm)", "hardware (kvm_intel)", ... from /sys/module */
  char runsc[128];  /* first line of `runsc --version`, or why there is none */
};

/* Fills *m; a field that cannot be found says "unknown". runsc may be NULL
 * (gVisor not measured). Runs `runsc --version` directly, without a shell. */
void machine_describe(struct machine *m, const char *runsc);

/* The load averages over 1, 5 and 15 minutes now; all -1 when unknown. */
void machine_loadavg(double out[3]);

#endif
