/* runbench_opts.h - bench/run's flags. */
#ifndef HEARTH_BENCH_RUNBENCH_OPTS_H
#define HEARTH_BENCH_RUNBENCH_OPTS_H

#include <stdio.h>

#include "runbench.h"

enum rb_opts_result { RB_OPTS_RUN, RB_OPTS_HELP, RB_OPTS_ERROR };

enum rb_opts_result rb_opts_parse(int argc, char **argv, struct rb_options *o, char *err,
                                  size_t errlen);
void rb_opts_usage(FILE *out);

#endif
