/* sha256.c - streaming SHA-256 (see sha256.h). */
#define OPENSSL_API_COMPAT 0x10100000L /* SHA256_Init & co. without warnings */
#include "sha256.h"

#include <errno.h>
#include <openssl/sha.h>
#include <string.h>

_Static_assert(sizeof(SHA256_CTX) <= sizeof(struct img_sha256), "img_sha256 too small");
_Static_assert(_Alignof(SHA256_CTX) <= _Alignof(struct img_sha256), "img_sha256 misaligned");

void img_sha256_init(struct img_sha256 *h) { SHA256_Init((SHA256_CTX *)h->opaque); }

void img_sha256_update(struct img_sha256 *h, const void *data, size_t len) {
  SHA256_Update((SHA256_CTX *)h->opaque, data, len);
}

void img_sha256_final(struct img_sha256 *h, uint8_t out[DIGEST_SHA256_LEN]) {
  SHA256_Final(out, (SHA256_CTX *)h->opaque);
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

int img_sha256_from_hex(const char *hex, uint8_t out[DIGEST_SHA256_LEN]) {
  if (strlen(hex) != 2 * DIGEST_SHA256_LEN)
    return -EINVAL;
  for (size_t i = 0; i < DIGEST_SHA256_LEN; i++) {
    int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return -EINVAL;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}
