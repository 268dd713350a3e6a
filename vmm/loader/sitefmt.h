/* sitefmt.h - the two small binary records of the on-disk site cache, and
 * their validation. Numbers are little-endian (x86-64 only). Pure: bytes
 * in, bytes out; a record read back is never trusted: a wrong magic,
 * version, size, key or checksum, or offsets out of order, is a miss.
 *
 * Site list, named by the SHA-256 of the file it describes:
 *    0   8  magic "HRTHSITE"
 *    8   4  record version (SITEFMT_VERSION)
 *   12   4  finder version (FILESITES_FINDER_VERSION)
 *   16  32  SHA-256 of the file's content
 *   48   8  file size
 *   56   8  count n (at most SITES_MAX)
 *   64  8n  file offsets of `syscall`s, strictly increasing, each + 2 <= size
 *    .  32  SHA-256 of every byte before it
 *
 * Index entry, named by the file's (st_dev, st_ino): git's index trick, so a
 * file that did not change is not hashed again.
 *    0   8  magic "HRTHSIDX"
 *    8   4  record version (SITEFMT_VERSION)
 *   12   4  zero
 *   16  40  identity: st_dev, st_ino, size, mtime ns, ctime ns
 *   56  32  SHA-256 of the file's content when it had that identity
 *   88  32  SHA-256 of every byte before it */
#ifndef HEARTH_VMM_LOADER_SITEFMT_H
#define HEARTH_VMM_LOADER_SITEFMT_H

#include <stddef.h>
#include <stdint.h>

#include "loader/digest.h"
#include "loader/filesites.h"

#define SITEFMT_VERSION 1u
#define SITEFMT_SITES_HEAD 64u
#define SITEFMT_INDEX_SIZE 120u
/* Largest site-list record: SITES_MAX offsets. */
#define SITEFMT_SITES_MAX_SIZE (SITEFMT_SITES_HEAD + 8u * (1u << 16) + DIGEST_SHA256_LEN)

/* What a file was when it was hashed: from its fstat. */
struct site_file_id {
  uint64_t dev, ino, size, mtime_ns, ctime_ns;
};

/* Bytes of a site-list record holding n offsets. */
size_t sitefmt_sites_size(size_t n);

/* Writes the record for `sites` of the file with content hash `sha` and
 * `file_size` bytes into out[0, sitefmt_sites_size(sites->n)). */
void sitefmt_sites_encode(const uint8_t sha[DIGEST_SHA256_LEN], uint64_t file_size,
                          const struct file_sites *sites, uint8_t *out);

/* Validates buf[0, len) as the record for content `sha` of `file_size`
 * bytes and copies its offsets into *out (free with file_sites_free).
 * 0; -EINVAL with *why set for anything wrong; -ENOMEM. */
int sitefmt_sites_decode(const uint8_t *buf, size_t len, const uint8_t sha[DIGEST_SHA256_LEN],
                         uint64_t file_size, struct file_sites *out, const char **why);

void sitefmt_index_encode(const struct site_file_id *id, const uint8_t sha[DIGEST_SHA256_LEN],
                          uint8_t out[SITEFMT_INDEX_SIZE]);

/* Validates buf[0, len) as an index entry for exactly `id` and stores its
 * content hash in sha. 0, or -EINVAL with *why set (a different identity
 * is "stale"). */
int sitefmt_index_decode(const uint8_t *buf, size_t len, const struct site_file_id *id,
                         uint8_t sha[DIGEST_SHA256_LEN], const char **why);

#endif
