/* init_env.h - the environment hearth-init hands to what it execs: its own
 * (the image's) with variables set on top, later settings winning. */
#ifndef HEARTH_INIT_ENV_H
#define HEARTH_INIT_ENV_H

#include <stddef.h>

struct init_env {
  char **vars; /* "KEY=VALUE", NULL-terminated */
  size_t n;
  char **owned; /* the strings env_set allocated, freed with the env */
  size_t extra; /* how many init_env_set calls may be made */
  size_t n_owned;
};

/* Starts from base (borrowed; not copied), with room for extra calls of
 * init_env_set. 0 or -ENOMEM. */
int init_env_start(struct init_env *e, char **base, size_t extra);

/* Sets key=value, replacing a variable of that name. -EINVAL for a key
 * that is empty or holds '=', -E2BIG past the calls allowed, -ENOMEM. */
int init_env_set(struct init_env *e, const char *key, const char *value);

void init_env_free(struct init_env *e);

#endif
