/* Unit tests of hearth's signing keys and manifest.sig (images/lib/keys.c,
 * sign.c): keygen writes the documented files with the right modes and key
 * id and never replaces a key; a secret key others can read is refused;
 * a signature checks with the signer's key and fails for a changed byte of
 * the data or of the signature, for a key that is not trusted, and for a
 * .pub whose stated id is not its key's. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "imgfix.h"
#include "lib/fileio.h"
#include "lib/keys.h"
#include "lib/sign.h"

static const char data[] = "{\"version\":1,\"the\":\"manifest bytes\"}\n";

static int setup(void **state) {
  static struct fx f;
  fx_setup(&f);
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fx_teardown(*state);
  return 0;
}

static void load_pair(const struct fx *f, struct img_seckey *k, struct img_trust *t) {
  char path[PATH_MAX];
  struct img_err err = {{0}};
  fx_path(path, sizeof path, f->keys, "hearth.key");
  if (img_load_secret(path, k, &err) || img_load_trust(f->keys, t, &err))
    fail_msg("%s", err.msg);
}

static char *read_text(const char *dir, const char *name) {
  char path[PATH_MAX], *text;
  size_t len;
  struct img_err err = {{0}};
  fx_path(path, sizeof path, dir, name);
  if (img_read_file(AT_FDCWD, path, path, 4096, &text, &len, &err))
    fail_msg("%s", err.msg);
  return text;
}

static void test_keygen_writes_the_pair(void **state) {
  struct fx *f = *state;
  char path[PATH_MAX];
  struct stat st;
  fx_path(path, sizeof path, f->keys, "hearth.key");
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  fx_path(path, sizeof path, f->keys, "hearth.pub");
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0644);

  struct img_seckey k;
  struct img_trust t;
  load_pair(f, &k, &t);
  assert_int_equal(t.n, 1);
  assert_memory_equal(t.keys[0].pk, k.pub.pk, IMG_PUBLIC_KEY_LEN);
  /* The id is the first 16 hex digits of the SHA-256 of the public key. */
  uint8_t d[DIGEST_SHA256_LEN];
  char hex[DIGEST_SHA256_HEX];
  digest_sha256(k.pub.pk, IMG_PUBLIC_KEY_LEN, d);
  digest_hex(d, hex);
  assert_memory_equal(k.pub.id, hex, 16);
  char *pub = read_text(f->keys, "hearth.pub"), want[64];
  snprintf(want, sizeof want, "hearth-ed25519-public %s ", k.pub.id);
  assert_memory_equal(pub, want, strlen(want));
  free(pub);
  char *sec = read_text(f->keys, "hearth.key");
  assert_memory_equal(sec, "hearth-ed25519-secret ", 22);
  free(sec);
}

static void test_keygen_never_replaces_a_key(void **state) {
  struct fx *f = *state;
  struct img_err err = {{0}};
  char *before = read_text(f->keys, "hearth.key");
  assert_int_equal(img_keygen(f->keys, &err), -EEXIST);
  assert_non_null(strstr(err.msg, "already exists"));
  char *after = read_text(f->keys, "hearth.key");
  assert_string_equal(before, after);
  free(before);
  free(after);
}

static void test_secret_readable_by_others_is_refused(void **state) {
  struct fx *f = *state;
  char path[PATH_MAX];
  struct img_seckey k;
  struct img_err err = {{0}};
  fx_path(path, sizeof path, f->keys, "hearth.key");
  assert_int_equal(chmod(path, 0640), 0);
  assert_int_equal(img_load_secret(path, &k, &err), -EPERM);
  assert_non_null(strstr(err.msg, "chmod 600"));
}

static void test_signature_round_trip(void **state) {
  struct img_seckey k;
  struct img_trust t;
  struct img_err err = {{0}};
  char *sig;
  size_t sig_len;
  load_pair(*state, &k, &t);
  assert_int_equal(img_sign(&k, data, strlen(data), &sig, &sig_len, &err), 0);
  assert_non_null(strstr(sig, "\"algorithm\":\"ed25519\""));
  assert_non_null(strstr(sig, k.pub.id));
  assert_int_equal(img_sign_check(&t, data, strlen(data), sig, sig_len, &err), 0);
  free(sig);
}

