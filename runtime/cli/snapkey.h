/* snapkey.h - which function snapshot fits one `hearth run`: the image is
 * verified first (through the image cache: on a hit, the signature check
 * of its manifest and a comparison with the cached bytes, so an image that
 * no longer verifies, or a key dropped from --trust, never reaches a
 * snapshot of it), then the key is the SHA-256 of everything the VM at the
 * snapshot point depends on: the hearth version, the image's manifest
 * hash, the memory size and guest page size, the SHA-256 of the packed
 * code stream and the handler. --env is not in it: INVOKE carries the
 * environment, per invocation, after the snapshot point. */
#ifndef HEARTH_CLI_SNAPKEY_H
#define HEARTH_CLI_SNAPKEY_H

#include <stddef.h>

#include "runopts.h"

#define SNAPKEY_HEX 65 /* 64 hex digits and a NUL */

/* The key of o's function snapshot into key. 0, or -errno with a
 * sentence in err (*image_refused: the image did not verify). */
int snapkey_function(const struct runopts *o, char key[SNAPKEY_HEX], char *err, size_t errlen,
                     bool *image_refused);

#endif
