/* args.c - parsing hearth-vmm's flags (args.h). Every value is checked here so
 * a bad flag is exit status 125 with a message, before any VM exists. */
#include "args.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MEM_MIB 128
#define MIN_MEM_MIB 4
#define MAX_MEM_MIB 65536
#define DEFAULT_TMP_MIB 64
#define DEFAULT_CODE_MIB 256
#define DEFAULT_CODE_FILES 20000

void args_usage(FILE *to) {
  fputs("usage: hearth-vmm [--mem MIB] [--root DIR] [--cwd PATH] [--env K=V]...\n"
        "                  [--timeout S] [--trace-syscalls[=FILE]] [--tmp-size MIB]\n"
        "                  [--no-rewrite] [--no-vdso] [--site-cache DIR|off] [--stats FILE]\n"
        "                  [--guest-pages 4k|2m] [--code-size MIB] [--code-files N]\n"
        "                  [--vsock-cid CID] [--vsock-uds PATH] [--ready-fd FD]\n"
        "                  [--image DIR --trust DIR [--state-dir DIR]]\n"
        "                  [--api-sock PATH] [--verbose] -- PROGRAM [ARG]...\n"
        "       hearth-vmm --restore SNAPDIR [--vsock-uds PATH] [--vsock-cid CID]\n"
        "                  [--api-sock PATH [--start-paused]] [--ready-fd FD] [--timeout S]\n"
        "                  [--stats FILE] [--trace-syscalls[=FILE]] [--verbose]\n"
        "Runs a static Linux x86-64 PROGRAM (a path inside --root) in a KVM microVM\n"
        "with no guest kernel.\n"
        "--site-cache: where the syscall sites of executable files are kept across\n"
        "runs (default $XDG_CACHE_HOME/hearth/sites or $HOME/.cache/hearth/sites).\n"
        "--guest-pages: 4k (default) or 2m. 2m gives each 2 MiB of the program's\n"
        "address space a whole 2 MiB page on first touch: fewer, cheaper faults for\n"
        "programs that touch much memory (python starts ~30% faster), but several\n"
        "MiB more host memory per VM; small programs gain nothing.\n"
        "--code-size/--code-files: caps of /code, the guest's writable in-memory\n"
        "directory for function code (default 256 MiB, 20000 entries).\n"
        "--vsock-uds PATH: the guest's AF_VSOCK sockets reach the host through Unix\n"
        "sockets, Firecracker's way: the host connects to PATH and sends\n"
        "'CONNECT <port>\\n'; a guest connecting to host port P reaches PATH_P.\n"
        "--image DIR --trust DIR: run a signed image (verified, then unpacked once\n"
        "into --state-dir's cache, default ./.hearth); PROGRAM defaults to its\n"
        "entrypoint.\n"
        "--api-sock PATH: a control socket taking JSON lines (pause, resume,\n"
        "snapshot, shutdown, stats; vmm/api/API.md).\n"
        "--restore SNAPDIR: run the VM a snapshot holds (its memory, program and\n"
        "configuration); only the flags shown for it may be given.\n"
        "--start-paused: restore completely, then wait paused, using no CPU, until\n"
        "{\"cmd\":\"resume\"} arrives on --api-sock; the guest's clocks go on from the\n"
        "snapshot at that resume.\n",
        to);
}

enum {
  OPT_MEM = 256,
  OPT_ROOT,
  OPT_CWD,
  OPT_ENV,
  OPT_TIMEOUT,
  OPT_TRACE,
  OPT_NO_REWRITE,
  OPT_NO_VDSO,
  OPT_STATS,
  OPT_TMP,
  OPT_SITE_CACHE,
  OPT_GUEST_PAGES,
  OPT_CODE_SIZE,
  OPT_CODE_FILES,
  OPT_VSOCK_CID,
  OPT_VSOCK_UDS,
  OPT_READY_FD,
  OPT_IMAGE,
  OPT_TRUST,
  OPT_STATE_DIR,
  OPT_API_SOCK,
  OPT_RESTORE,
  OPT_START_PAUSED,
  OPT_VERSION
};

