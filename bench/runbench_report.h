/* runbench_report.h - bench/run's report: a text summary on stdout and,
 * with --json, the same figures as JSON. */
#ifndef HEARTH_BENCH_RUNBENCH_REPORT_H
#define HEARTH_BENCH_RUNBENCH_REPORT_H

#include <stdio.h>

#include "runbench.h"

void rb_report_text(FILE *out, const struct rb_options *o, const struct rb_result *r);

/* 0 or -errno. */
int rb_report_json(const char *path, const struct rb_options *o, const struct rb_result *r);

#endif
