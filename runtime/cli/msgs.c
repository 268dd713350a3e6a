/* msgs.c - building and reading control frames (msgs.h). */
#include "msgs.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "proto/json.h"

/* A required string member. */
static int get_string(const struct json_doc *d, const char *key, char *out, size_t cap) {
  long n = json_get_string(d, key, out, cap);
  return n < 0 ? -EINVAL : 0;
}

/* An optional string member: "" when absent. */
static int get_opt_string(const struct json_doc *d, const char *key, char *out, size_t cap) {
  long n = json_get_string(d, key, out, cap);
  if (n == -ENOENT)
    out[0] = '\0';
  return n < 0 && n != -ENOENT ? -EINVAL : 0;
}

int msg_parse_hello(const char *json, size_t len, struct msg_hello *m) {
  struct json_doc d;
  memset(m, 0, sizeof *m);
  if (json_parse(&d, json, len) < 0 || json_get_u64(&d, "protocol", &m->protocol) < 0)
    return -EINVAL;
  if (get_opt_string(&d, "image", m->image, sizeof m->image) < 0 ||
      get_opt_string(&d, "runtime", m->runtime, sizeof m->runtime) < 0)
    return -EINVAL;
  int rc = json_get_bool(&d, "restored", &m->restored);
  return rc == -ENOENT ? 0 : rc;
}

int msg_parse_loaded(const char *json, size_t len, struct msg_loaded *m) {
  struct json_doc d;
  memset(m, 0, sizeof *m);
  if (json_parse(&d, json, len) < 0)
    return -EINVAL;
  if (json_get_u64(&d, "files", &m->files) < 0 || json_get_u64(&d, "bytes", &m->bytes) < 0)
    return -EINVAL;
  return get_opt_string(&d, "runtime", m->runtime, sizeof m->runtime);
}

/* RESULT's optional members default to 0 / false. */
static int get_opt_u64(const struct json_doc *d, const char *key, uint64_t *out) {
  int rc = json_get_u64(d, key, out);
  return rc == -ENOENT ? 0 : rc;
}

static int get_opt_bool(const struct json_doc *d, const char *key, bool *out) {
  int rc = json_get_bool(d, key, out);
  return rc == -ENOENT ? 0 : rc;
}

int msg_parse_result(const char *json, size_t len, struct msg_result *m) {
  struct json_doc d;
  memset(m, 0, sizeof *m);
  if (json_parse(&d, json, len) < 0 || get_string(&d, "status", m->status, sizeof m->status) < 0)
    return -EINVAL;
  int rc = get_opt_u64(&d, "exit_status", &m->exit_status);
  if (rc == 0)
    rc = get_opt_u64(&d, "duration_us", &m->duration_us);
  if (rc == 0)
    rc = get_opt_u64(&d, "response_bytes", &m->response_bytes);
  if (rc == 0)
    rc = get_opt_u64(&d, "log_bytes", &m->log_bytes);
  if (rc == 0)
    rc = get_opt_bool(&d, "response_truncated", &m->response_truncated);
  if (rc == 0)
    rc = get_opt_bool(&d, "logs_truncated", &m->logs_truncated);
  if (rc == 0)
    rc = get_opt_string(&d, "error", m->error, sizeof m->error);
  return rc < 0 ? -EINVAL : 0;
}

int msg_parse_error(const char *json, size_t len, struct msg_error *m) {
  struct json_doc d;
  memset(m, 0, sizeof *m);
  if (json_parse(&d, json, len) < 0 || get_string(&d, "code", m->code, sizeof m->code) < 0)
    return -EINVAL;
  return get_opt_string(&d, "message", m->message, sizeof m->message);
}

long msg_build_load(char *buf, size_t cap, const char *handler, bool snapshot) {
  struct json_writer w;
  json_writer_init(&w, buf, cap);
  json_begin_object(&w);
  json_put_string(&w, "format", "tar");
  if (handler != NULL)
    json_put_string(&w, "handler", handler);
  if (snapshot)
    json_put_bool(&w, "snapshot", true);
  json_end_object(&w);
  return json_writer_finish(&w);
}

static void put_env(struct json_writer *w, const struct msg_invoke *m) {
  json_begin_member_object(w, "env");
  for (unsigned i = 0; i < m->nenv; i++) {
    const char *kv = m->env[i], *eq = strchr(kv, '=');
    /* json_put_string wants a NUL-terminated key: copy it out. */
    char key[HF_STRING_MAX + 1];
    size_t klen = (size_t)(eq - kv);
    memcpy(key, kv, klen);
    key[klen] = '\0';
    json_put_string(w, key, eq + 1);
  }
  json_end_object(w);
}

long msg_build_invoke(char *buf, size_t cap, const struct msg_invoke *m) {
  struct json_writer w;
  json_writer_init(&w, buf, cap);
  json_begin_object(&w);
  json_put_string(&w, "request_id", m->request_id);
  json_put_string(&w, "function", m->function);
  json_put_string(&w, "content_type", m->content_type);
  put_env(&w, m);
  json_put_u64(&w, "timeout_ms", m->timeout_ms);
  json_put_u64(&w, "memory_mb", m->memory_mb);
  json_put_u64(&w, "response_cap", m->response_cap);
  json_put_u64(&w, "log_cap", m->log_cap);
  json_end_object(&w);
  return json_writer_finish(&w);
}

int msg_request_id(char id[33]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char raw[16];
  size_t have = 0;
  while (have < sizeof raw) {
    ssize_t n = getrandom(raw + have, sizeof raw - have, 0);
    if (n < 0 && errno != EINTR)
      return -errno;
    if (n > 0)
      have += (size_t)n;
  }
  for (size_t i = 0; i < sizeof raw; i++) {
    id[2 * i] = hex[raw[i] >> 4];
    id[2 * i + 1] = hex[raw[i] & 15];
  }
  id[32] = '\0';
  return 0;
}
