/* image.h - hearth-vmm's --image DIR --trust DIR [--state-dir DIR]: the
 * signed image verified and unpacked once into the state directory's cache
 * (images/lib/cache.h), before any KVM work, and the VM configured from it:
 * the root is the cache's tree (so stat shows the image's sizes and
 * mtimes), the program is the image's entrypoint when the command line
 * names none, the environment is the image's followed by --env's (a name
 * set by both takes --env's value), and the site cache is the entry's
 * store, seeded from the manifest. */
#ifndef HEARTH_VMM_IMAGE_H
#define HEARTH_VMM_IMAGE_H

#include "lib/cache.h"

struct vm_config;

struct vmm_image {
  struct img_cache cache;
  char **argv; /* the entrypoint, NULL-terminated, when the VM runs it */
  char **env;  /* the merged environment, NULL-terminated */
};

/* For cfg->image_dir: opens the image and points cfg's root, argv, env and
 * site_cache_dir at what img holds (img must outlive the VM). 0, or a
 * negative errno after one error line naming what failed. */
int vmm_image_prepare(struct vm_config *cfg, struct vmm_image *img);

void vmm_image_release(struct vmm_image *img);

#endif
