/* tarx.h - a streaming tar extractor for code bundles: feed it the archive
 * in pieces of any size (as DATA frames arrive) and it creates the entries
 * under a directory fd as it goes, holding at most one 512-byte header and
 * one extended header in memory, never a file's data.
 *
 * Reads POSIX ustar and pax (path, linkpath and size records) and GNU tar
 * (long names 'L' and long link targets 'K', base-256 sizes). Every entry
 * is checked with codelimits.h (paths, symlink targets, entry types) and
 * counted against its limits: declared sizes before any byte is written (a
 * bomb is refused at its header), entries as they are created. */
#ifndef HEARTH_UNPACK_TARX_H
#define HEARTH_UNPACK_TARX_H

#include <stddef.h>

#include "codelimits.h"

struct tarx;

/* An extractor writing under dirfd (borrowed; it should be empty). 0 or
 * -ENOMEM. */
int tarx_new(struct tarx **out, int dirfd, const struct code_limits *lim);
void tarx_free(struct tarx *t);

/* Consumes len bytes of the archive. 0, or a negative errno that sticks
 * (tarx_error says what and where):
 *   -EBADMSG  not a tar archive (bad magic or header checksum), or a
 *             malformed extended header or numeric field
 *   CODE_E_*  an entry refused by the limits (codelimits.h)
 *   -EEXIST   an entry listed twice
 *   -ELOOP / -ENOTDIR  a path going through a symlink or a file
 *   other     the file system's own errors (-ENOSPC...) */
int tarx_feed(struct tarx *t, const void *buf, size_t len);

/* The archive ended: 0 when it was complete (its end-of-archive block
 * seen), -EPIPE when it was cut short, or the sticky error. */
int tarx_finish(struct tarx *t);

/* A one-line message for the error ("" when none), naming the entry. */
const char *tarx_error(const struct tarx *t);

/* Entries created (files, directories, symlinks) and file bytes. */
struct code_totals tarx_totals(const struct tarx *t);

#endif
