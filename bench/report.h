/* report.h - prints a bench/start result for people, and writes it as JSON
 * for machines. */
#ifndef HEARTH_BENCH_REPORT_H
#define HEARTH_BENCH_REPORT_H

#include <stdio.h>

#include "bench.h"
#include "figures.h"

/* Prints the method, the machine, per-kind times, hearth's exits and RSS,
 * the failures, and each goal next to its measured figure. */
void report_text(FILE *out, const struct bench_options *o, const struct bench_result *r,
                 const struct figures *f);

/* Writes the same as one JSON object to path. Returns 0, -errno, or -ENOMEM. */
int report_json(const char *path, const struct bench_options *o, const struct bench_result *r,
                const struct figures *f);

#endif
