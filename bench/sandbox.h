/* sandbox.h - the gVisor sandbox `runsc exec` runs in (gVisor warm): an OCI
 * bundle whose root is the host's "/" read-only and whose process only
 * sleeps, started once with `runsc run -detach` and deleted at the end. */
#ifndef HEARTH_BENCH_SANDBOX_H
#define HEARTH_BENCH_SANDBOX_H

#include "bench.h"

#define SANDBOX_FLAGS_MAX 8

struct sandbox {
  const char *runsc_flags[SANDBOX_FLAGS_MAX]; /* runsc and its global flags, NULL-terminated */
  const char *id;                             /* the container's name */
  const char *bundle;                         /* an existing directory for config.json */
  const char *stdio;                          /* a file: the sandbox's stdin, stdout, stderr */
  char *const *envp;
  double timeout_s; /* for each runsc command */
};

/* Writes the bundle's config.json and starts the sandbox. Fills *r: started
 * and the time it took, or why not (runsc's first line of output).
 * Returns 0 (whether or not it started) or a negative errno when the
 * harness itself failed. */
int sandbox_start(const struct sandbox *s, struct warm_sandbox_result *r);

/* Deletes a started sandbox (`runsc delete -force`); r->stop says why when
 * that failed. */
void sandbox_stop(const struct sandbox *s, struct warm_sandbox_result *r);

#endif
