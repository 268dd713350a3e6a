/* runbench_spawn.h - one measured run for bench/run: spawned directly
 * (posix_spawn, no shell) in its own process group, stdin a file, stdout
 * and stderr pipes (the first bytes kept), wall time from just before the
 * spawn to the reap (a pidfd says when it exited). */
#ifndef HEARTH_BENCH_RUNBENCH_SPAWN_H
#define HEARTH_BENCH_RUNBENCH_SPAWN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#define RB_CAPTURE 4096

struct rb_run {
  char *const *argv;
  const char *stdin_path;
  double timeout_s;
  const volatile sig_atomic_t *interrupt;
};

struct rb_outcome {
  int spawn_errno;
  bool timed_out, interrupted;
  int status; /* wait status */
  double wall_ms;
  char out[RB_CAPTURE], err[RB_CAPTURE];
  size_t out_len, err_len; /* bytes kept (the rest is dropped) */
};

/* 0 when it ran (or could not be spawned: o->spawn_errno), -errno when the
 * harness failed. Never leaves a child unreaped. */
int rb_spawn(const struct rb_run *r, struct rb_outcome *o);

#endif
