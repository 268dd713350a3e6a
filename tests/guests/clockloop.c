/* clockloop.c - reads CLOCK_MONOTONIC argv[1] times through the C library,
 * as Python does on every lock acquire, and checks it never goes back.
 * Also says whether it was given a vDSO (AT_SYSINFO_EHDR). Prints
 * "vdso: yes" or "vdso: no", then "clockloop: OK", or names the failure
 * and exits 1. Under hearth's vDSO the reads make no system calls, which
 * hearth-vmm's --stats shows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>

static long long ns_of(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  long n = argc == 2 ? strtol(argv[1], NULL, 10) : 0;
  if (n <= 0) {
    fprintf(stderr, "usage: clockloop COUNT\n");
    return 2;
  }
  printf("vdso: %s\n", getauxval(AT_SYSINFO_EHDR) ? "yes" : "no");
  long long prev = 0;
  for (long i = 0; i < n; i++) {
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) != 0) {
      printf("clockloop: FAIL: clock_gettime failed at read %ld\n", i);
      return 1;
    }
    if (t.tv_nsec < 0 || t.tv_nsec >= 1000000000 || ns_of(t) < prev) {
      printf("clockloop: FAIL: read %ld: %lld.%09ld after %lld ns\n", i, (long long)t.tv_sec,
             t.tv_nsec, prev);
      return 1;
    }
    prev = ns_of(t);
  }
  puts("clockloop: OK");
  return 0;
}
