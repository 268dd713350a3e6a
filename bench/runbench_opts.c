/* runbench_opts.c - parses bench/run's flags (runbench_opts.h). Defaults
 * are the build tree's paths, fixed by CMake. */
#include "runbench_opts.h"

#include <errno.h>
#include <string.h>

#ifndef RB_DEFAULT_HEARTH
#define RB_DEFAULT_HEARTH "hearth"
#endif
#ifndef RB_DEFAULT_IMAGES
#define RB_DEFAULT_IMAGES "images"
#endif
#ifndef RB_DEFAULT_KEYS
#define RB_DEFAULT_KEYS "keys"
#endif
#ifndef RB_DEFAULT_NATIVE_CODE
#define RB_DEFAULT_NATIVE_CODE "native-echo"
#endif
#ifndef RB_DEFAULT_PYTHON_CODE
#define RB_DEFAULT_PYTHON_CODE "python-echo"
#endif
#define RB_DEFAULT_PYTHON "/usr/bin/python3.11"
#define RUNS_MAX 100000
#define TIMEOUT_MAX_S 3600.0

enum {
  OPT_WORKLOAD = 256,
  OPT_JSON,
  OPT_HEARTH,
  OPT_IMAGES,
  OPT_KEYS,
  OPT_NATIVE_CODE,
  OPT_PYTHON_CODE,
  OPT_PYTHON,
  OPT_TIMEOUT,
  OPT_COLD
};

static const struct option long_options[] = {
    {"runs", required_argument, NULL, 'n'},
    {"workload", required_argument, NULL, OPT_WORKLOAD},
    {"json", required_argument, NULL, OPT_JSON},
    {"hearth", required_argument, NULL, OPT_HEARTH},
    {"images", required_argument, NULL, OPT_IMAGES},
    {"keys", required_argument, NULL, OPT_KEYS},
    {"native-code", required_argument, NULL, OPT_NATIVE_CODE},
    {"python-code", required_argument, NULL, OPT_PYTHON_CODE},
    {"python", required_argument, NULL, OPT_PYTHON},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"cold", no_argument, NULL, OPT_COLD},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void rb_opts_usage(FILE *out) {
  fprintf(out,
          "usage: bench/run [-n N] [--workload native|python]... [--json FILE] [--cold]\n"
          "                 [--hearth PATH] [--images DIR] [--keys DIR] [--native-code DIR]\n"
          "                 [--python-code DIR] [--python PATH] [--timeout S]\n"
          "Runs an echo handler, native and python, N times as a plain local process and\n"
          "under `hearth run` (a fresh microVM each time), alternating, and reports wall\n"
          "times, hearth's phases from --timings (VM start, connect, code load, invoke,\n"
          "teardown) and the ratios.\n"
          "  -n, --runs N       timed runs of each kind per workload (default %d), after\n"
          "                     one untimed warm-up of each\n"
          "  --workload NAME    only this workload (repeatable): native, python\n"
          "  --json FILE        also write the summary as JSON\n"
          "  --cold             drop the page cache (as root) before every run of every kind;\n"
          "                     hearth's image cache in its state directory is kept, as the\n"
          "                     plain runs keep their installed programs\n"
          "  --hearth PATH      the hearth CLI (default %s)\n"
          "  --images DIR       holds the base and python images (default %s)\n"
          "  --keys DIR         --trust for them (default %s)\n"
          "  --native-code DIR  the native echo bundle (default %s)\n"
          "  --python-code DIR  the python echo bundle (default %s)\n"
          "  --python PATH      python3 for the plain python runs (default %s)\n"
          "  --timeout S        per run (default 60)\n",
          RB_RUNS_DEFAULT, RB_DEFAULT_HEARTH, RB_DEFAULT_IMAGES, RB_DEFAULT_KEYS,
          RB_DEFAULT_NATIVE_CODE, RB_DEFAULT_PYTHON_CODE, RB_DEFAULT_PYTHON);
}

static void defaults(struct rb_options *o) {
  memset(o, 0, sizeof *o);
  o->runs = RB_RUNS_DEFAULT;
  o->hearth = RB_DEFAULT_HEARTH;
  o->images = RB_DEFAULT_IMAGES;
  o->keys = RB_DEFAULT_KEYS;
  o->native_code = RB_DEFAULT_NATIVE_CODE;
  o->python_code = RB_DEFAULT_PYTHON_CODE;
  o->python = RB_DEFAULT_PYTHON;
  o->timeout_s = 60;
}

/* What apply works on: the options and the workloads --workload named. */
struct parse_state {
  struct rb_options *o;
  bool picked[RB_WORKLOADS];
};

static int pick_workload(struct parse_state *ps, const char *name) {
  for (int w = 0; w < RB_WORKLOADS; w++)
    if (strcmp(name, rb_workload_key(w)) == 0) {
      ps->picked[w] = true;
      return 0;
    }
  return -EINVAL;
}

/* Applies one parsed flag (a cmdline_apply_fn). Returns 0 or -EINVAL. */
static int apply(void *ctx, int opt, const char *arg) {
  struct parse_state *ps = ctx;
  struct rb_options *o = ps->o;
  switch (opt) {
  case 'n':
    return cmdline_count(arg, RUNS_MAX, &o->runs);
  case OPT_WORKLOAD:
    return pick_workload(ps, arg);
  case OPT_TIMEOUT:
    return cmdline_positive(arg, TIMEOUT_MAX_S, &o->timeout_s);
  case OPT_JSON:
    o->json = arg;
    return 0;
  case OPT_HEARTH:
    o->hearth = arg;
    return 0;
  case OPT_IMAGES:
    o->images = arg;
    return 0;
  case OPT_KEYS:
    o->keys = arg;
    return 0;
  case OPT_NATIVE_CODE:
    o->native_code = arg;
    return 0;
  case OPT_PYTHON_CODE:
    o->python_code = arg;
    return 0;
  case OPT_PYTHON:
    o->python = arg;
    return 0;
  case OPT_COLD:
    o->cold = true;
    return 0;
  default:
    return -EINVAL;
  }
}

enum cmdline_action rb_opts_parse(int argc, char **argv, struct rb_options *o, char *err,
                                  size_t errlen) {
  defaults(o);
  struct parse_state ps = {.o = o};
  enum cmdline_action a = cmdline_parse(argc, argv, "n:h", long_options, apply, &ps, err, errlen);
  if (ps.picked[RB_NATIVE] || ps.picked[RB_PYTHON])
    for (int w = 0; w < RB_WORKLOADS; w++)
      o->skip[w] = !ps.picked[w];
  return a;
}
