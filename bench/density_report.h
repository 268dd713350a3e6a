/* density_report.h - bench/density's report: text (with the goals) and JSON. */
#ifndef HEARTH_BENCH_DENSITY_REPORT_H
#define HEARTH_BENCH_DENSITY_REPORT_H

#include <stdio.h>

#include "density.h"

void dn_report_text(FILE *out, const struct dn_options *o, const struct dn_result *r);
/* 0 or a negative errno. */
int dn_report_json(const char *path, const struct dn_options *o, const struct dn_result *r);

#endif
