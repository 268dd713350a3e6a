/* init_env.c - building the exec'd program's environment (init_env.h). */
#include "init_env.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int init_env_start(struct init_env *e, char **base, size_t extra) {
  memset(e, 0, sizeof *e);
  size_t n = 0;
  while (base && base[n])
    n++;
  e->extra = extra;
  e->vars = calloc(n + extra + 1, sizeof *e->vars);
  e->owned = calloc(extra ? extra : 1, sizeof *e->owned);
  if (!e->vars || !e->owned) {
    init_env_free(e);
    return -ENOMEM;
  }
  if (n)
    memcpy(e->vars, base, n * sizeof *base);
  e->n = n;
  return 0;
}

/* The index of the variable named key[0..klen), or e->n. */
static size_t find(const struct init_env *e, const char *key, size_t klen) {
  for (size_t i = 0; i < e->n; i++)
    if (strncmp(e->vars[i], key, klen) == 0 && e->vars[i][klen] == '=')
      return i;
  return e->n;
}

int init_env_set(struct init_env *e, const char *key, const char *value) {
  size_t klen = strlen(key), vlen = strlen(value);
  if (klen == 0 || memchr(key, '=', klen))
    return -EINVAL;
  size_t at = find(e, key, klen);
  if (e->n_owned == e->extra)
    return -E2BIG; /* each set takes one slot, so vars never overflows */
  char *var = malloc(klen + 1 + vlen + 1);
  if (!var)
    return -ENOMEM;
  memcpy(var, key, klen);
  var[klen] = '=';
  memcpy(var + klen + 1, value, vlen + 1);
  e->owned[e->n_owned++] = var;
  e->vars[at] = var;
  if (at == e->n)
    e->vars[++e->n] = NULL;
  return 0;
}

void init_env_free(struct init_env *e) {
  for (size_t i = 0; i < e->n_owned; i++)
    free(e->owned[i]);
  free(e->owned);
  free(e->vars);
  memset(e, 0, sizeof *e);
}
