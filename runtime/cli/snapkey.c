/* snapkey.c - a function snapshot's key (snapkey.h). */
#include "snapkey.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "codepack.h"
#include "lib/cache.h"
#include "lib/sha256.h"

/* The image's manifest hash, after verifying it. */
static int verified_image(const struct runopts *o, char hash[DIGEST_SHA256_HEX], char *err,
                          size_t errlen) {
  struct img_cache cache;
  struct img_err ie = {{0}};
  int rc = img_cache_open(o->image, o->trust, o->state_dir, &cache, &ie);
  if (rc < 0) {
    snprintf(err, errlen, "%s", ie.msg[0] ? ie.msg : strerror(-rc));
    return rc;
  }
  memcpy(hash, cache.key, DIGEST_SHA256_HEX);
  img_cache_close(&cache);
  return 0;
}

static int hash_sink(void *ctx, const void *buf, size_t len) {
  img_sha256_update(ctx, buf, len);
  return 0;
}

/* The SHA-256 of the code as `hearth run` sends it (the normalised tar). */
static int code_hash(const struct runopts *o, char hex[DIGEST_SHA256_HEX], char *err,
                     size_t errlen) {
  struct code_limits lim = code_limits_default();
  struct codepack *p;
  bool refused;
  int rc = codepack_open(&p, o->code, &lim, err, errlen, &refused);
  if (rc < 0)
    return rc;
  struct img_sha256 h;
  img_sha256_init(&h);
  rc = codepack_write(p, hash_sink, &h, err, errlen, &refused);
  codepack_close(p);
  if (rc < 0)
    return rc;
  uint8_t d[DIGEST_SHA256_LEN];
  img_sha256_final(&h, d);
  digest_hex(d, hex);
  return 0;
}

/* The SHA-256 of text[0..n) in hex, n checked against cap. */
static int key_of(const char *text, int n, size_t cap, char key[SNAPKEY_HEX]) {
  if (n < 0 || (size_t)n >= cap)
    return -ENAMETOOLONG;
  uint8_t d[DIGEST_SHA256_LEN];
  digest_sha256(text, (size_t)n, d);
  digest_hex(d, key);
  return 0;
}

int snapkey_derive(const struct runopts *o, struct snapkeys *keys, char *err, size_t errlen,
                   bool *image_refused) {
  char image[DIGEST_SHA256_HEX], code[DIGEST_SHA256_HEX];
  *image_refused = false;
  int rc = verified_image(o, image, err, errlen);
  if (rc < 0) {
    *image_refused = true;
    return rc;
  }
  if ((rc = code_hash(o, code, err, errlen)) < 0)
    return rc;
  const char *pages = o->guest_pages ? o->guest_pages : "default";
  char text[1024 + HF_STRING_MAX];
  int n =
      snprintf(text, sizeof text, "hearth image snapshot\nversion=%s\nimage=%s\nmem=%u\npages=%s\n",
               HEARTH_VERSION, image, o->mem_mib, pages);
  if ((rc = key_of(text, n, sizeof text, keys->image)) < 0)
    return rc;
  n = snprintf(text, sizeof text,
               "hearth function snapshot\nversion=%s\nimage=%s\nmem=%u\npages=%s\n"
               "code=%s\nhandler=%s\n",
               HEARTH_VERSION, image, o->mem_mib, pages, code, o->handler ? o->handler : "");
  return key_of(text, n, sizeof text, keys->function);
}
