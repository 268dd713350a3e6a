/* density_opts.h - bench/density's flags. */
#ifndef HEARTH_BENCH_DENSITY_OPTS_H
#define HEARTH_BENCH_DENSITY_OPTS_H

#include <stdio.h>

#include "cmdline.h"
#include "density.h"

/* Fills *o from argv, starting from the build tree's defaults. On
 * CMDLINE_ERROR, err says why. */
enum cmdline_action dn_opts_parse(int argc, char **argv, struct dn_options *o, char *err,
                                  size_t errlen);
void dn_opts_usage(FILE *out);

#endif
