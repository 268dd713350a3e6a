/* digest.h - SHA-256, the key of the syscall-site cache (a file's content
 * names its site list). OpenSSL's libcrypto computes it: with the CPU's SHA
 * extensions it hashes ~1.8 GB/s here, five times libsodium's portable
 * code (a 6.8 MB python3.11 in 3.7 ms against 19 ms). */
#ifndef HEARTH_VMM_LOADER_DIGEST_H
#define HEARTH_VMM_LOADER_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_SHA256_LEN 32u
#define DIGEST_SHA256_HEX (2 * DIGEST_SHA256_LEN + 1) /* hex digits and a NUL */

/* The SHA-256 of data[0, len) into out. Never fails. */
void digest_sha256(const void *data, size_t len, uint8_t out[DIGEST_SHA256_LEN]);

/* A digest as lower-case hex, NUL-terminated. */
void digest_hex(const uint8_t d[DIGEST_SHA256_LEN], char out[DIGEST_SHA256_HEX]);

#endif
