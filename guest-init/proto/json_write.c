/* json_write.c - the JSON writer of json.h: compact output into a caller's
 * buffer, with a sticky error so callers check once. */
#include <errno.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

void json_writer_init(struct json_writer *w, char *buf, size_t cap) {
  memset(w, 0, sizeof *w);
  w->buf = buf;
  w->cap = cap;
  if (cap == 0)
    w->err = -ENOSPC;
  else
    buf[0] = '\0';
}

/* Appends n bytes, keeping one byte spare for the final NUL. */
static void put_raw(struct json_writer *w, const char *s, size_t n) {
  if (w->err)
    return;
  if (n >= w->cap - w->len) {
    w->err = -ENOSPC;
    return;
  }
  memcpy(w->buf + w->len, s, n);
  w->len += n;
}

static void put_char(struct json_writer *w, char c) { put_raw(w, &c, 1); }

/* One character of a string body: escaped when JSON requires it. */
static size_t put_string_char(struct json_writer *w, const uint8_t *s, size_t avail) {
  static const char hex[] = "0123456789abcdef";
  uint8_t c = s[0];
  const char *esc = NULL;
  switch (c) {
  case '"':
    esc = "\\\"";
    break;
  case '\\':
    esc = "\\\\";
    break;
  case '\b':
    esc = "\\b";
    break;
  case '\f':
    esc = "\\f";
    break;
  case '\n':
    esc = "\\n";
    break;
  case '\r':
    esc = "\\r";
    break;
  case '\t':
    esc = "\\t";
    break;
  default:
    break;
  }
  if (esc) {
    put_raw(w, esc, 2);
    return 1;
  }
  if (c < 0x20) {
    char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
    put_raw(w, u, sizeof u);
    return 1;
  }
  size_t n = utf8_sequence_len(s, avail);
  if (n == 0) { /* not UTF-8: U+FFFD, the replacement character, per byte */
    put_raw(w, "\xef\xbf\xbd", 3);
    return 1;
  }
  put_raw(w, (const char *)s, n);
  return n;
}

static void put_string(struct json_writer *w, const char *s, size_t len) {
  const uint8_t *p = (const uint8_t *)s;
  put_char(w, '"');
  for (size_t i = 0; i < len && !w->err;)
    i += put_string_char(w, p + i, len - i);
  put_char(w, '"');
}

/* The separator and "key": before a member of the current object. */
static void put_key(struct json_writer *w, const char *key) {
  if (!w->err && w->depth == 0)
    w->err = -EINVAL; /* a member outside any object */
  if (w->err)
    return;
  if (!w->first[w->depth])
    put_char(w, ',');
  w->first[w->depth] = false;
  put_string(w, key, strlen(key));
  put_char(w, ':');
}

static void open_object(struct json_writer *w) {
  if (!w->err && w->depth == JSON_DEPTH_MAX)
    w->err = -EINVAL;
  if (w->err)
    return;
  put_char(w, '{');
  w->depth++;
  w->first[w->depth] = true;
}

void json_begin_object(struct json_writer *w) {
  if (!w->err && (w->depth != 0 || w->len != 0))
    w->err = -EINVAL; /* one top-level object per writer */
  open_object(w);
}

void json_begin_member_object(struct json_writer *w, const char *key) {
  put_key(w, key);
  open_object(w);
}

void json_end_object(struct json_writer *w) {
  if (!w->err && w->depth == 0)
    w->err = -EINVAL;
  if (w->err)
    return;
  put_char(w, '}');
  w->depth--;
}

void json_put_string_n(struct json_writer *w, const char *key, const char *value, size_t len) {
  put_key(w, key);
  if (!w->err)
    put_string(w, value, len);
}

void json_put_string(struct json_writer *w, const char *key, const char *value) {
  json_put_string_n(w, key, value, strlen(value));
}

void json_put_u64(struct json_writer *w, const char *key, uint64_t value) {
  if (!w->err && value >= JSON_INT_LIMIT)
    w->err = -ERANGE;
  put_key(w, key);
  char digits[20];
  size_t n = 0;
  do {
    digits[sizeof digits - 1 - n++] = (char)('0' + value % 10);
    value /= 10;
  } while (value);
  put_raw(w, digits + sizeof digits - n, n);
}

void json_put_bool(struct json_writer *w, const char *key, bool value) {
  put_key(w, key);
  put_raw(w, value ? "true" : "false", value ? 4 : 5);
}

long json_writer_finish(struct json_writer *w) {
  if (!w->err && (w->depth != 0 || w->len == 0))
    w->err = -EINVAL;
  if (w->err)
    return w->err;
  w->buf[w->len] = '\0';
  return (long)w->len;
}

size_t json_utf8_prefix(const char *s, size_t len, size_t max) {
  const uint8_t *p = (const uint8_t *)s;
  size_t end = 0, decoded = 0;
  while (end < len) {
    size_t n = utf8_sequence_len(p + end, len - end);
    /* An invalid byte stands alone and reads back as U+FFFD (3 bytes). */
    size_t out = n ? n : 3;
    if (decoded + out > max)
      break;
    end += n ? n : 1;
    decoded += out;
  }
  return end;
}
