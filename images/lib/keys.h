/* keys.h - hearth's ed25519 signing keys (libsodium) and the trusted set.
 *
 * A key pair is two one-line text files in a directory:
 *   hearth.key  "hearth-ed25519-secret <key id> <base64 of the 32-byte seed>\n"  mode 0600
 *   hearth.pub  "hearth-ed25519-public <key id> <base64 of the 32-byte public key>\n"
 * The key id is the first 16 hex digits of the SHA-256 of the public key:
 * manifest.sig names it, so a verifier picks the one key it needs, and a
 * file whose id does not match its key is refused. `--trust DIR` is every
 * `*.pub` file of DIR (at most IMG_TRUST_MAX, each at most
 * IMG_KEY_FILE_MAX bytes). */
#ifndef HEARTH_IMAGES_KEYS_H
#define HEARTH_IMAGES_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "imgerr.h"

#define IMG_KEY_ID_LEN 16 /* hex digits */
#define IMG_PUBLIC_KEY_LEN 32
#define IMG_SEED_LEN 32
#define IMG_SECRET_KEY_LEN 64 /* libsodium's form: seed and public key */
#define IMG_TRUST_MAX 64
#define IMG_KEY_FILE_MAX 1024
#define IMG_SECRET_NAME "hearth.key"
#define IMG_PUBLIC_NAME "hearth.pub"

struct img_pubkey {
  uint8_t pk[IMG_PUBLIC_KEY_LEN];
  char id[IMG_KEY_ID_LEN + 1];
};

struct img_seckey {
  uint8_t sk[IMG_SECRET_KEY_LEN];
  struct img_pubkey pub;
};

struct img_trust {
  struct img_pubkey keys[IMG_TRUST_MAX];
  size_t n;
};

/* libsodium's one-time start-up (sodium_init): 0 or -EIO. Every function
 * here and in sign.h calls it first. */
int img_crypto_init(struct img_err *err);

/* The key id of a public key. */
void img_key_id(const uint8_t pk[IMG_PUBLIC_KEY_LEN], char id[IMG_KEY_ID_LEN + 1]);

/* Makes a new key pair in `dir` (created 0700 when missing). Refuses
 * (-EEXIST) when either file is already there: a key is never replaced. */
int img_keygen(const char *dir, struct img_err *err);

/* Loads a secret key file; refuses one readable by group or others. */
int img_load_secret(const char *path, struct img_seckey *out, struct img_err *err);

/* Loads every *.pub of `dir`; at least one must be there. */
int img_load_trust(const char *dir, struct img_trust *out, struct img_err *err);

/* The trusted key with this id, or NULL. */
const struct img_pubkey *img_trust_find(const struct img_trust *t, const char *id);

/* Wipes a secret key from memory. */
void img_seckey_wipe(struct img_seckey *k);

#endif
