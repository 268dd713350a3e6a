/* init_invoke.c - INVOKE's JSON for the native runtime (init_invoke.h). */
#include "init_invoke.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"
#include "proto/json.h"

static int bad(char *why, size_t whylen, const char *what, const char *key, int err) {
  snprintf(why, whylen, "%s \"%s\": %s", what, key,
           err == -ENOENT         ? "missing"
           : err == -ENAMETOOLONG ? "too long"
           : err == -EILSEQ       ? "holds U+0000"
           : err == -ERANGE       ? "too large"
                                  : "wrong type");
  return -EINVAL;
}

/* A string member, copied to the heap; absent is "" unless required. */
static int get_string(const struct json_doc *doc, const char *key, int required, char **out,
                      char *why, size_t whylen) {
  char buf[HF_STRING_MAX + 1];
  long n = json_get_string(doc, key, buf, sizeof buf);
  if (n == -ENOENT && !required)
    buf[0] = '\0', n = 0;
  if (n < 0)
    return bad(why, whylen, "string", key, (int)n);
  *out = strdup(buf);
  return *out ? 0 : -ENOMEM;
}

/* Optional integers are checked for type even when hearth-init does not
 * use them (timeout and memory are the VMM's). */
static int get_u64(const struct json_doc *doc, const char *key, uint64_t *out, char *why,
                   size_t whylen) {
  uint64_t v = 0;
  int err = json_get_u64(doc, key, &v);
  if (err < 0 && err != -ENOENT)
    return bad(why, whylen, "integer", key, err);
  *out = err < 0 ? 0 : v;
  return 0;
}

static int get_env(const struct json_doc *doc, struct init_env *env, char *why, size_t whylen) {
  char key[HF_STRING_MAX + 1], value[HF_STRING_MAX + 1];
  struct json_object_iter it;
  int err = json_get_object(doc, "env", &it);
  if (err == -ENOENT)
    return 0;
  if (err < 0)
    return bad(why, whylen, "object", "env", err);
  while ((err = json_object_next_string(&it, key, sizeof key, value, sizeof value)) > 0) {
    err = init_env_set(env, key, value);
    if (err == -EINVAL) {
      snprintf(why, whylen, "env key \"%s\": empty or holds '='", key);
      return -EINVAL;
    }
    if (err < 0) {
      snprintf(why, whylen, "env: too many variables");
      return -EINVAL;
    }
  }
  return err < 0 ? bad(why, whylen, "a member of", "env", err) : 0;
}

int invoke_parse(const char *json, size_t len, struct invoke *inv, struct init_env *env, char *why,
                 size_t whylen) {
  struct json_doc doc;
  uint64_t unused;
  char *content_type = NULL;
  memset(inv, 0, sizeof *inv);
  int err = json_parse(&doc, json, len);
  if (err < 0) {
    snprintf(why, whylen, "malformed JSON");
    return -EINVAL;
  }
  if ((err = get_string(&doc, "request_id", 1, &inv->request_id, why, whylen)) < 0 ||
      (err = get_string(&doc, "content_type", 1, &content_type, why, whylen)) < 0 ||
      (err = get_string(&doc, "function", 0, &inv->function, why, whylen)) < 0 ||
      (err = get_u64(&doc, "response_cap", &inv->response_cap, why, whylen)) < 0 ||
      (err = get_u64(&doc, "log_cap", &inv->log_cap, why, whylen)) < 0 ||
      (err = get_u64(&doc, "timeout_ms", &unused, why, whylen)) < 0 ||
      (err = get_u64(&doc, "memory_mb", &unused, why, whylen)) < 0 ||
      (err = get_env(&doc, env, why, whylen)) < 0) {
    free(content_type);
    invoke_free(inv);
    return err;
  }
  free(content_type);
  if (!inv->request_id[0]) {
    snprintf(why, whylen, "empty \"request_id\"");
    invoke_free(inv);
    return -EINVAL;
  }
  return 0;
}

void invoke_free(struct invoke *inv) {
  free(inv->request_id);
  free(inv->function);
  inv->request_id = inv->function = NULL;
}
