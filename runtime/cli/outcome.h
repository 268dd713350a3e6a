/* outcome.h - how one `hearth run` ended: its exit status (ARCHITECTURE.md,
 * "Exit statuses") and the one line on stderr that says what happened. The
 * first thing decided wins: a later failure while cleaning up does not hide
 * the reason the run stopped. */
#ifndef HEARTH_CLI_OUTCOME_H
#define HEARTH_CLI_OUTCOME_H

#include <stdbool.h>
#include <stdint.h>

#include "msgs.h"

#define EXIT_TIMEOUT 124
#define EXIT_HEARTH 125 /* hearth itself failed: flags, image, code, VM */
#define EXIT_NOT_EXECUTABLE 126
#define EXIT_NOT_FOUND 127
#define EXIT_SIGNAL(n) (128 + (n))

struct outcome {
  bool set;
  int status;
  char line[1024]; /* without "hearth: " */
};

/* Decides the outcome unless it is decided already. */
void outcome_set(struct outcome *o, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* From a RESULT frame. cap: the response cap asked for. */
void outcome_from_result(struct outcome *o, const struct msg_result *r, uint64_t response_cap);

/* From hearth-vmm's own exit (code as vmmproc_exit_code) when no RESULT
 * came: 124 a timeout, 128+N a signal, else a VM failure; reason is the
 * VMM's last words, doing what hearth was doing then ("starting the VM"). */
void outcome_from_vmm_exit(struct outcome *o, int code, const char *reason, const char *doing,
                           double timeout_s);

/* "hearth: <line>" on stderr. */
void outcome_print(const struct outcome *o);

/* "12 B", "3.5 KiB", "6.0 MiB" into buf. */
const char *outcome_size(uint64_t bytes, char *buf, unsigned cap);

/* "SIGSEGV", or "signal N". */
const char *outcome_signal_name(int signo, char *buf, unsigned cap);

#endif
