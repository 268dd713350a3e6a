/* sitestore.h - the site cache on disk, shared by every hearth-vmm of a
 * user: one site-list record per file content (`<sha256 hex>.sites`) and one
 * index entry per host file (`<st_dev hex>-<st_ino hex>.idx`) pointing at
 * its content's hash, in one private directory (sitefmt.h has the
 * records). Records are written whole to a temporary file and renamed into
 * place, so a reader sees an old record, a new one or none; records are
 * read with a size cap and validated, and anything wrong reads as a miss
 * (the caller works the list out again and rewrites it). Only the VMM's
 * own files are touched, never the guest's, and only names the store
 * writes. Not thread-safe: one store per VM, used by one thread at a time;
 * any number of processes may share the directory. */
#ifndef HEARTH_VMM_LOADER_SITESTORE_H
#define HEARTH_VMM_LOADER_SITESTORE_H

#include <stdint.h>

#include "loader/digest.h"
#include "loader/filesites.h"
#include "loader/sitefmt.h"

struct sitestore;

/* Files the directory may hold: past it, a write removes the older half of
 * the records (a guest mapping many files, or files copied again and again,
 * would otherwise grow it without end). */
#ifndef SITESTORE_MAX_RECORDS /* tests lower it */
#define SITESTORE_MAX_RECORDS 4096
#endif

/* Opens the cache directory `dir` (a host path), creating it and its
 * missing parents with mode 0700. Refuses a directory owned by another
 * user or writable by group or others (-EPERM): lists found there decide
 * what gets rewritten. 0, or a negative errno, logged: the caller then
 * runs without a disk cache. */
int sitestore_open(const char *dir, struct sitestore **out);
void sitestore_close(struct sitestore *s);

/* The content hash the index holds for a file with identity `id`: 0, or
 * -ENOENT (no entry, a stale one, or one that does not validate). */
int sitestore_index_get(struct sitestore *s, const struct site_file_id *id,
                        uint8_t sha[DIGEST_SHA256_LEN]);

/* The site list of content `sha` (`file_size` bytes) into *out (free with
 * file_sites_free): 0, -ENOENT (absent, or invalid: logged at info level),
 * or -ENOMEM; *out is empty on failure. */
int sitestore_sites_get(struct sitestore *s, const uint8_t sha[DIGEST_SHA256_LEN],
                        uint64_t file_size, struct file_sites *out);

/* Records an index entry, or a site list, atomically replacing any older
 * one. Failures are logged once per store and otherwise ignored: the cache
 * is an optimisation. */
void sitestore_index_put(struct sitestore *s, const struct site_file_id *id,
                         const uint8_t sha[DIGEST_SHA256_LEN]);
void sitestore_sites_put(struct sitestore *s, const uint8_t sha[DIGEST_SHA256_LEN],
                         uint64_t file_size, const struct file_sites *sites);

#endif
