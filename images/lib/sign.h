/* sign.h - manifest.sig: an ed25519 signature over the exact bytes of
 * manifest.json, naming the key that made it:
 *   {"key_id":"<16 hex>","algorithm":"ed25519","signature":"<base64 of 64 bytes>"}
 * (at most IMG_SIG_MAX_BYTES). Only a key of the trusted set whose id
 * matches can make a signature check pass. */
#ifndef HEARTH_IMAGES_SIGN_H
#define HEARTH_IMAGES_SIGN_H

#include <stddef.h>

#include "imgerr.h"
#include "keys.h"

#define IMG_SIG_MAX_BYTES 4096

/* Signs data[0, len) with k: *sig (NUL-terminated, *sig_len bytes, a final
 * newline) is the manifest.sig text. */
int img_sign(const struct img_seckey *k, const void *data, size_t len, char **sig, size_t *sig_len,
             struct img_err *err);

/* Checks that sig[0, sig_len) is a valid manifest.sig for data[0, len)
 * made by a key of `trust`. 0; -EINVAL (malformed), -ENOKEY (the key is not
 * trusted) or -EBADMSG (the signature does not match), each with err set. */
int img_sign_check(const struct img_trust *trust, const void *data, size_t len, const char *sig,
                   size_t sig_len, struct img_err *err);

#endif
