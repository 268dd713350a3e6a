/* json.h - hearth's own small JSON for control frames (PROTOCOL.md): a
 * writer into a caller's buffer and a strict reader of one object. Written
 * here rather than taken from cJSON because hearth-init is static musl and
 * Debian ships no static cJSON. Pure code; builds with musl and glibc.
 *
 * The writer's output is compact (no spaces), members in call order,
 * strings with '"', '\\' and control characters escaped (\b \f \n \r \t,
 * others \u00xx in lower-case hex), every other valid UTF-8 sequence passed
 * through, and each byte that is not part of a valid UTF-8 sequence
 * written as U+FFFD (its UTF-8 bytes) — so for valid strings exactly what
 * Python's json.dumps(..., ensure_ascii=False, separators=(",", ":"))
 * writes for the same members in the same order.
 *
 * The reader accepts RFC 8259 JSON whose top value is one object, with:
 * nesting (objects and arrays) at most JSON_DEPTH_MAX deep, at most
 * JSON_MEMBERS_MAX members per object, strict UTF-8, no lone surrogates,
 * nothing but white space after the object. Duplicate keys (compared after
 * unescaping) are refused: a later member silently overriding an earlier
 * one is how two parsers come to disagree about a message. */
#ifndef HEARTH_PROTO_JSON_H
#define HEARTH_PROTO_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_DEPTH_MAX 4
#define JSON_MEMBERS_MAX 256
#define JSON_INT_LIMIT (1ull << 53) /* integers are below this */

/* ---- writer ------------------------------------------------------------
 * Calls append to buf; the first failure sticks and later calls do nothing,
 * so a sequence of calls needs one check, at json_writer_finish. */
struct json_writer {
  char *buf;
  size_t cap;
  size_t len;
  int err;
  int depth;
  bool first[JSON_DEPTH_MAX + 1]; /* no member written yet at this depth */
};

void json_writer_init(struct json_writer *w, char *buf, size_t cap);
/* The top-level '{'. */
void json_begin_object(struct json_writer *w);
/* "key":{ — a nested object member. */
void json_begin_member_object(struct json_writer *w, const char *key);
void json_end_object(struct json_writer *w);
void json_put_string(struct json_writer *w, const char *key, const char *value);
void json_put_string_n(struct json_writer *w, const char *key, const char *value, size_t len);
/* -ERANGE (sticky) for value >= JSON_INT_LIMIT. */
void json_put_u64(struct json_writer *w, const char *key, uint64_t value);
void json_put_bool(struct json_writer *w, const char *key, bool value);
/* The length written (the text is NUL-terminated in buf, the NUL not
 * counted), or -ENOSPC (buf too small), -ERANGE (an integer too big),
 * -EINVAL (objects unbalanced or nested too deep). */
long json_writer_finish(struct json_writer *w);

/* The length of the longest prefix of s[0..len) that does not cut a UTF-8
 * sequence in two and reads back (after the writer's replacements) as at
 * most max bytes: for truncating messages to PROTOCOL.md's string cap. */
size_t json_utf8_prefix(const char *s, size_t len, size_t max);

/* ---- reader ------------------------------------------------------------ */
struct json_doc {
  const char *text;
  size_t len;
};

/* Checks text[0..len) whole (never reading past len) and keeps a reference
 * to it for the getters. 0, -EINVAL (malformed, trailing bytes, too deep,
 * a duplicate key), -E2BIG (an object with too many members). */
int json_parse(struct json_doc *doc, const char *text, size_t len);

/* Getters look up a member of the top-level object. They return -ENOENT
 * when it is absent and -EINVAL when it has another type. */

/* Copies the unescaped string, NUL-terminated, into out[cap]: its length,
 * -ENAMETOOLONG when it needs more than cap-1 bytes, -EILSEQ when it holds
 * U+0000 (every C consumer would cut it there). */
long json_get_string(const struct json_doc *doc, const char *key, char *out, size_t cap);
/* A non-negative integer without fraction or exponent; -ERANGE when it is
 * not below JSON_INT_LIMIT. */
int json_get_u64(const struct json_doc *doc, const char *key, uint64_t *out);
int json_get_bool(const struct json_doc *doc, const char *key, bool *out);

/* Iterating a nested object whose values must all be strings (INVOKE's
 * "env"). */
struct json_object_iter {
  const struct json_doc *doc;
  size_t pos; /* of the next member's key, or of the closing '}' */
};
int json_get_object(const struct json_doc *doc, const char *key, struct json_object_iter *it);
/* The next member into key[kcap] and value[vcap] (NUL-terminated): 1, 0 at
 * the end, or -EINVAL (a value that is not a string), -ENAMETOOLONG,
 * -EILSEQ as json_get_string. */
int json_object_next_string(struct json_object_iter *it, char *key, size_t kcap, char *value,
                            size_t vcap);

#endif
