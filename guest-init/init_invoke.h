/* init_invoke.h - INVOKE's control JSON (PROTOCOL.md) as hearth-init needs
 * it for a native handler: ids, caps and the caller's environment. */
#ifndef HEARTH_INIT_INVOKE_H
#define HEARTH_INIT_INVOKE_H

#include <stddef.h>
#include <stdint.h>

#include "init_env.h"

struct invoke {
  char *request_id;               /* owned; required, non-empty */
  char *function;                 /* owned; "" when absent */
  uint64_t response_cap, log_cap; /* 0 when absent: the defaults */
};

/* Parses json[0..len) into inv and sets the members of its "env" object in
 * env (keys empty or holding '=' are refused). 0, or -EINVAL with the
 * reason in why. */
int invoke_parse(const char *json, size_t len, struct invoke *inv, struct init_env *env, char *why,
                 size_t whylen);
void invoke_free(struct invoke *inv);

#endif
