/* codepack.h - a function's code, from a directory or a tar, tar.gz or zip
 * archive, written out as one normalised pax tar (libarchive) piece by piece
 * to a sink, never whole in memory. Every entry is checked on the way with
 * guest-init/unpack/codelimits.h, the rules hearth-init applies when it
 * unpacks, so bad code is refused on the host with a clear message before
 * it is sent: only files, directories and symlinks; relative paths without
 * ".."; symlinks that stay inside; caps on entries, bytes, path length and
 * depth. Entries come out in normal form (owner 0, permission bits only,
 * mtime kept), each parent directory listed before what it holds. */
#ifndef HEARTH_CLI_CODEPACK_H
#define HEARTH_CLI_CODEPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "unpack/codelimits.h"

struct codepack;

/* Takes the next piece of the tar. 0 or a negative errno, which stops the
 * packing and is returned by codepack_write. */
typedef int codepack_sink_fn(void *ctx, const void *buf, size_t len);

/* Opens path (a directory, or an archive file) and reads its first entry,
 * so a missing path, "not an archive" or a bad first entry fails here,
 * before any VM exists. lim is copied. Returns 0, or -errno with a message
 * in err; *refused says the code itself is at fault (not the host). */
int codepack_open(struct codepack **out, const char *path, const struct code_limits *lim, char *err,
                  size_t errlen, bool *refused);

/* Writes the whole tar to sink. Returns 0, the sink's error, or another
 * -errno with a message in err (*refused as above). On error nothing more
 * reaches the sink, and the tar is left unfinished (no end-of-archive
 * blocks), so a reader can never take it for complete. */
int codepack_write(struct codepack *p, codepack_sink_fn *sink, void *ctx, char *err, size_t errlen,
                   bool *refused);

/* Entries and file bytes written (counted against the limits). */
struct code_totals codepack_totals(const struct codepack *p);

void codepack_close(struct codepack *p);

#endif
