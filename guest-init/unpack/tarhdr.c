/* tarhdr.c - tar header blocks (tarhdr.h): magic, checksum, numbers in
 * octal or GNU's base-256, and the name fields. */
#include "tarhdr.h"

#include <errno.h>
#include <string.h>

/* Field offsets and sizes of the ustar header. */
enum {
  F_NAME = 0,
  L_NAME = 100,
  F_MODE = 100,
  L_MODE = 8,
  F_SIZE = 124,
  L_SIZE = 12,
  F_CHKSUM = 148,
  L_CHKSUM = 8,
  F_TYPE = 156,
  F_LINK = 157,
  L_LINK = 100,
  F_MAGIC = 257,
  F_PREFIX = 345,
  L_PREFIX = 155,
};

int tar_block_is_zero(const uint8_t block[TAR_BLOCK]) {
  for (size_t i = 0; i < TAR_BLOCK; i++)
    if (block[i])
      return 0;
  return 1;
}

/* An octal field: optional leading spaces, digits, then NULs or spaces to
 * the end; or, with the top bit of the first byte set, GNU's big-endian
 * base-256 (positive only). Values must stay below 2^63. */
static int parse_number(const uint8_t *f, size_t n, uint64_t *out) {
  uint64_t v = 0;
  if (f[0] & 0x80) {
    if (f[0] != 0x80)
      return -EINVAL; /* negative, or more than 63 bits */
    for (size_t i = 1; i < n; i++) {
      if (v >> 55)
        return -EINVAL;
      v = v << 8 | f[i];
    }
    *out = v;
    return 0;
  }
  size_t i = 0;
  while (i < n && f[i] == ' ')
    i++;
  size_t digits = 0;
  for (; i < n && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
    if (v >> 60)
      return -EINVAL;
    v = v << 3 | (uint64_t)(f[i] - '0');
  }
  for (; i < n; i++)
    if (f[i] != ' ' && f[i] != '\0')
      return -EINVAL;
  if (digits == 0)
    return -EINVAL;
  *out = v;
  return 0;
}

/* The header's checksum: the bytes summed with the checksum field read as
 * spaces. Old writers summed signed chars, so both sums are accepted. */
static int checksum_ok(const uint8_t *b) {
  uint64_t want;
  if (parse_number(b + F_CHKSUM, L_CHKSUM, &want) < 0)
    return 0;
  uint64_t usum = 0;
  int64_t ssum = 0;
  for (size_t i = 0; i < TAR_BLOCK; i++) {
    uint8_t c = (i >= F_CHKSUM && i < F_CHKSUM + L_CHKSUM) ? ' ' : b[i];
    usum += c;
    ssum += (int8_t)c;
  }
  return want == usum || (int64_t)want == ssum;
}

static size_t field_len(const uint8_t *f, size_t n) {
  const uint8_t *nul = memchr(f, '\0', n);
  return nul ? (size_t)(nul - f) : n;
}

int tar_header_parse(const uint8_t block[TAR_BLOCK], struct tar_header *h) {
  int posix = memcmp(block + F_MAGIC,
                     "ustar\0"
                     "00",
                     8) == 0;
  int gnu = memcmp(block + F_MAGIC, "ustar  \0", 8) == 0;
  if (!posix && !gnu)
    return -EBADMSG;
  if (!checksum_ok(block))
    return -EBADMSG;
  uint64_t mode, size;
  if (parse_number(block + F_MODE, L_MODE, &mode) < 0 ||
      parse_number(block + F_SIZE, L_SIZE, &size) < 0)
    return -EINVAL;
  h->type = (char)block[F_TYPE];
  h->mode = (uint32_t)(mode & 0777);
  h->size = size;
  /* GNU's format reuses the prefix field for other things. */
  size_t plen = posix ? field_len(block + F_PREFIX, L_PREFIX) : 0;
  size_t nlen = field_len(block + F_NAME, L_NAME);
  h->name_len = 0;
  if (plen) {
    memcpy(h->name, block + F_PREFIX, plen);
    h->name[plen] = '/';
    h->name_len = plen + 1;
  }
  memcpy(h->name + h->name_len, block + F_NAME, nlen);
  h->name_len += nlen;
  h->name[h->name_len] = '\0';
  h->link_len = field_len(block + F_LINK, L_LINK);
  memcpy(h->link, block + F_LINK, h->link_len);
  h->link[h->link_len] = '\0';
  return 0;
}