static void test_changed_data_is_refused(void **state) {
  struct img_seckey k;
  struct img_trust t;
  struct img_err err = {{0}};
  char *sig, changed[sizeof data];
  size_t sig_len;
  load_pair(*state, &k, &t);
  assert_int_equal(img_sign(&k, data, strlen(data), &sig, &sig_len, &err), 0);
  memcpy(changed, data, sizeof data);
  changed[5] ^= 1;
  assert_int_equal(img_sign_check(&t, changed, strlen(changed), sig, sig_len, &err), -EBADMSG);
  assert_non_null(strstr(err.msg, "does not match"));
  free(sig);
}

static void test_changed_signature_is_refused(void **state) {
  struct img_seckey k;
  struct img_trust t;
  struct img_err err = {{0}};
  char *sig;
  size_t sig_len;
  load_pair(*state, &k, &t);
  assert_int_equal(img_sign(&k, data, strlen(data), &sig, &sig_len, &err), 0);
  char *b64 = strstr(sig, "\"signature\":\"") + 13;
  b64[3] = b64[3] == 'A' ? 'B' : 'A'; /* still base64, another signature */
  assert_int_equal(img_sign_check(&t, data, strlen(data), sig, sig_len, &err), -EBADMSG);
  b64[3] = '!';
  memset(&err, 0, sizeof err);
  assert_int_equal(img_sign_check(&t, data, strlen(data), sig, sig_len, &err), -EINVAL);
  free(sig);
}

static void test_untrusted_key_is_refused(void **state) {
  struct fx *f = *state;
  struct img_seckey k;
  struct img_trust t, other;
  struct img_err err = {{0}};
  char *sig, other_dir[PATH_MAX];
  size_t sig_len;
  load_pair(f, &k, &t);
  fx_path(other_dir, sizeof other_dir, f->dir, "other");
  assert_int_equal(img_keygen(other_dir, &err), 0);
  assert_int_equal(img_load_trust(other_dir, &other, &err), 0);
  assert_int_equal(img_sign(&k, data, strlen(data), &sig, &sig_len, &err), 0);
  assert_int_equal(img_sign_check(&other, data, strlen(data), sig, sig_len, &err), -ENOKEY);
  assert_non_null(strstr(err.msg, "not trusted"));
  free(sig);
}

/* A .pub naming the trusted key's id but holding another key: refused
 * when the trust directory is loaded. */
static void test_forged_key_id_is_refused(void **state) {
  struct fx *f = *state;
  struct img_seckey k;
  struct img_trust t;
  struct img_err err = {{0}};
  char other_dir[PATH_MAX], path[PATH_MAX];
  load_pair(f, &k, &t);
  fx_path(other_dir, sizeof other_dir, f->dir, "other");
  assert_int_equal(img_keygen(other_dir, &err), 0);
  char *pub = read_text(other_dir, "hearth.pub");
  memcpy(pub + strlen("hearth-ed25519-public "), k.pub.id, IMG_KEY_ID_LEN);
  fx_path(path, sizeof path, other_dir, "hearth.pub");
  FILE *out = fopen(path, "w");
  fputs(pub, out);
  fclose(out);
  free(pub);
  assert_int_equal(img_load_trust(other_dir, &t, &err), -EINVAL);
  assert_non_null(strstr(err.msg, "names key id"));
}

static void test_empty_trust_dir_is_refused(void **state) {
  struct fx *f = *state;
  struct img_trust t;
  struct img_err err = {{0}};
  char empty[PATH_MAX];
  fx_path(empty, sizeof empty, f->dir, "empty");
  assert_int_equal(mkdir(empty, 0700), 0);
  assert_int_equal(img_load_trust(empty, &t, &err), -ENOENT);
  assert_non_null(strstr(err.msg, "no *.pub"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_keygen_writes_the_pair, setup, teardown),
      cmocka_unit_test_setup_teardown(test_keygen_never_replaces_a_key, setup, teardown),
      cmocka_unit_test_setup_teardown(test_secret_readable_by_others_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_signature_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_changed_data_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_changed_signature_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_untrusted_key_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_forged_key_id_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_empty_trust_dir_is_refused, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
