/* bgvmm.h - a hearth-vmm running in the background for the control-socket
 * and snapshot tests: its output in files, an optional --ready-fd pipe,
 * JSON-lines requests on its --api-sock, and a host peer for a guest vsock
 * echo server behind --vsock-uds. Every wait is bounded (BGVMM_WAIT_MS);
 * failures fail the test with the VMM's stderr. */
#ifndef HEARTH_ITEST_BGVMM_H
#define HEARTH_ITEST_BGVMM_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define BGVMM_WAIT_MS 20000

struct bgvmm {
  pid_t pid;
  int ready; /* read end of the --ready-fd pipe (fd 3 in the VMM), or -1 */
  char out[PATH_MAX], err[PATH_MAX];
};

/* Starts HEARTH_VMM_PATH with argv[1..] (argv NULL-terminated, argv[0]
 * ignored); stdout and stderr go to dir/<tag>.out and dir/<tag>.err; with
 * `ready`, a pipe is its fd 3 (pass "--ready-fd", "3" in argv). */
void bgvmm_start(struct bgvmm *v, const char *dir, const char *tag, const char *const *argv,
                 int ready);
/* Waits for "ready\n" on the --ready-fd pipe. */
void bgvmm_wait_ready(struct bgvmm *v);
/* Waits for it to exit (killed after BGVMM_WAIT_MS): the exit status, or
 * 1000 + signal. */
int bgvmm_finish(struct bgvmm *v);
/* Its stdout or stderr so far (static storage, overwritten by the next call). */
const char *bgvmm_output(const char *path);

/* A connection to the control socket at path, retried until the VMM has
 * made it (bounded). */
int bgvmm_api_connect(const char *path);
/* Sends `line` plus a newline and returns the reply line (static storage,
 * newline stripped). */
const char *bgvmm_api(int fd, const char *line);
/* Sends len raw bytes (no newline added). */
void bgvmm_api_send(int fd, const void *p, size_t len);
/* The next reply line (static storage, newline stripped). */
const char *bgvmm_api_reply(int fd);

/* Through the bridge at uds: CONNECT port and return the first line the
 * guest sends (static storage, newline stripped). */
const char *bgvmm_vsock_line(const char *uds, unsigned port);
/* Through the bridge at uds: CONNECT port, send msg, and check the guest
 * echoes it back; the connection is then closed. */
void bgvmm_echo(const char *uds, unsigned port, const char *msg);

#endif
