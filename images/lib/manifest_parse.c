/* manifest_parse.c - manifest.json into a struct manifest (see
 * manifest.h): cJSON parses, every member is type- and range-checked here,
 * and manifest_check applies the structural rules. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/sites.h"
#include "manifest.h"
#include "sha256.h"

/* The integer member `key` of obj, at most max: 0, or -EINVAL. */
static int get_uint(const cJSON *obj, const char *key, uint64_t max, uint64_t *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!cJSON_IsNumber(v))
    return -EINVAL;
  double d = v->valuedouble;
  if (!(d >= 0) || d > (double)max || d != (double)(uint64_t)d)
    return -EINVAL;
  *out = (uint64_t)d;
  return 0;
}

/* A copy of a string value of at most `max` bytes, or NULL. */
static char *dup_string(const cJSON *v, size_t max) {
  if (!cJSON_IsString(v) || !v->valuestring || strlen(v->valuestring) > max)
    return NULL;
  return strdup(v->valuestring);
}

static int get_string(const cJSON *obj, const char *key, size_t max, char **out) {
  *out = dup_string(cJSON_GetObjectItemCaseSensitive(obj, key), max);
  return *out ? 0 : -EINVAL;
}

static int parse_type(const cJSON *obj, enum manifest_type *t) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "type");
  const char *s = cJSON_IsString(v) ? v->valuestring : "";
  if (strcmp(s, "file") == 0)
    *t = MANIFEST_FILE;
  else if (strcmp(s, "dir") == 0)
    *t = MANIFEST_DIR;
  else if (strcmp(s, "symlink") == 0)
    *t = MANIFEST_SYMLINK;
  else
    return -EINVAL;
  return 0;
}

static int parse_sites(const cJSON *arr, struct manifest_entry *e) {
  int n = cJSON_GetArraySize(arr);
  if (!cJSON_IsArray(arr) || n < 0 || (unsigned)n > SITES_MAX)
    return -EINVAL;
  e->has_sites = true;
  e->sites.v = calloc(n ? (size_t)n : 1, sizeof *e->sites.v);
  if (!e->sites.v)
    return -ENOMEM;
  const cJSON *v;
  cJSON_ArrayForEach(v, arr) {
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
    if (!(d >= 0) || d > (double)MANIFEST_MAX_INT || d != (double)(uint64_t)d)
      return -EINVAL;
    e->sites.v[e->sites.n++] = (uint64_t)d;
  }
  return 0;
}

/* The failure of member `what` of entries[i]. */
static int bad_member(const struct manifest_entry *e, size_t i, const char *what, int rc,
                      struct img_err *err) {
  if (rc == -ENOMEM)
    return img_fail(err, rc, "manifest: out of memory");
  if (e->path)
    return img_fail(err, -EINVAL, "manifest entry %s: missing or invalid \"%s\"", e->path, what);
  return img_fail(err, -EINVAL, "manifest entries[%zu]: missing or invalid \"%s\"", i, what);
}

static int parse_sha256(const cJSON *obj, uint8_t out[DIGEST_SHA256_LEN]) {
  char *hex;
  int rc = get_string(obj, "sha256", 2 * DIGEST_SHA256_LEN, &hex);
  if (!rc)
    rc = img_sha256_from_hex(hex, out);
  free(hex);
  return rc;
}

/* The members only files have: size, sha256 and maybe sites. */
static int parse_file_members(const cJSON *obj, struct manifest_entry *e, size_t i,
                              struct img_err *err) {
  int rc;
  if ((rc = get_uint(obj, "size", MANIFEST_MAX_FILE_BYTES, &e->size)))
    return bad_member(e, i, "size", rc, err);
  if ((rc = parse_sha256(obj, e->sha256)))
    return bad_member(e, i, "sha256", rc, err);
  const cJSON *sites = cJSON_GetObjectItemCaseSensitive(obj, "sites");
  if (sites && (rc = parse_sites(sites, e)))
    return bad_member(e, i, "sites", rc, err);
  return 0;
}

static int parse_entry(const cJSON *obj, struct manifest_entry *e, size_t i, struct img_err *err) {
  uint64_t mode, mtime;
  int rc;
  if (!cJSON_IsObject(obj) || (rc = get_string(obj, "path", MANIFEST_MAX_PATH, &e->path)))
    return bad_member(e, i, "path", -EINVAL, err);
  if ((rc = parse_type(obj, &e->type)))
    return bad_member(e, i, "type", rc, err);
  if ((rc = get_uint(obj, "mode", 07777, &mode)))
    return bad_member(e, i, "mode", rc, err);
  if ((rc = get_uint(obj, "mtime", MANIFEST_MAX_INT, &mtime)))
    return bad_member(e, i, "mtime", rc, err);
  e->mode = (uint32_t)mode;
  e->mtime = (int64_t)mtime;
  if (e->type == MANIFEST_FILE)
    return parse_file_members(obj, e, i, err);
  if (e->type == MANIFEST_SYMLINK &&
      (rc = get_string(obj, "target", MANIFEST_MAX_PATH, &e->target)))
    return bad_member(e, i, "target", rc, err);
  return 0;
}

