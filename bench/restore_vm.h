/* restore_vm.h - what bench/restore and bench/density do to one hearth-vmm:
 * spawn it directly (posix_spawn, no shell, its own process group) with a
 * ready pipe on fd 3, wait for its "ready" line, read hearth-init's HELLO
 * through its vsock bridge, drive its control socket, and end it (SIGKILL to
 * its process group, then reaped). Every wait blocks in poll with a
 * deadline; nothing spins. */
#ifndef HEARTH_BENCH_RESTORE_VM_H
#define HEARTH_BENCH_RESTORE_VM_H

#include <stddef.h>
#include <sys/types.h>

#define RVM_READY_FD 3   /* the ready pipe's number in the VMM (--ready-fd 3) */
#define RVM_INIT_PORT 52 /* hearth-init's vsock port (PROTOCOL.md) */

struct rvm {
  pid_t pid;       /* 0: not running */
  int pidfd;       /* readable once it exited */
  int ready_fd;    /* read end of its ready pipe, -1 once read or closed */
  double spawn_ms; /* CLOCK_MONOTONIC just before posix_spawn */
};

/* CLOCK_MONOTONIC in milliseconds. */
double rvm_now_ms(void);

/* Spawns argv[0] (a path) with argv and an empty environment: stdin
 * /dev/null, stdout and stderr appended to log_path, the ready pipe on
 * RVM_READY_FD. 0 or a negative errno (nothing is left running then). */
int rvm_spawn(struct rvm *v, char *const argv[], const char *log_path);

/* Reads "ready\n" from the ready pipe. 0, -ETIMEDOUT past deadline_ms, or
 * -ECHILD when the pipe closed without it (the VMM ended). */
int rvm_wait_ready(struct rvm *v, double deadline_ms);

/* Checks what is readable on the ready pipe now (after poll said so): 1 when
 * "ready\n" is complete, 0 to wait more, -ECHILD when it closed without it. */
int rvm_read_ready(struct rvm *v);

/* The first line of the VMM's log at log (without its newline), for a
 * failure message; "" when there is none. */
void rvm_log_first_line(const char *log, char *out, size_t cap);

/* What a negative return of these functions means, in words. */
const char *rvm_why(int rc);

/* Through the bridge at uds: CONNECT RVM_INIT_PORT, "OK n", then one HELLO
 * frame (header checked, payload at most 64 KiB) whose JSON goes to json
 * (NUL-terminated, truncated to cap). 0, -ETIMEDOUT, -EPROTO or -errno. */
int rvm_hello(const char *uds, double deadline_ms, char *json, size_t cap);

/* Sends each request of lines (NULL-terminated) to the control socket at
 * api and checks each reply says "ok":true; on a refusal err holds it.
 * 0, -EPROTO (refused), -ETIMEDOUT or -errno. */
int rvm_api(const char *api, const char *const *lines, double deadline_ms, char *err,
            size_t errlen);

/* Connects to v's control socket at api, retrying every millisecond (a
 * blocking wait on v's exit, not a spin) until v has made it, up to
 * deadline_ms. The connected fd, or -ECHILD (v ended), -ETIMEDOUT or
 * -errno. */
int rvm_api_open(struct rvm *v, const char *api, double deadline_ms);

/* Waits until it exits on its own (until deadline_ms, then kills it) and
 * reaps it. Its wait status. */
int rvm_wait_exit(struct rvm *v, double deadline_ms);

/* SIGKILL to its process group and to it, reaped. Its wait status, or -1
 * when it was not running. */
int rvm_end(struct rvm *v);

#endif
