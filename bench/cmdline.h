/* cmdline.h - what bench/start, bench/run, bench/restore and bench/density share in reading their
 * flags: the getopt_long loop (-h asks for help; an unknown flag, a bad value or a stray argument
 * is an error that names it) and the checks of numbers. */
#ifndef HEARTH_BENCH_CMDLINE_H
#define HEARTH_BENCH_CMDLINE_H

#include <getopt.h>
#include <stddef.h>

enum cmdline_action { CMDLINE_RUN, CMDLINE_HELP, CMDLINE_ERROR };

/* Applies one flag: opt as getopt_long returns it, arg its value (NULL for
 * a flag without one). Returns 0, or -EINVAL when the value is bad. */
typedef int cmdline_apply_fn(void *ctx, int opt, const char *arg);

/* Hands every flag of argv to apply, in order. shortopts must hold "h",
 * which (like a long option mapped to 'h') stops at once with CMDLINE_HELP.
 * On CMDLINE_ERROR, err says why. */
enum cmdline_action cmdline_parse(int argc, char **argv, const char *shortopts,
                                  const struct option *longopts, cmdline_apply_fn *apply, void *ctx,
                                  char *err, size_t errlen);

/* A whole decimal count in [1, max]. 0 or -EINVAL. */
int cmdline_count(const char *s, size_t max, size_t *out);

/* A number in (0, max]. 0 or -EINVAL. */
int cmdline_positive(const char *s, double max, double *out);

#endif
