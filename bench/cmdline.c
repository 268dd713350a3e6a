/* cmdline.c - the benchmarks' flag loop and number checks (cmdline.h). */
#include "cmdline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

enum cmdline_action cmdline_parse(int argc, char **argv, const char *shortopts,
                                  const struct option *longopts, cmdline_apply_fn *apply, void *ctx,
                                  char *err, size_t errlen) {
  int opt, index = -1;
  optind = 1;
  opterr = 0; /* we say what is wrong, once */
  while ((opt = getopt_long(argc, argv, shortopts, longopts, &index)) != -1) {
    if (opt == 'h')
      return CMDLINE_HELP;
    if (opt == '?' || opt == ':') {
      snprintf(err, errlen, "unknown flag, or flag without its value: %s", argv[optind - 1]);
      return CMDLINE_ERROR;
    }
    if (apply(ctx, opt, optarg) < 0) {
      if (index >= 0)
        snprintf(err, errlen, "bad value for --%s: %s", longopts[index].name, optarg);
      else
        snprintf(err, errlen, "bad value for -%c: %s", opt, optarg);
      return CMDLINE_ERROR;
    }
    index = -1; /* getopt_long sets it for long options only */
  }
  if (optind < argc) {
    snprintf(err, errlen, "unexpected argument %s", argv[optind]);
    return CMDLINE_ERROR;
  }
  return CMDLINE_RUN;
}

int cmdline_count(const char *s, size_t max, size_t *out) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || end == s || *end || *s == '-' || v < 1 || v > max)
    return -EINVAL;
  *out = v;
  return 0;
}

int cmdline_positive(const char *s, double max, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v > 0 && v <= max))
    return -EINVAL;
  *out = v;
  return 0;
}
