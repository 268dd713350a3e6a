/* diag.h - hearth-vmm's own output (its stdout and stderr, one pipe): kept
 * as a bounded tail so a failure can be explained with the VMM's last line,
 * and copied to our stderr as it comes with --verbose. The pipe is always
 * drained, so a chatty VMM never blocks on it. */
#ifndef HEARTH_CLI_DIAG_H
#define HEARTH_CLI_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#define DIAG_TAIL 4096

struct diag {
  int fd;       /* read end, non-blocking; -1 once at end of file */
  bool forward; /* copy to stderr as it arrives */
  char tail[DIAG_TAIL];
  size_t len;
};

/* Reads what is there now (never blocks). */
void diag_drain(struct diag *d);

/* Reads until end of file: for after the VMM has exited. */
void diag_drain_all(struct diag *d);

/* Why the VMM failed, in its own words: its last error line (else its last
 * line) without the "hearth-vmm: <level>: " prefix, into buf; "" when it
 * said nothing. */
const char *diag_reason(const struct diag *d, char *buf, size_t cap);

void diag_close(struct diag *d);

#endif
