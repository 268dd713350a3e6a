/* sha256.h - streaming SHA-256 for image data (a file's bytes as they
 * come out of rootfs.tar, or off the disk at build time), on libcrypto's
 * low-level interface like vmm/loader/digest.c: the CPU's SHA extensions
 * without OpenSSL's provider start-up in hearth-vmm. One-shot hashes and
 * hex use digest.h. */
#ifndef HEARTH_IMAGES_SHA256_H
#define HEARTH_IMAGES_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "loader/digest.h"

/* Room for libcrypto's SHA256_CTX (checked in sha256.c). */
struct img_sha256 {
  uint64_t opaque[16];
};

void img_sha256_init(struct img_sha256 *h);
void img_sha256_update(struct img_sha256 *h, const void *data, size_t len);
void img_sha256_final(struct img_sha256 *h, uint8_t out[DIGEST_SHA256_LEN]);

/* Parses 64 lower-case hex digits (exactly, NUL-terminated) into out:
 * 0, or -EINVAL. */
int img_sha256_from_hex(const char *hex, uint8_t out[DIGEST_SHA256_LEN]);

#endif
