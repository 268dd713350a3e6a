/* tarcheck.h - rootfs.tar checked against its (already signature-checked)
 * manifest in one streaming pass with libarchive: every tar entry must be
 * listed, exactly once, after its parent directory, with the same type,
 * mode, mtime, size and symlink target, and a file's data must hash to the
 * listed SHA-256; every listed entry must be there. Hard links, devices,
 * fifos, sockets, sparse files, absolute paths and ".." are refused. The
 * data is never held whole: each block is hashed and handed to an
 * optional sink (the cache's unpacker) as it comes. The first failure
 * stops the pass, named in err ("rootfs.tar: usr/lib/x: ..."). */
#ifndef HEARTH_IMAGES_TARCHECK_H
#define HEARTH_IMAGES_TARCHECK_H

#include <stddef.h>

#include "imgerr.h"
#include "manifest.h"

/* What receives the entries as they pass their checks. `begin` comes once
 * the header matched the manifest, `data` with each block of a file (in
 * order), `end` once the whole file hashed right. Each returns 0, or a
 * negative errno with err set, which stops the pass. */
struct tar_sink {
  int (*begin)(void *ctx, const struct manifest_entry *e, struct img_err *err);
  int (*data)(void *ctx, const void *buf, size_t len, struct img_err *err);
  int (*end)(void *ctx, const struct manifest_entry *e, struct img_err *err);
  void *ctx;
};

/* Reads the tar archive from fd (uncompressed tar, pax or ustar) and
 * checks it against m; feeds `sink` when not NULL. 0 when everything
 * holds; otherwise a negative errno (-EBADMSG for an archive that does not
 * match, -EINVAL for a malformed one) with err set. */
int tarcheck_stream(int fd, const struct manifest *m, const struct tar_sink *sink,
                    struct img_err *err);

#endif
