/* bench_main.h - what the benchmarks' main functions share: their exit
 * statuses, what to do once the flags are read, SIGINT/SIGTERM ending a
 * benchmark early, and removing its work directory. */
#ifndef HEARTH_BENCH_BENCH_MAIN_H
#define HEARTH_BENCH_BENCH_MAIN_H

#include <signal.h>
#include <stdio.h>

#include "cmdline.h"

enum { EXIT_ALL_OK = 0, EXIT_RUNS_FAILED = 1, EXIT_USAGE = 2, EXIT_HARNESS = 3 };

/* Non-zero once SIGINT or SIGTERM came (after bench_catch_signals). */
extern volatile sig_atomic_t bench_interrupted;

/* Sets bench_interrupted on SIGINT and SIGTERM, without SA_RESTART so that a
 * blocked poll returns EINTR and the benchmark stops early. */
void bench_catch_signals(void);

/* After cmdline_parse: CMDLINE_HELP prints usage to stdout and gives
 * EXIT_ALL_OK; CMDLINE_ERROR prints "name: err" and usage to stderr and gives
 * EXIT_USAGE; CMDLINE_RUN gives -1 (go on). */
int bench_cmdline_exit(enum cmdline_action a, const char *name, const char *err,
                       void (*usage)(FILE *out));

/* Removes dir and everything under it, never following a symlink. 0, or -1
 * (errno set) when something could not be removed. */
int bench_remove_tree(const char *dir);

#endif
