/* verify.h - an image directory (rootfs.tar, manifest.json, manifest.sig)
 * checked: the signature by a trusted key over the exact manifest bytes
 * first, then the manifest's rules, then rootfs.tar against it
 * (tarcheck.h). Nothing in the manifest is read before its signature
 * holds. */
#ifndef HEARTH_IMAGES_VERIFY_H
#define HEARTH_IMAGES_VERIFY_H

#include <stddef.h>

#include "imgerr.h"
#include "keys.h"
#include "manifest.h"
#include "tarcheck.h"

#define IMG_MANIFEST_NAME "manifest.json"
#define IMG_SIG_NAME "manifest.sig"
#define IMG_ROOTFS_NAME "rootfs.tar"

/* Reads manifest.json of the image directory `imgfd` and checks
 * manifest.sig over it with `trust`: on success *bytes (free() it) holds
 * the signed bytes, NUL-terminated past *len. */
int img_signed_manifest(int imgfd, const struct img_trust *trust, char **bytes, size_t *len,
                        struct img_err *err);

/* The whole check of image_dir against the *.pub keys of trust_dir, the
 * tar streamed through `sink` (NULL: checked only). On success *m holds the
 * parsed manifest (manifest_free it). Messages about the image start with
 * its directory's name. */
int img_verify(const char *image_dir, const char *trust_dir, const struct tar_sink *sink,
               struct manifest *m, struct img_err *err);

/* The tar step alone, for a manifest already signature-checked and parsed. */
int img_verify_tar(int imgfd, const struct manifest *m, const struct tar_sink *sink,
                   struct img_err *err);

#endif
