/* keys.c - ed25519 key files and the trusted set (see keys.h). */
#include "keys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "loader/digest.h"

#define SECRET_TAG "hearth-ed25519-secret"
#define PUBLIC_TAG "hearth-ed25519-public"
/* base64 of 32 bytes: 44 characters and a NUL. */
#define KEY_B64_LEN 45

int img_crypto_init(struct img_err *err) {
  return sodium_init() < 0 ? img_fail(err, -EIO, "libsodium cannot start") : 0;
}

void img_key_id(const uint8_t pk[IMG_PUBLIC_KEY_LEN], char id[IMG_KEY_ID_LEN + 1]) {
  uint8_t d[DIGEST_SHA256_LEN];
  char hex[DIGEST_SHA256_HEX];
  digest_sha256(pk, IMG_PUBLIC_KEY_LEN, d);
  digest_hex(d, hex);
  memcpy(id, hex, IMG_KEY_ID_LEN);
  id[IMG_KEY_ID_LEN] = '\0';
}

void img_seckey_wipe(struct img_seckey *k) { sodium_memzero(k, sizeof *k); }

/* "<tag> <id> <base64>\n" for 32 bytes. */
static int format_line(char *out, size_t cap, const char *tag, const char *id, const uint8_t *key) {
  char b64[KEY_B64_LEN];
  sodium_bin2base64(b64, sizeof b64, key, 32, sodium_base64_VARIANT_ORIGINAL);
  int n = snprintf(out, cap, "%s %s %s\n", tag, id, b64);
  sodium_memzero(b64, sizeof b64);
  return n;
}

/* Parses "<tag> <id> <base64 of 32 bytes>" with an optional final newline
 * into key and id: 0, or -EINVAL with err naming `shown`. */
static int parse_line(const char *text, size_t len, const char *tag, const char *shown,
                      uint8_t key[32], char id[IMG_KEY_ID_LEN + 1], struct img_err *err) {
  size_t tag_len = strlen(tag);
  if (len > 0 && text[len - 1] == '\n')
    len--;
  if (memchr(text, '\n', len) || len < tag_len + 2 + IMG_KEY_ID_LEN ||
      memcmp(text, tag, tag_len) != 0 || text[tag_len] != ' ' ||
      text[tag_len + 1 + IMG_KEY_ID_LEN] != ' ')
    return img_fail(err, -EINVAL,
                    "%s: not a hearth key file (want one line \"%s <key id> <base64>\")", shown,
                    tag);
  memcpy(id, text + tag_len + 1, IMG_KEY_ID_LEN);
  id[IMG_KEY_ID_LEN] = '\0';
  const char *b64 = text + tag_len + 2 + IMG_KEY_ID_LEN;
  size_t b64_len = len - (size_t)(b64 - text), bin_len = 0;
  const char *end = NULL;
  if (sodium_base642bin(key, 32, b64, b64_len, NULL, &bin_len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      bin_len != 32 || end != b64 + b64_len)
    return img_fail(err, -EINVAL, "%s: the key is not 32 bytes of base64", shown);
  return 0;
}

static int make_dir(const char *dir, struct img_err *err) {
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    return img_fail(err, -errno, "%s: cannot create: %s", dir, strerror(errno));
  return 0;
}

/* Both files absent, so that neither write below half-succeeds. */
static int check_absent(int dirfd, const char *dir, struct img_err *err) {
  const char *names[] = {IMG_SECRET_NAME, IMG_PUBLIC_NAME};
  for (size_t i = 0; i < 2; i++) {
    struct stat st;
    if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0)
      return img_fail(err, -EEXIST, "%s/%s already exists: a key is never replaced", dir, names[i]);
  }
  return 0;
}

static int write_pair(int dirfd, const char *dir, const struct img_seckey *k, struct img_err *err) {
  char line[256], shown[4200];
  format_line(line, sizeof line, SECRET_TAG, k->pub.id, k->sk); /* the seed: sk's first half */
  snprintf(shown, sizeof shown, "%s/%s", dir, IMG_SECRET_NAME);
  int rc = img_write_file(dirfd, IMG_SECRET_NAME, shown, line, strlen(line), 0600, true, err);
  sodium_memzero(line, sizeof line);
  if (rc)
    return rc;
  format_line(line, sizeof line, PUBLIC_TAG, k->pub.id, k->pub.pk);
  snprintf(shown, sizeof shown, "%s/%s", dir, IMG_PUBLIC_NAME);
  rc = img_write_file(dirfd, IMG_PUBLIC_NAME, shown, line, strlen(line), 0644, true, err);
  if (rc)
    unlinkat(dirfd, IMG_SECRET_NAME, 0); /* no secret without its public half */
  return rc;
}

