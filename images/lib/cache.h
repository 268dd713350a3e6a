/* cache.h - the image cache: each image verified once, unpacked into
 * `<state_dir>/images/<key>/`, and used from there by every VM after:
 *   root/          the tree, modes read-only, mtimes from the manifest
 *   sites/         a site store (vmm/loader/sitestore.h) seeded with the
 *                  manifest's per-file syscall sites, so hearth-vmm
 *                  neither decodes nor hashes image files at run time
 *   manifest.json  the signed manifest bytes it was made from
 *   config.json    the same manifest without its entries (what a VM
 *                  start needs: name, runtime, entrypoint, env)
 * <key> is the SHA-256 of the manifest bytes (which pin every file's hash).
 *
 * A hit costs the signature check of the image's manifest (a key dropped
 * from --trust stops its images at once) and a comparison with the cached
 * manifest bytes: the tree is not hashed again. A miss takes an exclusive
 * flock on images/.lock, looks again, then verifies the image in full
 * while unpacking it into images/.tmp-<random>/, syncs the filesystem and
 * renames the directory to <key>: readers see a complete entry or none,
 * and a refused image leaves nothing behind. Entries are never changed
 * once made; removing old ones is for a later collector (make their
 * directories writable first: img_rmtree does). */
#ifndef HEARTH_IMAGES_CACHE_H
#define HEARTH_IMAGES_CACHE_H

#include <limits.h>
#include <stdbool.h>

#include "imgerr.h"
#include "loader/digest.h"
#include "manifest.h"

struct img_cache {
  char dir[PATH_MAX];   /* <state_dir>/images/<key> */
  char root[PATH_MAX];  /* dir/root: the guest's "/" */
  char sites[PATH_MAX]; /* dir/sites: the site store */
  char key[DIGEST_SHA256_HEX];
  struct manifest config; /* name, runtime, entrypoint, env; no entries */
  bool hit;               /* found made: nothing was unpacked */
};

/* Opens (verifying, and unpacking on a miss) the image in image_dir,
 * trusted by a *.pub key of trust_dir, in the cache under state_dir
 * (created 0700 when missing). On failure err names what failed; no
 * cache entry was made. */
int img_cache_open(const char *image_dir, const char *trust_dir, const char *state_dir,
                   struct img_cache *out, struct img_err *err);

void img_cache_close(struct img_cache *c);

#endif
