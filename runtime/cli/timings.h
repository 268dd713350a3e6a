/* timings.h - when each phase of one `hearth run` began and ended
 * (CLOCK_MONOTONIC ms; 0: not reached), and --timings FILE: the phases as
 * JSON, for bench/run. */
#ifndef HEARTH_CLI_TIMINGS_H
#define HEARTH_CLI_TIMINGS_H

#include <stdint.h>

struct timings {
  double start;         /* hearth run began */
  double spawn;         /* just before posix_spawn of hearth-vmm */
  double ready;         /* "ready" read from --ready-fd */
  double hello;         /* HELLO received */
  double load;          /* just before LOAD was sent */
  double loaded;        /* LOADED received */
  double invoke;        /* just before INVOKE was sent */
  double result;        /* RESULT received */
  double end;           /* the VM was killed, reaped and its directory removed */
  uint64_t handler_us;  /* RESULT's duration_us */
  const char *snapshot; /* "restored", "created", "off" (--no-snapshot) or "none" (not made) */
};

/* Writes t as JSON to path (a temporary file renamed over it, so a reader
 * never sees half of it): vm_start_ms (spawn to ready), connect_ms (ready
 * to HELLO), code_load_ms (LOAD to LOADED), invoke_ms (INVOKE to RESULT),
 * teardown_ms (RESULT, or the last phase reached, to end), total_ms, the
 * handler's own duration, what snapshot was used ("snapshot") and the exit status; a phase not
 * reached is null. 0 or -errno. */
int timings_write(const char *path, const struct timings *t, int status);

#endif
