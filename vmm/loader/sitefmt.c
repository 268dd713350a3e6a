/* sitefmt.c - encoding and validation of the site cache's records (see
 * sitefmt.h for their layout). */
#include "loader/sitefmt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "loader/sites.h"

_Static_assert(SITEFMT_SITES_MAX_SIZE == SITEFMT_SITES_HEAD + 8u * SITES_MAX + DIGEST_SHA256_LEN,
               "SITEFMT_SITES_MAX_SIZE must follow SITES_MAX");

static const char sites_magic[8] = {'H', 'R', 'T', 'H', 'S', 'I', 'T', 'E'};
static const char index_magic[8] = {'H', 'R', 'T', 'H', 'S', 'I', 'D', 'X'};

static int bad(const char **why, const char *reason) {
  *why = reason;
  return -EINVAL;
}

static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, sizeof v); }
static void put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, sizeof v); }
static uint32_t get_u32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}
static uint64_t get_u64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* The trailing checksum: SHA-256 of buf[0, len), stored at buf + len. */
static void seal(uint8_t *buf, size_t len) { digest_sha256(buf, len, buf + len); }

static bool sealed(const uint8_t *buf, size_t len) {
  uint8_t sum[DIGEST_SHA256_LEN];
  digest_sha256(buf, len, sum);
  return memcmp(sum, buf + len, sizeof sum) == 0;
}

size_t sitefmt_sites_size(size_t n) { return SITEFMT_SITES_HEAD + 8 * n + DIGEST_SHA256_LEN; }

void sitefmt_sites_encode(const uint8_t sha[DIGEST_SHA256_LEN], uint64_t file_size,
                          const struct file_sites *sites, uint8_t *out) {
  memcpy(out, sites_magic, sizeof sites_magic);
  put_u32(out + 8, SITEFMT_VERSION);
  put_u32(out + 12, FILESITES_FINDER_VERSION);
  memcpy(out + 16, sha, DIGEST_SHA256_LEN);
  put_u64(out + 48, file_size);
  put_u64(out + 56, sites->n);
  for (size_t i = 0; i < sites->n; i++)
    put_u64(out + SITEFMT_SITES_HEAD + 8 * i, sites->v[i]);
  seal(out, SITEFMT_SITES_HEAD + 8 * sites->n);
}

static int check_sites_head(const uint8_t *buf, size_t len, const uint8_t *sha, uint64_t file_size,
                            uint64_t *count, const char **why) {
  if (len < sitefmt_sites_size(0) || len > SITEFMT_SITES_MAX_SIZE)
    return bad(why, "size out of range");
  if (memcmp(buf, sites_magic, sizeof sites_magic) != 0)
    return bad(why, "bad magic");
  if (get_u32(buf + 8) != SITEFMT_VERSION || get_u32(buf + 12) != FILESITES_FINDER_VERSION)
    return bad(why, "other version");
  if (memcmp(buf + 16, sha, DIGEST_SHA256_LEN) != 0 || get_u64(buf + 48) != file_size)
    return bad(why, "for other content");
  *count = get_u64(buf + 56);
  if (*count > SITES_MAX || len != sitefmt_sites_size((size_t)*count))
    return bad(why, "count does not match the size");
  if (!sealed(buf, len - DIGEST_SHA256_LEN))
    return bad(why, "checksum mismatch");
  return 0;
}

int sitefmt_sites_decode(const uint8_t *buf, size_t len, const uint8_t sha[DIGEST_SHA256_LEN],
                         uint64_t file_size, struct file_sites *out, const char **why) {
  uint64_t n;
  *out = (struct file_sites){0};
  int err = check_sites_head(buf, len, sha, file_size, &n, why);
  if (err || n == 0)
    return err;
  uint64_t *v = malloc((size_t)n * sizeof *v);
  if (!v)
    return -ENOMEM;
  for (size_t i = 0; i < n; i++) {
    v[i] = get_u64(buf + SITEFMT_SITES_HEAD + 8 * i);
    if ((i > 0 && v[i] <= v[i - 1]) || file_size < 2 || v[i] > file_size - 2) {
      free(v);
      return bad(why, "offsets out of order or outside the file");
    }
  }
  *out = (struct file_sites){.v = v, .n = (size_t)n};
  return 0;
}

static void put_id(uint8_t *p, const struct site_file_id *id) {
  const uint64_t f[5] = {id->dev, id->ino, id->size, id->mtime_ns, id->ctime_ns};
  for (size_t i = 0; i < 5; i++)
    put_u64(p + 8 * i, f[i]);
}

void sitefmt_index_encode(const struct site_file_id *id, const uint8_t sha[DIGEST_SHA256_LEN],
                          uint8_t out[SITEFMT_INDEX_SIZE]) {
  memcpy(out, index_magic, sizeof index_magic);
  put_u32(out + 8, SITEFMT_VERSION);
  put_u32(out + 12, 0);
  put_id(out + 16, id);
  memcpy(out + 56, sha, DIGEST_SHA256_LEN);
  seal(out, SITEFMT_INDEX_SIZE - DIGEST_SHA256_LEN);
}

int sitefmt_index_decode(const uint8_t *buf, size_t len, const struct site_file_id *id,
                         uint8_t sha[DIGEST_SHA256_LEN], const char **why) {
  uint8_t want[40];
  if (len != SITEFMT_INDEX_SIZE)
    return bad(why, "size out of range");
  if (memcmp(buf, index_magic, sizeof index_magic) != 0)
    return bad(why, "bad magic");
  if (get_u32(buf + 8) != SITEFMT_VERSION || get_u32(buf + 12) != 0)
    return bad(why, "other version");
  if (!sealed(buf, SITEFMT_INDEX_SIZE - DIGEST_SHA256_LEN))
    return bad(why, "checksum mismatch");
  put_id(want, id);
  if (memcmp(buf + 16, want, sizeof want) != 0)
    return bad(why, "stale");
  memcpy(sha, buf + 56, DIGEST_SHA256_LEN);
  return 0;
}
