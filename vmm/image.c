/* image.c - a VM configured from a cached, verified image (see image.h). */
#include "image.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "vm.h"

static size_t count(char *const *v) {
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

/* True when `env` (a NULL-terminated list) sets the variable of `var`
 * ("NAME=VALUE"). */
static bool sets_name(char *const *env, const char *var) {
  size_t name_len = (size_t)(strchr(var, '=') - var) + 1; /* "NAME=" */
  for (size_t i = 0; env && env[i]; i++)
    if (strncmp(env[i], var, name_len) == 0)
      return true;
  return false;
}

/* The image's variables that --env does not set, then --env's. */
static int merge_env(struct vm_config *cfg, struct vmm_image *img) {
  const struct manifest *c = &img->cache.config;
  size_t given = count(cfg->env), n = 0;
  img->env = calloc(c->nenv + given + 1, sizeof *img->env);
  if (!img->env)
    return -ENOMEM;
  for (size_t i = 0; i < c->nenv; i++)
    if (!sets_name(cfg->env, c->env[i]))
      img->env[n++] = c->env[i];
  for (size_t i = 0; i < given; i++)
    img->env[n++] = cfg->env[i];
  cfg->env = img->env;
  return 0;
}

static int use_entrypoint(struct vm_config *cfg, struct vmm_image *img) {
  const struct manifest *c = &img->cache.config;
  img->argv = calloc(c->nentrypoint + 1, sizeof *img->argv);
  if (!img->argv)
    return -ENOMEM;
  memcpy(img->argv, c->entrypoint, c->nentrypoint * sizeof *img->argv);
  cfg->argv = img->argv;
  return 0;
}

static double ms_since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Verification failures (the image is not what its signer made) and the
 * rest (the state directory, memory) read differently. */
static bool refused(int rc) {
  return rc == -EBADMSG || rc == -ENOKEY || rc == -EINVAL || rc == -EFBIG || rc == -E2BIG;
}

int vmm_image_prepare(struct vm_config *cfg, struct vmm_image *img) {
  struct img_err err = {{0}};
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  *img = (struct vmm_image){0};
  int rc = img_cache_open(cfg->image_dir, cfg->trust_dir, cfg->state_dir, &img->cache, &err);
  if (rc < 0) {
    vlog(VLOG_ERROR, "%s: %s", refused(rc) ? "image refused" : "cannot open the image",
         err.msg[0] ? err.msg : strerror(-rc));
    return rc;
  }
  vlog(VLOG_DEBUG, "image %s (%s): %s %s in %.2f ms", img->cache.config.name, img->cache.key,
       img->cache.hit ? "cached at" : "verified and unpacked into", img->cache.dir, ms_since(&t0));
  rc = merge_env(cfg, img);
  if (!rc && !cfg->argv)
    rc = use_entrypoint(cfg, img);
  if (rc < 0) {
    vlog(VLOG_ERROR, "image %s: %s", cfg->image_dir, strerror(-rc));
    vmm_image_release(img);
    return rc;
  }
  cfg->root = img->cache.root;
  cfg->site_cache_dir = img->cache.sites;
  return 0;
}

void vmm_image_release(struct vmm_image *img) {
  free(img->argv);
  free(img->env);
  img_cache_close(&img->cache);
  *img = (struct vmm_image){0};
}
