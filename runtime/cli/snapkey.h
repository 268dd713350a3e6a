/* snapkey.h - which snapshots fit one `hearth run`: the image is
 * verified first (through the image cache: on a hit, the signature check
 * of its manifest and a comparison with the cached bytes, so an image that
 * no longer verifies, or a key dropped from --trust, never reaches a
 * snapshot of it), then the key is the SHA-256 of everything the VM at the
 * snapshot point depends on: the hearth version, the image's manifest
 * hash, the memory size and guest page size, the SHA-256 of the packed
 * code stream and the handler. --env is not in it: INVOKE carries the
 * environment, per invocation, after the snapshot point. The image
 * snapshot's key has the same parts but the code and handler. */
#ifndef HEARTH_CLI_SNAPKEY_H
#define HEARTH_CLI_SNAPKEY_H

#include <stddef.h>

#include "runopts.h"

#define SNAPKEY_HEX 65 /* 64 hex digits and a NUL */

struct snapkeys {
  char image[SNAPKEY_HEX];    /* the image snapshot's */
  char function[SNAPKEY_HEX]; /* the function snapshot's */
};

/* The keys of o's snapshots. 0, or -errno with a sentence in err
 * (*image_refused: the image did not verify). */
int snapkey_derive(const struct runopts *o, struct snapkeys *keys, char *err, size_t errlen,
                   bool *image_refused);

#endif
