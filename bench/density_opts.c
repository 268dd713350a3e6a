/* density_opts.c - parses bench/density's flags (density_opts.h). */
#include "density_opts.h"

#include <errno.h>

#ifndef DN_DEFAULT_VMM
#define DN_DEFAULT_VMM "hearth-vmm"
#endif
#ifndef DN_DEFAULT_IMAGES
#define DN_DEFAULT_IMAGES "images"
#endif
#ifndef DN_DEFAULT_KEYS
#define DN_DEFAULT_KEYS "keys"
#endif
#define COUNT_MAX 100000

enum {
  OPT_MAX = 256,
  OPT_NO_SCALE,
  OPT_JSON,
  OPT_VMM,
  OPT_IMAGES,
  OPT_KEYS,
  OPT_TIMEOUT,
  OPT_SETTLE
};

static const struct option long_options[] = {
    {"count", required_argument, NULL, 'n'},
    {"max", required_argument, NULL, OPT_MAX},
    {"no-scale", no_argument, NULL, OPT_NO_SCALE},
    {"json", required_argument, NULL, OPT_JSON},
    {"vmm", required_argument, NULL, OPT_VMM},
    {"images", required_argument, NULL, OPT_IMAGES},
    {"keys", required_argument, NULL, OPT_KEYS},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"settle", required_argument, NULL, OPT_SETTLE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void dn_opts_usage(FILE *out) {
  fprintf(out,
          "usage: bench/density [-n N] [--max N] [--no-scale] [--json FILE] [--settle S]\n"
          "                     [--timeout S] [--vmm PATH] [--images DIR] [--keys DIR]\n"
          "Restores N idle 128 MiB VMs at once from one snapshot of the base image\n"
          "(hearth-init in accept), times them until all said \"ready\", and reports what\n"
          "each costs the host: MemAvailable's drop and a memory cgroup's growth per VM.\n"
          "Then again with as many VMs as leave half the machine's memory free.\n"
          "  -n, --count N   VMs of the first round (default 100)\n"
          "  --max N         the second round's ceiling (default 10000)\n"
          "  --no-scale      the first round only\n"
          "  --json FILE     also write the summary as JSON\n"
          "  --settle S      idle time between the last \"ready\" and reading memory (default 2)\n"
          "  --timeout S     for all of a round's VMs to be ready (default 120)\n"
          "  --vmm PATH      hearth-vmm (default %s)\n"
          "  --images DIR    holds the base image (default %s)\n"
          "  --keys DIR      --trust for it (default %s)\n",
          DN_DEFAULT_VMM, DN_DEFAULT_IMAGES, DN_DEFAULT_KEYS);
}

static int apply(void *ctx, int opt, const char *arg) {
  struct dn_options *o = ctx;
  switch (opt) {
  case 'n':
    return cmdline_count(arg, COUNT_MAX, &o->count);
  case OPT_MAX:
    return cmdline_count(arg, COUNT_MAX, &o->max);
  case OPT_NO_SCALE:
    o->no_scale = true;
    return 0;
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
  case OPT_TIMEOUT:
    return cmdline_positive(arg, 3600, &o->timeout_s);
  case OPT_SETTLE:
    return cmdline_positive(arg, 600, &o->settle_s);
  default:
    return -EINVAL;
  }
}

enum cmdline_action dn_opts_parse(int argc, char **argv, struct dn_options *o, char *err,
                                  size_t errlen) {
  *o = (struct dn_options){.count = 100,
                           .max = 10000,
                           .mem_mib = 128,
                           .timeout_s = 120,
                           .settle_s = 2,
                           .vmm = DN_DEFAULT_VMM,
                           .images = DN_DEFAULT_IMAGES,
                           .keys = DN_DEFAULT_KEYS};
  return cmdline_parse(argc, argv, "hn:", long_options, apply, o, err, errlen);
}
