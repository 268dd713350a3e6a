/* options.c - parses bench/start's flags into struct bench_options. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#ifndef BENCH_DEFAULT_HELLO
#define BENCH_DEFAULT_HELLO "hello"
#endif
#ifndef BENCH_DEFAULT_VMM
#define BENCH_DEFAULT_VMM "hearth-vmm"
#endif

#define RUNS_MAX 100000
#define TIMEOUT_MAX_S 3600.0
#define PAUSE_MAX_MS 10000.0

enum {
  OPT_SKIP_HEARTH = 256,
  OPT_SKIP_GVISOR,
  OPT_JSON,
  OPT_HELLO,
  OPT_VMM,
  OPT_RUNSC,
  OPT_PLATFORM,
  OPT_TIMEOUT,
  OPT_EXPECT,
  OPT_PAUSE
};

static const struct option long_options[] = {
    {"runs", required_argument, NULL, 'n'},
    {"skip-hearth", no_argument, NULL, OPT_SKIP_HEARTH},
    {"skip-gvisor", no_argument, NULL, OPT_SKIP_GVISOR},
    {"json", required_argument, NULL, OPT_JSON},
    {"hello", required_argument, NULL, OPT_HELLO},
    {"vmm", required_argument, NULL, OPT_VMM},
    {"runsc", required_argument, NULL, OPT_RUNSC},
    {"platform", required_argument, NULL, OPT_PLATFORM},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"expect", required_argument, NULL, OPT_EXPECT},
    {"pause", required_argument, NULL, OPT_PAUSE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void options_usage(FILE *out) {
  fprintf(out,
          "usage: bench/start [-n N] [--skip-hearth] [--skip-gvisor] [--json FILE]\n"
          "                   [--hello PATH] [--vmm PATH] [--runsc PATH] [--platform NAME]\n"
          "                   [--timeout S] [--pause MS] [--expect LINE]\n"
          "Runs a static hello N times (default 50) as a plain process, under hearth-vmm\n"
          "and under gVisor (runsc do), alternating, and reports wall times, ratios,\n"
          "hearth-vmm's exits per run and peak RSS against issue 3's goals.\n"
          "  -n, --runs N     timed runs of each kind (after one untimed warm-up of each)\n"
          "  --skip-hearth    do not run hearth-vmm; --skip-gvisor: do not run runsc\n"
          "  --json FILE      also write the summary as JSON\n"
          "  --hello PATH     the static program (default %s)\n"
          "  --vmm PATH       hearth-vmm (default %s)\n"
          "  --runsc PATH     runsc (default: runsc in PATH)\n"
          "  --platform NAME  runsc's platform (default ptrace: the one that works on PVM)\n"
          "  --timeout S      per run, default 30\n"
          "  --pause MS       idle time before every run, default 0\n"
          "  --expect LINE    the line hello must print (default: what the plain run prints)\n",
          BENCH_DEFAULT_HELLO, BENCH_DEFAULT_VMM);
}

static void set_defaults(struct bench_options *o) {
  memset(o, 0, sizeof *o);
  o->runs = 50;
  o->hello = BENCH_DEFAULT_HELLO;
  o->vmm = BENCH_DEFAULT_VMM;
  o->runsc = "runsc";
  o->platform = "ptrace";
  o->timeout_s = 30;
}

static int parse_runs(const char *s, size_t *out) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || end == s || *end || *s == '-' || v < 1 || v > RUNS_MAX)
    return -EINVAL;
  *out = v;
  return 0;
}

/* A number in (0, max]. */
static int parse_seconds(const char *s, double max, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v > 0 && v <= max))
    return -EINVAL;
  *out = v;
  return 0;
}

static int parse_pause(const char *s, double *out) {
  if (strcmp(s, "0") == 0) {
    *out = 0;
    return 0;
  }
  return parse_seconds(s, PAUSE_MAX_MS, out);
}

/* Applies one parsed flag. Returns 0 or -EINVAL. */
static int apply(struct bench_options *o, int opt, const char *arg) {
  switch (opt) {
  case 'n':
    return parse_runs(arg, &o->runs);
  case OPT_TIMEOUT:
    return parse_seconds(arg, TIMEOUT_MAX_S, &o->timeout_s);
  case OPT_PAUSE:
    return parse_pause(arg, &o->pause_ms);
  case OPT_SKIP_HEARTH:
    o->skip[KIND_HEARTH] = true;
    return 0;
  case OPT_SKIP_GVISOR:
    o->skip[KIND_GVISOR] = true;
    return 0;
  case OPT_JSON:
    o->json = arg;
    return 0;
  case OPT_HELLO:
    o->hello = arg;
    return 0;
  case OPT_VMM:
    o->vmm = arg;
    return 0;
  case OPT_RUNSC:
    o->runsc = arg;
    return 0;
  case OPT_PLATFORM:
    o->platform = arg;
    return 0;
  case OPT_EXPECT:
    o->expect = arg;
    return 0;
  default:
    return -EINVAL;
  }
}

enum options_action options_parse(int argc, char **argv, struct bench_options *o, char *err,
                                  size_t errlen) {
  set_defaults(o);
  int opt, index = -1;
  optind = 1;
  opterr = 0;
  while ((opt = getopt_long(argc, argv, "n:h", long_options, &index)) != -1) {
    if (opt == 'h')
      return OPTIONS_HELP;
    if (opt == '?' || opt == ':') {
      snprintf(err, errlen, "unknown flag, or flag without its value: %s", argv[optind - 1]);
      return OPTIONS_ERROR;
    }
    if (apply(o, opt, optarg) < 0) {
      snprintf(err, errlen, "bad value for %s%s: %s", index >= 0 ? "--" : "-",
               index >= 0 ? long_options[index].name : "n", optarg);
      return OPTIONS_ERROR;
    }
    index = -1;
  }
  if (optind < argc) {
    snprintf(err, errlen, "unexpected argument %s", argv[optind]);
    return OPTIONS_ERROR;
  }
  if (o->expect && strchr(o->expect, '\n')) {
    snprintf(err, errlen, "--expect takes one line");
    return OPTIONS_ERROR;
  }
  return OPTIONS_RUN;
}
