/* args.h - hearth-vmm's command line, parsed into a vm_config. */
#ifndef HEARTH_VMM_ARGS_H
#define HEARTH_VMM_ARGS_H

#include <stdbool.h>

#include "vm.h"

#define ARGS_MAX_ENV 4096

struct vmm_args {
  struct vm_config cfg;
  const char *trace_path; /* NULL: stderr when tracing */
  bool trace;
  const char *stats_path;
  bool verbose;
  double timeout_s;
  bool site_cache_given;         /* --site-cache was on the command line */
  char site_cache_default[4096]; /* the default --site-cache, when used */
  const char *api_sock;          /* --api-sock PATH: the control socket (api/API.md), or NULL */
  const char *restore_dir;       /* --restore SNAPDIR: run a snapshot instead of a PROGRAM */
  bool start_paused;             /* --start-paused: a restore waits for {"cmd":"resume"} */
  bool vsock_cid_given;          /* --vsock-cid was on the command line (a restore override) */
  char *env_storage[ARGS_MAX_ENV + 1];
};

enum args_result { ARGS_RUN, ARGS_HELP, ARGS_VERSION, ARGS_ERROR };

/* Parses argv. On ARGS_ERROR a message naming the problem is in err. The
 * config points into argv (which must outlive it). */
enum args_result args_parse(int argc, char **argv, struct vmm_args *out, char *err, int errlen);

void args_usage(FILE *to);

#endif
