/* restore_opts.c - parses bench/restore's flags (restore_opts.h). */
#include "restore_opts.h"

#include <errno.h>
#include <string.h>

#ifndef RS_DEFAULT_VMM
#define RS_DEFAULT_VMM "hearth-vmm"
#endif
#ifndef RS_DEFAULT_IMAGES
#define RS_DEFAULT_IMAGES "images"
#endif
#ifndef RS_DEFAULT_KEYS
#define RS_DEFAULT_KEYS "keys"
#endif
#define RUNS_MAX 100000
#define TIMEOUT_MAX_S 3600.0

enum { OPT_IMAGE = 256, OPT_JSON, OPT_VMM, OPT_IMAGES, OPT_KEYS, OPT_MEM, OPT_TIMEOUT };

static const struct option long_options[] = {
    {"runs", required_argument, NULL, 'n'},
    {"image", required_argument, NULL, OPT_IMAGE},
    {"json", required_argument, NULL, OPT_JSON},
    {"vmm", required_argument, NULL, OPT_VMM},
    {"images", required_argument, NULL, OPT_IMAGES},
    {"keys", required_argument, NULL, OPT_KEYS},
    {"mem", required_argument, NULL, OPT_MEM},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void rs_opts_usage(FILE *out) {
  fprintf(out,
          "usage: bench/restore [-n N] [--image base|python]... [--json FILE] [--mem MIB]\n"
          "                     [--vmm PATH] [--images DIR] [--keys DIR] [--timeout S]\n"
          "Times spawning hearth-vmm until hearth-init answers on vsock (CONNECT 52, its\n"
          "HELLO frame read), restored from an image snapshot taken once at the start\n"
          "(hearth-init in accept) against a fresh start of the signed image, alternating.\n"
          "  -n, --runs N    timed runs of each kind per image (default %d), after one\n"
          "                  untimed warm-up of each\n"
          "  --image NAME    only this image (repeatable): base, python\n"
          "  --json FILE     also write the summary as JSON\n"
          "  --mem MIB       guest memory (default 128)\n"
          "  --vmm PATH      hearth-vmm (default %s)\n"
          "  --images DIR    holds the base and python images (default %s)\n"
          "  --keys DIR      --trust for them (default %s)\n"
          "  --timeout S     per step (default 30)\n",
          RS_RUNS_DEFAULT, RS_DEFAULT_VMM, RS_DEFAULT_IMAGES, RS_DEFAULT_KEYS);
}

struct parse_ctx {
  struct rs_options *o;
  bool picked;
};

static int pick_image(struct parse_ctx *c, const char *arg) {
  enum rs_image i;
  if (strcmp(arg, "base") == 0)
    i = RS_BASE;
  else if (strcmp(arg, "python") == 0)
    i = RS_PYTHON;
  else
    return -EINVAL;
  if (!c->picked)
    for (int j = 0; j < RS_IMAGES; j++)
      c->o->skip[j] = true;
  c->picked = true;
  c->o->skip[i] = false;
  return 0;
}

static int apply(void *ctx, int opt, const char *arg) {
  struct parse_ctx *c = ctx;
  struct rs_options *o = c->o;
  size_t count;
  switch (opt) {
  case 'n':
    return cmdline_count(arg, RUNS_MAX, &o->runs);
  case OPT_IMAGE:
    return pick_image(c, arg);
  case OPT_JSON:
    o->json = arg;
    return 0;
  case OPT_VMM:
    o->vmm = arg;
    return 0;
  case OPT_IMAGES:
    o->images = arg;
    return 0;
  case OPT_KEYS:
    o->keys = arg;
    return 0;
  case OPT_MEM:
    if (cmdline_count(arg, 65536, &count) < 0)
      return -EINVAL;
    o->mem_mib = (unsigned)count;
    return 0;
  case OPT_TIMEOUT:
    return cmdline_positive(arg, TIMEOUT_MAX_S, &o->timeout_s);
  default:
    return -EINVAL;
  }
}

enum cmdline_action rs_opts_parse(int argc, char **argv, struct rs_options *o, char *err,
                                  size_t errlen) {
  *o = (struct rs_options){.runs = RS_RUNS_DEFAULT,
                           .vmm = RS_DEFAULT_VMM,
                           .images = RS_DEFAULT_IMAGES,
                           .keys = RS_DEFAULT_KEYS,
                           .mem_mib = 128,
                           .timeout_s = 30};
  struct parse_ctx c = {.o = o};
  return cmdline_parse(argc, argv, "hn:", long_options, apply, &c, err, errlen);
}