int img_keygen(const char *dir, struct img_err *err) {
  int rc = img_crypto_init(err);
  if (rc || (rc = make_dir(dir, err)))
    return rc;
  int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return img_fail(err, -errno, "%s: %s", dir, strerror(errno));
  struct img_seckey k;
  rc = check_absent(dirfd, dir, err);
  if (!rc) {
    crypto_sign_keypair(k.pub.pk, k.sk);
    img_key_id(k.pub.pk, k.pub.id);
    rc = write_pair(dirfd, dir, &k, err);
  }
  img_seckey_wipe(&k);
  close(dirfd);
  return rc;
}

int img_load_secret(const char *path, struct img_seckey *out, struct img_err *err) {
  int rc = img_crypto_init(err);
  if (rc)
    return rc;
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return img_fail(err, -errno, "%s: %s", path, strerror(errno));
  char *text = NULL;
  size_t len;
  if (fstat(fd, &st) < 0)
    rc = img_fail(err, -errno, "%s: %s", path, strerror(errno));
  else if (st.st_mode & 077)
    rc = img_fail(err, -EPERM, "%s: readable by group or others: chmod 600 it", path);
  else
    rc = img_read_fd(fd, path, IMG_KEY_FILE_MAX, &text, &len, err);
  close(fd);
  if (rc)
    return rc;
  uint8_t seed[IMG_SEED_LEN];
  char id[IMG_KEY_ID_LEN + 1];
  rc = parse_line(text, len, SECRET_TAG, path, seed, id, err);
  sodium_memzero(text, len);
  free(text);
  if (!rc) {
    crypto_sign_seed_keypair(out->pub.pk, out->sk, seed);
    img_key_id(out->pub.pk, out->pub.id);
    if (strcmp(id, out->pub.id) != 0)
      rc = img_fail(err, -EINVAL, "%s: names key id %s, but its key's id is %s", path, id,
                    out->pub.id);
  }
  sodium_memzero(seed, sizeof seed);
  if (rc)
    img_seckey_wipe(out);
  return rc;
}

static int load_public(int dirfd, const char *name, const char *dir, struct img_pubkey *out,
                       struct img_err *err) {
  char shown[4400], *text;
  size_t len;
  snprintf(shown, sizeof shown, "%s/%s", dir, name);
  int rc = img_read_file(dirfd, name, shown, IMG_KEY_FILE_MAX, &text, &len, err);
  if (rc)
    return rc;
  char id[IMG_KEY_ID_LEN + 1];
  rc = parse_line(text, len, PUBLIC_TAG, shown, out->pk, id, err);
  free(text);
  if (rc)
    return rc;
  img_key_id(out->pk, out->id);
  if (strcmp(id, out->id) != 0)
    return img_fail(err, -EINVAL, "%s: names key id %s, but its key's id is %s", shown, id,
                    out->id);
  return 0;
}

static bool is_pub_name(const char *name) {
  size_t n = strlen(name);
  return n > 4 && name[0] != '.' && strcmp(name + n - 4, ".pub") == 0;
}

static int add_key(struct img_trust *t, const struct img_pubkey *k, const char *dir,
                   struct img_err *err) {
  if (img_trust_find(t, k->id))
    return 0; /* the same key twice */
  if (t->n == IMG_TRUST_MAX)
    return img_fail(err, -E2BIG, "%s: more than %d trusted keys", dir, IMG_TRUST_MAX);
  t->keys[t->n++] = *k;
  return 0;
}

int img_load_trust(const char *dir, struct img_trust *out, struct img_err *err) {
  out->n = 0;
  int rc = img_crypto_init(err);
  if (rc)
    return rc;
  int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = dirfd >= 0 ? fdopendir(dirfd) : NULL;
  if (!d) {
    rc = img_fail(err, -errno, "--trust %s: %s", dir, strerror(errno));
    if (dirfd >= 0)
      close(dirfd);
    return rc;
  }
  size_t seen = 0;
  for (struct dirent *e; !rc && (e = readdir(d));) {
    if (!is_pub_name(e->d_name))
      continue;
    struct img_pubkey k;
    if (++seen > 4 * IMG_TRUST_MAX)
      rc = img_fail(err, -E2BIG, "%s: too many *.pub files", dir);
    if (!rc)
      rc = load_public(dirfd, e->d_name, dir, &k, err);
    if (!rc)
      rc = add_key(out, &k, dir, err);
  }
  closedir(d);
  if (!rc && out->n == 0)
    rc = img_fail(err, -ENOENT, "--trust %s: no *.pub key in it", dir);
  return rc;
}

const struct img_pubkey *img_trust_find(const struct img_trust *t, const char *id) {
  for (size_t i = 0; i < t->n; i++)
    if (strcmp(t->keys[i].id, id) == 0)
      return &t->keys[i];
  return NULL;
}
