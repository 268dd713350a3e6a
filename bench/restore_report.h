/* restore_report.h - bench/restore's report: text (with the goals) and JSON. */
#ifndef HEARTH_BENCH_RESTORE_REPORT_H
#define HEARTH_BENCH_RESTORE_REPORT_H

#include <stdio.h>

#include "restore.h"

/* The p-th percentile (0 < p <= 1, nearest rank) of s; 0 for no samples. */
double rs_percentile(const struct series *s, double p);

void rs_report_text(FILE *out, const struct rs_options *o, const struct rs_result *r);
/* 0 or a negative errno. */
int rs_report_json(const char *path, const struct rs_options *o, const struct rs_result *r);

#endif
