/* verdict.h - whether one run of hello did its job: spawned, not killed,
 * exit status 0, exactly the expected stdout, pipes closed at exit. */
#ifndef HEARTH_BENCH_VERDICT_H
#define HEARTH_BENCH_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "runcmd.h"

/* Returns true when r, a run of `program`, succeeded printing exactly
 * expected[0..len). Otherwise writes why (one line, ending with the first
 * line of the run's stderr if any) into why[0..whylen) and returns false. */
bool run_succeeded(const char *program, const struct cmd_result *r, const char *expected,
                   size_t len, char *why, size_t whylen);

#endif