static const struct option args_options[] = {
    {"mem", required_argument, NULL, OPT_MEM},
    {"root", required_argument, NULL, OPT_ROOT},
    {"cwd", required_argument, NULL, OPT_CWD},
    {"env", required_argument, NULL, OPT_ENV},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"trace-syscalls", optional_argument, NULL, OPT_TRACE},
    {"no-rewrite", no_argument, NULL, OPT_NO_REWRITE},
    {"no-vdso", no_argument, NULL, OPT_NO_VDSO},
    {"stats", required_argument, NULL, OPT_STATS},
    {"tmp-size", required_argument, NULL, OPT_TMP},
    {"site-cache", required_argument, NULL, OPT_SITE_CACHE},
    {"guest-pages", required_argument, NULL, OPT_GUEST_PAGES},
    {"code-size", required_argument, NULL, OPT_CODE_SIZE},
    {"code-files", required_argument, NULL, OPT_CODE_FILES},
    {"vsock-cid", required_argument, NULL, OPT_VSOCK_CID},
    {"vsock-uds", required_argument, NULL, OPT_VSOCK_UDS},
    {"ready-fd", required_argument, NULL, OPT_READY_FD},
    {"image", required_argument, NULL, OPT_IMAGE},
    {"trust", required_argument, NULL, OPT_TRUST},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"api-sock", required_argument, NULL, OPT_API_SOCK},
    {"restore", required_argument, NULL, OPT_RESTORE},
    {"start-paused", no_argument, NULL, OPT_START_PAUSED},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static bool parse_mib(const char *s, long min, long max, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < min || v > max)
    return false;
  *out = v;
  return true;
}

