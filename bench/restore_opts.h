/* restore_opts.h - bench/restore's flags. */
#ifndef HEARTH_BENCH_RESTORE_OPTS_H
#define HEARTH_BENCH_RESTORE_OPTS_H

#include <stdio.h>

#include "cmdline.h"
#include "restore.h"

/* Fills *o from argv, starting from the build tree's defaults. On
 * CMDLINE_ERROR, err says why. */
enum cmdline_action rs_opts_parse(int argc, char **argv, struct rs_options *o, char *err,
                                  size_t errlen);
void rs_opts_usage(FILE *out);

#endif
