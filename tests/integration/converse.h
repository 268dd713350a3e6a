/* converse.h - a hearth-vmm run the test talks to line by line: the guest
 * reads commands on its stdin and answers on its stdout while the test
 * reads the host's clocks around each exchange. stderr goes to a file so
 * that a failure can show it. */
#ifndef HEARTH_ITEST_CONVERSE_H
#define HEARTH_ITEST_CONVERSE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct converse {
  pid_t pid;
  int to_guest, from_guest; /* our ends of its stdin and stdout */
  char buf[4096];           /* bytes read but not yet returned as lines */
  size_t have;
};

/* Starts `path` with argv and envp, stdin and stdout on pipes, stderr
 * appended to err_path. 0 or a negative errno. */
int converse_start(struct converse *c, const char *path, char *const argv[], char *const envp[],
                   const char *err_path);

/* Writes `line` and a newline to its stdin. 0 or a negative errno. */
int converse_send(struct converse *c, const char *line);

/* The next line of its stdout, without the newline, into buf (cap bytes).
 * 0; -ETIMEDOUT after timeout_ms; -EPIPE at end of output; -EOVERFLOW for
 * a line longer than cap - 1. */
int converse_read_line(struct converse *c, char *buf, size_t cap, unsigned timeout_ms);

/* Closes its stdin and waits up to timeout_ms for it to exit (then kills
 * it). Its exit status, or 1000 + signal number when killed. */
int converse_finish(struct converse *c, unsigned timeout_ms);

#endif
