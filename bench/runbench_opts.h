/* runbench_opts.h - bench/run's flags. */
#ifndef HEARTH_BENCH_RUNBENCH_OPTS_H
#define HEARTH_BENCH_RUNBENCH_OPTS_H

#include <stdio.h>

#include "cmdline.h"
#include "runbench.h"

/* Fills *o from argv, starting from the defaults (the build tree's paths,
 * set by the build). On CMDLINE_ERROR, err says why. The strings in *o
 * point into argv or are static. */
enum cmdline_action rb_opts_parse(int argc, char **argv, struct rb_options *o, char *err,
                                  size_t errlen);
void rb_opts_usage(FILE *out);

#endif
