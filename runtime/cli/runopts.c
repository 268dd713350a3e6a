/* runopts.c - parsing `hearth run`'s flags (runopts.h). Each value is
 * checked against the protocol's limits here (PROTOCOL.md: strings of at
 * most HF_STRING_MAX bytes, at most HF_ENV_MAX variables), so the guest
 * never sees a request it must refuse. */
#include "runopts.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void runopts_usage(FILE *to) {
  fputs("usage: hearth run --image DIR --trust DIR --code DIR|ARCHIVE [--handler PATH]\n"
        "                  [--content-type TYPE] [--timeout S] [--mem MIB] [--env K=V]...\n"
        "                  [--state-dir DIR] [--response-cap BYTES] [--log-cap BYTES]\n"
        "                  [--event-cap BYTES] [--timings FILE] [--guest-pages 4k|2m]\n"
        "                  [--no-snapshot] [--verbose] < EVENT\n"
        "Runs one invocation of a function in a fresh microVM: the code (a directory,\n"
        "or a tar, tar.gz or zip archive) is loaded into the signed image, the event\n"
        "is read from stdin, the response goes to stdout and the handler's logs to\n"
        "stderr, then one line saying what happened. Exit status: 0 ok, the\n"
        "handler's own failure status, 124 timeout, 125 hearth failed (bad flags,\n"
        "refused image or code, VM error), 128+N handler killed by signal N.\n"
        "  --handler PATH      the handler inside the code (default: handler for a\n"
        "                      native image, handler.py for python)\n"
        "  --content-type T    the event's type (default: application/json when stdin\n"
        "                      is JSON, else application/octet-stream)\n"
        "  --timeout S         limit on loading the code, and on the invocation (30)\n"
        "  --mem MIB           guest memory (128)\n"
        "  --env K=V           a variable for the handler (at most 256)\n"
        "  --state-dir DIR     image cache and VM directories (./.hearth)\n"
        "  --response-cap B    bytes of response passed on, the rest dropped (6 MiB)\n"
        "  --log-cap B         bytes of logs passed on (1 MiB)\n"
        "  --event-cap B       largest event accepted (64 MiB)\n"
        "  --timings FILE      writes the phases (VM start, code load, invoke) as JSON\n"
        "  --no-snapshot       start the VM afresh: no function snapshot is used or made\n"
        "                      (by default the first run of some code snapshots the VM\n"
        "                      once the code is loaded, in --state-dir/snapshots, and\n"
        "                      later runs restore from it)\n"
        "Sizes take a k, m or g suffix (KiB, MiB, GiB).\n",
        to);
}

enum {
  OPT_IMAGE = 256,
  OPT_TRUST,
  OPT_CODE,
  OPT_HANDLER,
  OPT_CONTENT_TYPE,
  OPT_TIMEOUT,
  OPT_MEM,
  OPT_ENV,
  OPT_STATE_DIR,
  OPT_RESPONSE_CAP,
  OPT_LOG_CAP,
  OPT_EVENT_CAP,
  OPT_TIMINGS,
  OPT_GUEST_PAGES,
  OPT_NO_SNAPSHOT,
};

static const struct option long_options[] = {
    {"image", required_argument, NULL, OPT_IMAGE},
    {"trust", required_argument, NULL, OPT_TRUST},
    {"code", required_argument, NULL, OPT_CODE},
    {"handler", required_argument, NULL, OPT_HANDLER},
    {"content-type", required_argument, NULL, OPT_CONTENT_TYPE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"mem", required_argument, NULL, OPT_MEM},
    {"env", required_argument, NULL, OPT_ENV},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"response-cap", required_argument, NULL, OPT_RESPONSE_CAP},
    {"log-cap", required_argument, NULL, OPT_LOG_CAP},
    {"event-cap", required_argument, NULL, OPT_EVENT_CAP},
    {"timings", required_argument, NULL, OPT_TIMINGS},
    {"guest-pages", required_argument, NULL, OPT_GUEST_PAGES},
    {"no-snapshot", no_argument, NULL, OPT_NO_SNAPSHOT},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* A byte count with an optional k/m/g suffix, in [min, max]. */
static bool parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
  char *end;
  errno = 0;
  if (*s == '-' || *s == '\0')
    return false;
  unsigned long long v = strtoull(s, &end, 10);
  unsigned shift = 0;
  if (*end == 'k' || *end == 'K')
    shift = 10;
  else if (*end == 'm' || *end == 'M')
    shift = 20;
  else if (*end == 'g' || *end == 'G')
    shift = 30;
  if (shift)
    end++;
  if (errno || end == s || *end || v > (max >> shift))
    return false;
  v <<= shift;
  if (v < min)
    return false;
  *out = v;
  return true;
}

/* A string member of a control frame: at most HF_STRING_MAX bytes. */
static bool fits_string(const char *s) { return strlen(s) <= HF_STRING_MAX; }

static int bad(char *err, size_t errlen, const char *what, const char *value) {
  snprintf(err, errlen, "%s: %s", what, value);
  return -1;
}

