/* digest.c - SHA-256 through libcrypto's low-level interface (see
 * digest.h). The one-shot SHA256() of OpenSSL 3 goes through EVP and its
 * provider machinery, which hearth-vmm would pay for at every start (about
 * 0.25 ms linked statically, 0.55 ms as libcrypto.so); the low-level
 * functions, deprecated in 3.0 but present, pull in only the hash and the
 * CPU-feature probe. Linked from libcrypto.a (vmm/CMakeLists.txt). */
#define OPENSSL_API_COMPAT 0x10100000L /* SHA256_Init & co. without warnings */
#include "loader/digest.h"

#include <openssl/sha.h>

void digest_sha256(const void *data, size_t len, uint8_t out[DIGEST_SHA256_LEN]) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data, len);
  SHA256_Final(out, &ctx);
}

void digest_hex(const uint8_t d[DIGEST_SHA256_LEN], char out[DIGEST_SHA256_HEX]) {
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < DIGEST_SHA256_LEN; i++) {
    out[2 * i] = hex[d[i] >> 4];
    out[2 * i + 1] = hex[d[i] & 15];
  }
  out[2 * DIGEST_SHA256_LEN] = '\0';
}
