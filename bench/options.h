/* options.h - bench/start's command line. */
#ifndef HEARTH_BENCH_OPTIONS_H
#define HEARTH_BENCH_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "bench.h"
#include "workload.h"

enum options_action { OPTIONS_RUN, OPTIONS_HELP, OPTIONS_ERROR };

/* Fills *o from argv, starting from the defaults (BENCH_DEFAULT_HELLO,
 * BENCH_DEFAULT_PYTHON and BENCH_DEFAULT_VMM, set by the build). On
 * OPTIONS_ERROR, err says why. The strings in *o point into argv or are
 * static. */
enum options_action options_parse(int argc, char **argv, struct bench_options *o, char *err,
                                  size_t errlen);

void options_usage(FILE *out);

#endif
