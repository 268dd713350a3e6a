/* runcmd.h - runs one command the way the benchmarks measure it: spawned
 * directly (posix_spawn, no shell) in its own process group, stdin an empty
 * pipe or a file, stdout/stderr pipes (the first bytes kept), wall time from
 * just before the spawn to the moment the child is reaped. */
#ifndef HEARTH_BENCH_RUNCMD_H
#define HEARTH_BENCH_RUNCMD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#define CMD_CAPTURE_MAX 8192 /* bytes kept of each of stdout and stderr */

struct cmd {
  char *const *argv; /* argv[0] is run as given, or searched in PATH if it has no '/' */
  char *const *envp;
  double timeout_s;                       /* the child's process group is killed past it */
  const volatile sig_atomic_t *interrupt; /* non-zero: stop the child now (may be NULL) */
  /* NULL: stdin, stdout and stderr are pipes (stdin empty, the others
   * captured). Otherwise all three are this file and nothing is captured:
   * for a child that leaves something running with its stdio open, which
   * would hold a pipe open past the child's exit. */
  const char *stdio_path;
  const char *stdin_path; /* with stdio_path NULL: stdin is this file, not an empty pipe */
};

struct capture {
  char buf[CMD_CAPTURE_MAX];
  size_t len;
  bool truncated; /* more was written than CMD_CAPTURE_MAX; the rest was discarded */
};

struct cmd_result {
  int spawn_errno;  /* non-zero: posix_spawn failed with this errno, nothing ran */
  bool reaped;      /* the child was reaped; status and maxrss_kib are valid */
  bool timed_out;   /* killed at the timeout */
  bool interrupted; /* killed because *interrupt was set */
  bool pipe_held;   /* the child exited but something kept its stdout/stderr open */
  int status;       /* wait status */
  double wall_ms;   /* spawn to reaped, CLOCK_MONOTONIC */
  long maxrss_kib;  /* wait4's ru_maxrss */
  struct capture out, err;
};

/* Runs c->argv to completion and fills *r (which may be large: keep it off
 * small stacks). Returns 0 when the child ran or could not be spawned (see
 * r->spawn_errno), or a negative errno when the harness itself failed (pipes,
 * pidfd). Never leaves a child unreaped. */
int run_cmd(const struct cmd *c, struct cmd_result *r);

#endif
