/* options.h - bench/start's command line. */
#ifndef HEARTH_BENCH_OPTIONS_H
#define HEARTH_BENCH_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "bench.h"
#include "cmdline.h"
#include "workload.h"

/* Fills *o from argv, starting from the defaults (BENCH_DEFAULT_HELLO,
 * BENCH_DEFAULT_PYTHON and BENCH_DEFAULT_VMM, set by the build). On
 * CMDLINE_ERROR, err says why. The strings in *o point into argv or are
 * static. */
enum cmdline_action options_parse(int argc, char **argv, struct bench_options *o, char *err,
                                  size_t errlen);

void options_usage(FILE *out);

#endif