static int args_option(int opt, struct vmm_args *a, int *nenv, char *err, int errlen) {
  long mib;
  char *end;
  switch (opt) {
  case OPT_MEM:
    if (!parse_mib(optarg, MIN_MEM_MIB, MAX_MEM_MIB, &mib))
      return snprintf(err, errlen, "--mem: want MiB between %d and %d, got '%s'", MIN_MEM_MIB,
                      MAX_MEM_MIB, optarg);
    a->cfg.mem_bytes = (((uint64_t)mib + 1) & ~1ULL) << 20; /* whole 2 MiB pages */
    return 0;
  case OPT_TMP:
    if (!parse_mib(optarg, 0, MAX_MEM_MIB, &mib))
      return snprintf(err, errlen, "--tmp-size: want MiB, got '%s'", optarg);
    a->cfg.tmp_max_bytes = (uint64_t)mib << 20;
    return 0;
  case OPT_ROOT:
    a->cfg.root = optarg;
    return 0;
  case OPT_CWD:
    if (optarg[0] != '/')
      return snprintf(err, errlen, "--cwd: want an absolute guest path, got '%s'", optarg);
    a->cfg.cwd = optarg;
    return 0;
  case OPT_ENV:
    if (!strchr(optarg, '=') || optarg[0] == '=')
      return snprintf(err, errlen, "--env: want K=V, got '%s'", optarg);
    if (*nenv >= ARGS_MAX_ENV)
      return snprintf(err, errlen, "--env: at most %d variables", ARGS_MAX_ENV);
    a->env_storage[(*nenv)++] = optarg;
    return 0;
  case OPT_TIMEOUT:
    errno = 0;
    a->timeout_s = strtod(optarg, &end);
    if (errno || end == optarg || *end || !(a->timeout_s > 0) || a->timeout_s > 1e7)
      return snprintf(err, errlen, "--timeout: want seconds > 0, got '%s'", optarg);
    return 0;
  case OPT_TRACE:
    a->trace = true;
    a->trace_path = optarg;
    return 0;
  case OPT_NO_REWRITE:
    a->cfg.no_rewrite = true;
    return 0;
  case OPT_NO_VDSO:
    a->cfg.no_vdso = true;
    return 0;
  case OPT_STATS:
    a->stats_path = optarg;
    return 0;
  case OPT_SITE_CACHE:
    if (optarg[0] == '\0')
      return snprintf(err, errlen, "--site-cache: want a directory or 'off'");
    a->site_cache_given = true;
    a->cfg.site_cache_dir = strcmp(optarg, "off") == 0 ? NULL : optarg;
    return 0;
  case OPT_GUEST_PAGES:
    if (strcmp(optarg, "4k") == 0)
      a->cfg.guest_pages = GMEM_PAGES_4K;
    else if (strcmp(optarg, "2m") == 0)
      a->cfg.guest_pages = GMEM_PAGES_2M;
    else
      return snprintf(err, errlen, "--guest-pages: want 4k or 2m, got '%s'", optarg);
    return 0;
  case OPT_CODE_SIZE:
    if (!parse_mib(optarg, 1, 1 << 16, &mib))
      return snprintf(err, errlen, "--code-size: want MiB, got '%s'", optarg);
    a->cfg.code_max_bytes = (uint64_t)mib << 20;
    return 0;
  case OPT_CODE_FILES:
    if (!parse_mib(optarg, 1, 1 << 20, &mib))
      return snprintf(err, errlen, "--code-files: want a count, got '%s'", optarg);
    a->cfg.code_max_entries = (uint64_t)mib;
    return 0;
  case OPT_VSOCK_CID:
    /* 0-2 are the hypervisor, loopback and host; -1U is VMADDR_CID_ANY. */
    if (!parse_mib(optarg, 3, 0xfffffffeL, &mib))
      return snprintf(err, errlen, "--vsock-cid: want a CID from 3 up, got '%s'", optarg);
    a->cfg.vsock_cid = (uint32_t)mib;
    a->vsock_cid_given = true;
    return 0;
  case OPT_VSOCK_UDS:
    if (!optarg[0] || strlen(optarg) >= 100) /* sun_path is 108, with "_PORT" to add */
      return snprintf(err, errlen, "--vsock-uds: want a path under 100 bytes");
    a->cfg.vsock_uds = optarg;
    return 0;
  case OPT_READY_FD:
    if (!parse_mib(optarg, 0, 1 << 20, &mib) || fcntl((int)mib, F_GETFD) < 0)
      return snprintf(err, errlen, "--ready-fd: want an open file descriptor, got '%s'", optarg);
    a->cfg.ready_fd = (int)mib;
    return 0;
  case OPT_IMAGE:
    a->cfg.image_dir = optarg;
    return 0;
  case OPT_TRUST:
    a->cfg.trust_dir = optarg;
    return 0;
  case OPT_STATE_DIR:
    a->cfg.state_dir = optarg;
    return 0;
  case OPT_API_SOCK:
    if (!optarg[0] || strlen(optarg) >= 108) /* sun_path */
      return snprintf(err, errlen, "--api-sock: want a path under 108 bytes");
    a->api_sock = optarg;
    return 0;
  case OPT_RESTORE:
    if (!optarg[0])
      return snprintf(err, errlen, "--restore: want a snapshot directory");
    a->restore_dir = optarg;
    return 0;
  case OPT_START_PAUSED:
    a->start_paused = true;
    return 0;
  case 'v':
    a->verbose = true;
    return 0;
  default:
    return snprintf(err, errlen, "unknown or incomplete option");
  }
}

/* $XDG_CACHE_HOME/hearth/sites, else $HOME/.cache/hearth/sites (relative
 * values are ignored, as the XDG spec says), else none. */
static const char *default_site_cache(char *buf, size_t cap) {
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  int n;
  if (xdg && xdg[0] == '/')
    n = snprintf(buf, cap, "%s/hearth/sites", xdg);
  else if (home && home[0] == '/')
    n = snprintf(buf, cap, "%s/.cache/hearth/sites", home);
  else
    return NULL;
  return n > 0 && (size_t)n < cap ? buf : NULL;
}

/* Flags a snapshot already decides (its memory, program, files and
 * configuration): --restore refuses them rather than ignore them. */
static bool restore_refuses(int opt) {
  switch (opt) {
  case OPT_VSOCK_UDS:
  case OPT_VSOCK_CID:
  case OPT_API_SOCK:
  case OPT_RESTORE:
  case OPT_START_PAUSED:
  case OPT_READY_FD:
  case OPT_TIMEOUT:
  case OPT_STATS:
  case OPT_TRACE:
  case 'v':
    return false;
  default:
    return true;
  }
}

