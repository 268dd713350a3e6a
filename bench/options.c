/* options.c - parses bench/start's flags into struct bench_options. */
#include "options.h"

#include <errno.h>
#include <string.h>

#ifndef BENCH_DEFAULT_HELLO
#define BENCH_DEFAULT_HELLO "hello"
#endif
#ifndef BENCH_DEFAULT_VMM
#define BENCH_DEFAULT_VMM "hearth-vmm"
#endif
#ifndef BENCH_DEFAULT_PYTHON
#define BENCH_DEFAULT_PYTHON "/usr/bin/python3"
#endif

#define RUNS_MAX 100000
#define TIMEOUT_MAX_S 3600.0
#define PAUSE_MAX_MS 10000.0

enum {
  OPT_SKIP_HEARTH = 256,
  OPT_SKIP_GVISOR,
  OPT_SKIP_GVISOR_EXEC,
  OPT_WORKLOAD,
  OPT_PYTHON,
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
    {"skip-gvisor-exec", no_argument, NULL, OPT_SKIP_GVISOR_EXEC},
    {"workload", required_argument, NULL, OPT_WORKLOAD},
    {"python", required_argument, NULL, OPT_PYTHON},
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
          "usage: bench/start [-n N] [--workload NAME]... [--skip-hearth] [--skip-gvisor]\n"
          "                   [--skip-gvisor-exec] [--json FILE] [--hello PATH] [--python PATH]\n"
          "                   [--vmm PATH] [--runsc PATH] [--platform NAME] [--timeout S]\n"
          "                   [--pause MS] [--expect LINE]\n"
          "Runs three workloads one after the other - a static hello, python3 -c pass and a\n"
          "python3 JSON one-liner - each N times as a plain process, under hearth-vmm, in a\n"
          "fresh gVisor sandbox (runsc do) and in a running one (runsc exec), alternating,\n"
          "and reports wall times, ratios, hearth-vmm's exits, page touches and peak RSS\n"
          "against the goals of issues 3 and 4.\n"
          "  -n, --runs N       timed runs of each kind in every workload (default: %d for\n"
          "                     the hello, %d for each python workload), after one untimed\n"
          "                     warm-up of each kind\n"
          "  --workload NAME    run only this workload (repeatable): hello, python-pass,\n"
          "                     python-json\n"
          "  --skip-hearth      do not run hearth-vmm; --skip-gvisor: no runsc at all;\n"
          "                     --skip-gvisor-exec: no warm sandbox\n"
          "  --json FILE        also write the summary as JSON\n"
          "  --hello PATH       the static program (default %s)\n"
          "  --python PATH      python3, an absolute path (default %s)\n"
          "  --vmm PATH         hearth-vmm (default %s)\n"
          "  --runsc PATH       runsc (default: runsc in PATH)\n"
          "  --platform NAME    runsc's platform (default ptrace: the one that works on PVM)\n"
          "  --timeout S        per run, default 30\n"
          "  --pause MS         idle time before every run, default 0\n"
          "  --expect LINE      the line hello must print (default: what the plain run prints)\n",
          RUNS_DEFAULT_HELLO, RUNS_DEFAULT_PYTHON, BENCH_DEFAULT_HELLO, BENCH_DEFAULT_PYTHON,
          BENCH_DEFAULT_VMM);
}

static void set_defaults(struct bench_options *o) {
  memset(o, 0, sizeof *o);
  for (int w = 0; w < WORKLOAD_COUNT; w++)
    o->runs[w] = workload_spec(w)->python ? RUNS_DEFAULT_PYTHON : RUNS_DEFAULT_HELLO;
  o->hello = BENCH_DEFAULT_HELLO;
  o->python = BENCH_DEFAULT_PYTHON;
  o->vmm = BENCH_DEFAULT_VMM;
  o->runsc = "runsc";
  o->platform = "ptrace";
  o->timeout_s = 30;
}

/* What apply works on: the options, and whether a --workload was given
 * yet (the first one skips the workloads not named). */
struct parse_state {
  struct bench_options *o;
  bool workload_named;
};

/* -n: the same count for every workload. */
static int parse_runs(const char *s, size_t runs[WORKLOAD_COUNT]) {
  size_t v;
  if (cmdline_count(s, RUNS_MAX, &v) < 0)
    return -EINVAL;
  for (int w = 0; w < WORKLOAD_COUNT; w++)
    runs[w] = v;
  return 0;
}

static int select_workload(struct parse_state *ps, const char *key) {
  int w = workload_by_key(key);
  if (w < 0)
    return w;
  if (!ps->workload_named)
    for (int i = 0; i < WORKLOAD_COUNT; i++)
      ps->o->skip_workload[i] = true;
  ps->workload_named = true;
  ps->o->skip_workload[w] = false;
  return 0;
}

static int parse_pause(const char *s, double *out) {
  if (strcmp(s, "0") == 0) {
    *out = 0;
    return 0;
  }
  return cmdline_positive(s, PAUSE_MAX_MS, out);
}

/* Applies one parsed flag (a cmdline_apply_fn). Returns 0 or -EINVAL. */
static int apply(void *ctx, int opt, const char *arg) {
  struct parse_state *ps = ctx;
  struct bench_options *o = ps->o;
  switch (opt) {
  case 'n':
    return parse_runs(arg, o->runs);
  case OPT_TIMEOUT:
    return cmdline_positive(arg, TIMEOUT_MAX_S, &o->timeout_s);
  case OPT_PAUSE:
    return parse_pause(arg, &o->pause_ms);
  case OPT_SKIP_HEARTH:
    o->skip[KIND_HEARTH] = true;
    return 0;
  case OPT_SKIP_GVISOR:
    o->skip[KIND_GVISOR] = o->skip[KIND_GVISOR_EXEC] = true;
    return 0;
  case OPT_SKIP_GVISOR_EXEC:
    o->skip[KIND_GVISOR_EXEC] = true;
    return 0;
  case OPT_WORKLOAD:
    return select_workload(ps, arg);
  case OPT_PYTHON:
    o->python = arg;
    return arg[0] == '/' ? 0 : -EINVAL; /* the same path on the host and in the guest */
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

enum cmdline_action options_parse(int argc, char **argv, struct bench_options *o, char *err,
                                  size_t errlen) {
  set_defaults(o);
  struct parse_state ps = {.o = o};
  enum cmdline_action a = cmdline_parse(argc, argv, "n:h", long_options, apply, &ps, err, errlen);
  if (a == CMDLINE_RUN && o->expect && strchr(o->expect, '\n')) {
    snprintf(err, errlen, "--expect takes one line");
    return CMDLINE_ERROR;
  }
  return a;
}
