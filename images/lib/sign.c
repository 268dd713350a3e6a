/* sign.c - manifest.sig, made and checked with libsodium (see sign.h). */
#include "sign.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define ALGORITHM "ed25519"

int img_sign(const struct img_seckey *k, const void *data, size_t len, char **sig, size_t *sig_len,
             struct img_err *err) {
  uint8_t s[crypto_sign_BYTES];
  char b64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_ORIGINAL)];
  int rc = img_crypto_init(err);
  if (rc)
    return rc;
  crypto_sign_detached(s, NULL, data, len, k->sk);
  sodium_bin2base64(b64, sizeof b64, s, sizeof s, sodium_base64_VARIANT_ORIGINAL);
  cJSON *o = cJSON_CreateObject();
  char *text = NULL;
  if (o && cJSON_AddStringToObject(o, "key_id", k->pub.id) &&
      cJSON_AddStringToObject(o, "algorithm", ALGORITHM) &&
      cJSON_AddStringToObject(o, "signature", b64))
    text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  size_t n = text ? strlen(text) : 0;
  char *buf = text ? realloc(text, n + 2) : NULL;
  if (!buf) {
    free(text);
    return img_fail(err, -ENOMEM, "manifest.sig: out of memory");
  }
  memcpy(buf + n, "\n", 2);
  *sig = buf;
  *sig_len = n + 1;
  return 0;
}

static const char *string_member(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The key id and signature bytes of a manifest.sig text. */
static int parse_sig(const char *text, size_t len, char id[IMG_KEY_ID_LEN + 1],
                     uint8_t s[crypto_sign_BYTES], struct img_err *err) {
  if (len > IMG_SIG_MAX_BYTES)
    return img_fail(err, -EINVAL, "manifest.sig: more than %d bytes", IMG_SIG_MAX_BYTES);
  cJSON *o = cJSON_ParseWithLength(text, len);
  const char *kid = string_member(o, "key_id"), *alg = string_member(o, "algorithm"),
             *b64 = string_member(o, "signature");
  int rc = 0;
  size_t n = 0;
  if (!o || !kid || !alg || !b64)
    rc = img_fail(err, -EINVAL, "manifest.sig: want JSON with key_id, algorithm and signature");
  else if (strcmp(alg, ALGORITHM) != 0)
    rc = img_fail(err, -EINVAL, "manifest.sig: algorithm \"%.32s\", want \"" ALGORITHM "\"", alg);
  else if (strlen(kid) != IMG_KEY_ID_LEN || strspn(kid, "0123456789abcdef") != IMG_KEY_ID_LEN)
    rc = img_fail(err, -EINVAL, "manifest.sig: key_id is not %d hex digits", IMG_KEY_ID_LEN);
  else if (sodium_base642bin(s, crypto_sign_BYTES, b64, strlen(b64), NULL, &n, NULL,
                             sodium_base64_VARIANT_ORIGINAL) != 0 ||
           n != crypto_sign_BYTES)
    rc = img_fail(err, -EINVAL, "manifest.sig: the signature is not %d bytes of base64",
                  crypto_sign_BYTES);
  if (!rc)
    memcpy(id, kid, IMG_KEY_ID_LEN + 1);
  cJSON_Delete(o);
  return rc;
}

int img_sign_check(const struct img_trust *trust, const void *data, size_t len, const char *sig,
                   size_t sig_len, struct img_err *err) {
  char id[IMG_KEY_ID_LEN + 1];
  uint8_t s[crypto_sign_BYTES];
  int rc = img_crypto_init(err);
  if (rc || (rc = parse_sig(sig, sig_len, id, s, err)))
    return rc;
  const struct img_pubkey *k = img_trust_find(trust, id);
  if (!k)
    return img_fail(err, -ENOKEY, "manifest.sig: signed by key %s, which is not trusted", id);
  if (crypto_sign_verify_detached(s, data, len, k->pk) != 0)
    return img_fail(err, -EBADMSG,
                    "manifest.sig: the signature does not match manifest.json (key %s)", id);
  return 0;
}