static const char *option_name(int opt) {
  for (const struct option *o = args_options; o->name; o++)
    if (o->val == opt)
      return o->name;
  return "?";
}

/* --restore SNAPDIR: the first flag the snapshot contradicts, or a PROGRAM,
 * is an error. */
static enum args_result args_restore(int argc, char **argv, const struct vmm_args *a,
                                     int refused_opt, char *err, int errlen) {
  if (refused_opt) {
    snprintf(err, errlen, "--restore: --%s contradicts the snapshot, which decides it",
             option_name(refused_opt));
    return ARGS_ERROR;
  }
  if (optind < argc) {
    snprintf(err, errlen, "--restore: a snapshot runs its own program, not '%s'", argv[optind]);
    return ARGS_ERROR;
  }
  /* Without a control socket nothing could ever resume it. */
  if (a->start_paused && !a->api_sock) {
    snprintf(err, errlen, "--start-paused needs --api-sock PATH, where the resume comes from");
    return ARGS_ERROR;
  }
  return ARGS_RUN;
}

enum args_result args_parse(int argc, char **argv, struct vmm_args *out, char *err, int errlen) {
  memset(out, 0, sizeof *out);
  out->cfg.mem_bytes = (uint64_t)DEFAULT_MEM_MIB << 20;
  out->cfg.tmp_max_bytes = (uint64_t)DEFAULT_TMP_MIB << 20;
  out->cfg.guest_pages = GMEM_PAGES_4K;
  out->cfg.code_max_bytes = (uint64_t)DEFAULT_CODE_MIB << 20;
  out->cfg.code_max_entries = DEFAULT_CODE_FILES;
  out->cfg.vsock_cid = 3;
  out->cfg.ready_fd = -1;
  out->cfg.state_dir = ".hearth";
  int nenv = 0, opt, refused_opt = 0;
  optind = 1;
  opterr = 0;
  /* "+": stop at the first non-option, so PROGRAM's own flags are its own. */
  while ((opt = getopt_long(argc, argv, "+vh", args_options, NULL)) != -1) {
    if (opt == 'h')
      return ARGS_HELP;
    if (opt == OPT_VERSION)
      return ARGS_VERSION;
    if (opt == '?' || opt == ':') {
      snprintf(err, errlen, "unknown option or missing value: '%s'", argv[optind - 1]);
      return ARGS_ERROR;
    }
    if (args_option(opt, out, &nenv, err, errlen) > 0)
      return ARGS_ERROR;
    if (!refused_opt && restore_refuses(opt))
      refused_opt = opt;
  }
  if (out->restore_dir)
    return args_restore(argc, argv, out, refused_opt, err, errlen);
  if (out->start_paused) {
    snprintf(err, errlen, "--start-paused is for --restore SNAPDIR only");
    return ARGS_ERROR;
  }
  if (out->cfg.image_dir && !out->cfg.trust_dir) {
    snprintf(err, errlen, "--image needs --trust DIR (the directory of trusted *.pub keys)");
    return ARGS_ERROR;
  }
  if (out->cfg.image_dir && out->cfg.root) {
    snprintf(err, errlen, "--image and --root exclude each other: the image is the root");
    return ARGS_ERROR;
  }
  /* With --image, PROGRAM defaults to the image's entrypoint. */
  if (optind >= argc && out->cfg.image_dir) {
    out->env_storage[nenv] = NULL;
    out->cfg.env = out->env_storage;
    out->cfg.argv = NULL;
    return ARGS_RUN;
  }
  if (optind >= argc) {
    snprintf(err, errlen, "no PROGRAM given");
    return ARGS_ERROR;
  }
  if (argv[optind][0] == '\0') {
    snprintf(err, errlen, "PROGRAM is an empty path");
    return ARGS_ERROR;
  }
  if (!out->site_cache_given)
    out->cfg.site_cache_dir =
        default_site_cache(out->site_cache_default, sizeof out->site_cache_default);
  out->env_storage[nenv] = NULL;
  out->cfg.env = out->env_storage;
  out->cfg.argv = &argv[optind];
  return ARGS_RUN;
}
