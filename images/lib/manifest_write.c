/* manifest_write.c - a struct manifest as manifest.json bytes (see
 * manifest.h): members in one fixed order, no whitespace, a final newline,
 * so the same manifest always makes the same bytes. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

static bool add_number(cJSON *obj, const char *key, uint64_t v) {
  return cJSON_AddNumberToObject(obj, key, (double)v) != NULL;
}

static cJSON *sites_json(const struct file_sites *s) {
  cJSON *arr = cJSON_CreateArray();
  for (size_t k = 0; arr && k < s->n; k++) {
    cJSON *n = cJSON_CreateNumber((double)s->v[k]);
    if (!n || !cJSON_AddItemToArray(arr, n)) {
      cJSON_Delete(n);
      cJSON_Delete(arr);
      return NULL;
    }
  }
  return arr;
}

static cJSON *entry_json(const struct manifest_entry *e) {
  char hex[DIGEST_SHA256_HEX];
  cJSON *o = cJSON_CreateObject();
  bool ok = o && cJSON_AddStringToObject(o, "path", e->path) &&
            cJSON_AddStringToObject(o, "type", manifest_type_name(e->type)) &&
            add_number(o, "mode", e->mode) && add_number(o, "mtime", (uint64_t)e->mtime);
  if (ok && e->type == MANIFEST_FILE) {
    digest_hex(e->sha256, hex);
    ok = add_number(o, "size", e->size) && cJSON_AddStringToObject(o, "sha256", hex);
  }
  if (ok && e->has_sites) {
    cJSON *sites = sites_json(&e->sites);
    ok = sites && cJSON_AddItemToObject(o, "sites", sites);
    if (!ok)
      cJSON_Delete(sites);
  }
  if (ok && e->target)
    ok = cJSON_AddStringToObject(o, "target", e->target) != NULL;
  if (!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

static bool add_env(cJSON *root, const struct manifest *m) {
  cJSON *env = cJSON_AddObjectToObject(root, "env");
  for (size_t i = 0; env && i < m->nenv; i++) {
    const char *eq = strchr(m->env[i], '=');
    char *name = strndup(m->env[i], (size_t)(eq - m->env[i]));
    bool ok = name && cJSON_AddStringToObject(env, name, eq + 1);
    free(name);
    if (!ok)
      return false;
  }
  return env != NULL;
}

static cJSON *manifest_json(const struct manifest *m) {
  cJSON *root = cJSON_CreateObject();
  cJSON *entry_point =
      m->nentrypoint <= (size_t)INT32_MAX
          ? cJSON_CreateStringArray((const char *const *)m->entrypoint, (int)m->nentrypoint)
          : NULL;
  bool ok = root && entry_point && add_number(root, "version", MANIFEST_VERSION) &&
            cJSON_AddStringToObject(root, "name", m->name) &&
            cJSON_AddStringToObject(root, "runtime", m->runtime) &&
            cJSON_AddItemToObject(root, "entrypoint", entry_point);
  if (!ok)
    cJSON_Delete(entry_point);
  ok = ok && add_env(root, m) && add_number(root, "sites_finder", m->sites_finder);
  cJSON *entries = ok ? cJSON_AddArrayToObject(root, "entries") : NULL;
  for (size_t i = 0; entries && i < m->n; i++) {
    cJSON *e = entry_json(&m->entries[i]);
    if (!e || !cJSON_AddItemToArray(entries, e)) {
      cJSON_Delete(e);
      entries = NULL;
    }
  }
  if (!entries) {
    cJSON_Delete(root);
    return NULL;
  }
  return root;
}

int manifest_write(const struct manifest *m, char **out, size_t *len, struct img_err *err) {
  cJSON *root = manifest_json(m);
  char *text = root ? cJSON_PrintUnformatted(root) : NULL;
  cJSON_Delete(root);
  size_t n = text ? strlen(text) : 0;
  char *buf = text ? realloc(text, n + 2) : NULL;
  if (!buf) {
    free(text);
    return img_fail(err, -ENOMEM, "manifest: out of memory");
  }
  buf[n] = '\n';
  buf[n + 1] = '\0';
  *out = buf;
  *len = n + 1;
  return 0;
}
