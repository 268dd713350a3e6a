/* runopts.h - the command line of `hearth run`, parsed and checked before
 * anything is started. */
#ifndef HEARTH_CLI_RUNOPTS_H
#define HEARTH_CLI_RUNOPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "proto/frame.h"

#define RUNOPTS_TIMEOUT_DEFAULT 30.0 /* seconds */
#define RUNOPTS_MEM_DEFAULT 128      /* MiB */
#define RUNOPTS_EVENT_CAP_DEFAULT (64ull << 20)
#define RUNOPTS_CAP_MAX (1ull << 40) /* response and log caps: far below 2^53 */

struct runopts {
  const char *image, *trust, *code;
  const char *handler;      /* NULL: the runtime's default */
  const char *content_type; /* NULL: detected */
  double timeout_s;
  unsigned mem_mib;
  const char *env[HF_ENV_MAX]; /* "K=V", pointing into argv */
  unsigned nenv;
  const char *state_dir;
  uint64_t response_cap, log_cap, event_cap;
  const char *timings; /* --timings FILE, or NULL */
  const char *guest_pages;
  bool verbose;
  bool no_snapshot; /* --no-snapshot: a fresh start, no snapshot made or used */
};

enum runopts_result { RUNOPTS_RUN, RUNOPTS_HELP, RUNOPTS_ERROR };

/* Parses argv (argv[0] is "run"). On RUNOPTS_ERROR, err says what is wrong.
 * o points into argv afterwards. */
enum runopts_result runopts_parse(int argc, char **argv, struct runopts *o, char *err,
                                  size_t errlen);

void runopts_usage(FILE *to);

#endif