static int env_option(struct runopts *o, const char *kv, char *err, size_t errlen) {
  const char *eq = strchr(kv, '=');
  if (eq == NULL || eq == kv)
    return bad(err, errlen, "--env wants K=V, got", kv);
  if ((size_t)(eq - kv) > HF_STRING_MAX || !fits_string(eq + 1))
    return bad(err, errlen, "--env: a name or value over 4096 bytes", kv);
  for (unsigned i = 0; i < o->nenv; i++)
    if (strncmp(o->env[i], kv, (size_t)(eq - kv) + 1) == 0)
      return bad(err, errlen, "--env: variable given twice", kv);
  if (o->nenv >= HF_ENV_MAX)
    return bad(err, errlen, "--env: at most 256 variables, one too many", kv);
  o->env[o->nenv++] = kv;
  return 0;
}

static int size_option(const char *name, const char *v, uint64_t min, uint64_t max, uint64_t *out,
                       char *err, size_t errlen) {
  if (parse_size(v, min, max, out))
    return 0;
  char what[64];
  snprintf(what, sizeof what, "%s wants a byte count from %llu, got", name,
           (unsigned long long)min);
  return bad(err, errlen, what, v);
}

static int one_option(int opt, struct runopts *o, char *err, size_t errlen) {
  uint64_t n;
  char *end;
  switch (opt) {
  case OPT_IMAGE:
    o->image = optarg;
    return 0;
  case OPT_TRUST:
    o->trust = optarg;
    return 0;
  case OPT_CODE:
    o->code = optarg;
    return 0;
  case OPT_HANDLER:
    if (!optarg[0] || !fits_string(optarg))
      return bad(err, errlen, "--handler wants a path of 1 to 4096 bytes, got", optarg);
    o->handler = optarg;
    return 0;
  case OPT_CONTENT_TYPE:
    if (!optarg[0] || !fits_string(optarg))
      return bad(err, errlen, "--content-type wants 1 to 4096 bytes, got", optarg);
    o->content_type = optarg;
    return 0;
  case OPT_TIMEOUT:
    errno = 0;
    o->timeout_s = strtod(optarg, &end);
    if (errno || end == optarg || *end || !(o->timeout_s > 0) || o->timeout_s > 86400)
      return bad(err, errlen, "--timeout wants seconds above 0 (at most a day), got", optarg);
    return 0;
  case OPT_MEM:
    if (!parse_size(optarg, 4, 65536, &n))
      return bad(err, errlen, "--mem wants MiB from 4 to 65536, got", optarg);
    o->mem_mib = (unsigned)n;
    return 0;
  case OPT_ENV:
    return env_option(o, optarg, err, errlen);
  case OPT_STATE_DIR:
    if (!optarg[0])
      return bad(err, errlen, "--state-dir wants a directory, got", "''");
    o->state_dir = optarg;
    return 0;
  case OPT_RESPONSE_CAP:
    return size_option("--response-cap", optarg, 1, RUNOPTS_CAP_MAX, &o->response_cap, err, errlen);
  case OPT_LOG_CAP:
    return size_option("--log-cap", optarg, 1, RUNOPTS_CAP_MAX, &o->log_cap, err, errlen);
  case OPT_EVENT_CAP:
    return size_option("--event-cap", optarg, 0, RUNOPTS_CAP_MAX, &o->event_cap, err, errlen);
  case OPT_TIMINGS:
    o->timings = optarg;
    return 0;
  case OPT_GUEST_PAGES:
    if (strcmp(optarg, "4k") != 0 && strcmp(optarg, "2m") != 0)
      return bad(err, errlen, "--guest-pages wants 4k or 2m, got", optarg);
    o->guest_pages = optarg;
    return 0;
  case OPT_NO_SNAPSHOT:
    o->no_snapshot = true;
    return 0;
  case 'v':
    o->verbose = true;
    return 0;
  default:
    return bad(err, errlen, "unknown option", "?");
  }
}

static void defaults(struct runopts *o) {
  memset(o, 0, sizeof *o);
  o->timeout_s = RUNOPTS_TIMEOUT_DEFAULT;
  o->mem_mib = RUNOPTS_MEM_DEFAULT;
  o->state_dir = ".hearth";
  o->response_cap = HF_RESPONSE_CAP_DEFAULT;
  o->log_cap = HF_LOG_CAP_DEFAULT;
  o->event_cap = RUNOPTS_EVENT_CAP_DEFAULT;
}

static enum runopts_result required(const struct runopts *o, char *err, size_t errlen) {
  const char *missing = !o->image   ? "--image DIR (a signed image)"
                        : !o->trust ? "--trust DIR (the directory of trusted *.pub keys)"
                        : !o->code  ? "--code DIR or ARCHIVE (the function's code)"
                                    : NULL;
  if (missing == NULL)
    return RUNOPTS_RUN;
  snprintf(err, errlen, "missing %s", missing);
  return RUNOPTS_ERROR;
}

enum runopts_result runopts_parse(int argc, char **argv, struct runopts *o, char *err,
                                  size_t errlen) {
  defaults(o);
  optind = 1;
  opterr = 0;
  int opt;
  while ((opt = getopt_long(argc, argv, "vh", long_options, NULL)) != -1) {
    if (opt == 'h')
      return RUNOPTS_HELP;
    if (opt == '?' || opt == ':') {
      bad(err, errlen, "unknown option or missing value", argv[optind - 1]);
      return RUNOPTS_ERROR;
    }
    if (one_option(opt, o, err, errlen) < 0)
      return RUNOPTS_ERROR;
  }
  if (optind < argc) {
    bad(err, errlen, "unexpected argument (the event comes on stdin)", argv[optind]);
    return RUNOPTS_ERROR;
  }
  return required(o, err, errlen);
}