static int parse_entries(const cJSON *arr, struct manifest *m, struct img_err *err) {
  int n = cJSON_GetArraySize(arr);
  if (!cJSON_IsArray(arr))
    return img_fail(err, -EINVAL, "manifest: \"entries\" is not an array");
  if ((unsigned)n > MANIFEST_MAX_ENTRIES)
    return img_fail(err, -E2BIG, "manifest: more than %u entries", MANIFEST_MAX_ENTRIES);
  m->entries = calloc(n ? (size_t)n : 1, sizeof *m->entries);
  if (!m->entries)
    return img_fail(err, -ENOMEM, "manifest: out of memory");
  const cJSON *v;
  cJSON_ArrayForEach(v, arr) {
    int rc = parse_entry(v, &m->entries[m->n], m->n, err);
    m->n++; /* counted even when half-made, so manifest_free frees it */
    if (rc)
      return rc;
  }
  return 0;
}

static int parse_strings(const cJSON *arr, char ***out, size_t *n, size_t max) {
  int count = cJSON_GetArraySize(arr);
  if (!cJSON_IsArray(arr) || count < 0 || (size_t)count > max)
    return -EINVAL;
  *out = calloc(count ? (size_t)count : 1, sizeof **out);
  if (!*out)
    return -ENOMEM;
  const cJSON *v;
  cJSON_ArrayForEach(v, arr) {
    if (!((*out)[(*n)++] = dup_string(v, MANIFEST_MAX_STRING)))
      return -EINVAL;
  }
  return 0;
}

/* env: {"NAME":"VALUE",...} into "NAME=VALUE" strings. */
static int parse_env(const cJSON *obj, struct manifest *m) {
  int count = cJSON_GetArraySize(obj);
  if (!cJSON_IsObject(obj) || count < 0 || (size_t)count > MANIFEST_MAX_ENV)
    return -EINVAL;
  m->env = calloc(count ? (size_t)count : 1, sizeof *m->env);
  if (!m->env)
    return -ENOMEM;
  const cJSON *v;
  cJSON_ArrayForEach(v, obj) {
    if (!cJSON_IsString(v) || !v->string || strlen(v->string) > MANIFEST_MAX_STRING ||
        strlen(v->valuestring) > MANIFEST_MAX_STRING || strchr(v->string, '='))
      return -EINVAL;
    if (asprintf(&m->env[m->nenv], "%s=%s", v->string, v->valuestring) < 0)
      return -ENOMEM;
    m->nenv++;
  }
  return 0;
}

static int bad_header(const char *what, int rc, struct img_err *err) {
  if (rc == -ENOMEM)
    return img_fail(err, rc, "manifest: out of memory");
  return img_fail(err, -EINVAL, "manifest: missing or invalid \"%s\"", what);
}

static int parse_header(const cJSON *root, struct manifest *m, struct img_err *err) {
  uint64_t version, finder;
  int rc;
  if ((rc = get_uint(root, "version", MANIFEST_MAX_INT, &version)))
    return bad_header("version", rc, err);
  if (version != MANIFEST_VERSION)
    return img_fail(err, -EINVAL, "manifest: version %llu, this hearth reads version %d",
                    (unsigned long long)version, MANIFEST_VERSION);
  if ((rc = get_string(root, "name", MANIFEST_MAX_NAME, &m->name)))
    return bad_header("name", rc, err);
  if ((rc = get_string(root, "runtime", MANIFEST_MAX_STRING, &m->runtime)))
    return bad_header("runtime", rc, err);
  if ((rc = parse_strings(cJSON_GetObjectItemCaseSensitive(root, "entrypoint"), &m->entrypoint,
                          &m->nentrypoint, MANIFEST_MAX_ARGS)))
    return bad_header("entrypoint", rc, err);
  if ((rc = parse_env(cJSON_GetObjectItemCaseSensitive(root, "env"), m)))
    return bad_header("env", rc, err);
  if ((rc = get_uint(root, "sites_finder", UINT32_MAX, &finder)))
    return bad_header("sites_finder", rc, err);
  m->sites_finder = (unsigned)finder;
  return 0;
}

int manifest_parse(const char *json, size_t len, struct manifest *out, struct img_err *err) {
  *out = (struct manifest){0};
  if (len > MANIFEST_MAX_BYTES)
    return img_fail(err, -EFBIG, "manifest: more than %u bytes", MANIFEST_MAX_BYTES);
  cJSON *root = cJSON_ParseWithLength(json, len);
  if (!root)
    return img_fail(err, -EINVAL, "manifest: not valid JSON");
  int rc = cJSON_IsObject(root) ? 0 : img_fail(err, -EINVAL, "manifest: not a JSON object");
  if (!rc)
    rc = parse_header(root, out, err);
  if (!rc)
    rc = parse_entries(cJSON_GetObjectItemCaseSensitive(root, "entries"), out, err);
  cJSON_Delete(root);
  if (!rc)
    rc = manifest_check(out, err);
  if (rc)
    manifest_free(out);
  return rc;
}
