/* json_read.c - the strict JSON reader of json.h. json_parse checks the
 * whole text once; the getters then walk the checked text again to find a
 * member, so nothing is allocated and nothing is read past len. */
#include <errno.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

struct scan {
  const uint8_t *s;
  size_t len;
  size_t pos;
};

static void skip_ws(struct scan *sc) {
  while (sc->pos < sc->len) {
    uint8_t c = sc->s[sc->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
      break;
    sc->pos++;
  }
}

/* Takes byte c if it is next; 1 when taken. */
static int take(struct scan *sc, uint8_t c) {
  if (sc->pos < sc->len && sc->s[sc->pos] == c) {
    sc->pos++;
    return 1;
  }
  return 0;
}

static int peek(const struct scan *sc) { return sc->pos < sc->len ? sc->s[sc->pos] : -1; }

/* ---- strings: one cursor both checks and decodes, one character a step */

static int hex4(struct scan *sc, uint32_t *out) {
  if (sc->len - sc->pos < 4)
    return -EINVAL;
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    uint8_t c = sc->s[sc->pos++];
    uint32_t d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
      d = (uint32_t)(c | 0x20) - 'a' + 10;
    else
      return -EINVAL;
    v = v << 4 | d;
  }
  *out = v;
  return 0;
}

/* After "\u": one code point, pairing surrogates. */
static int unicode_escape(struct scan *sc, uint32_t *cp) {
  uint32_t hi, lo;
  if (hex4(sc, &hi) < 0)
    return -EINVAL;
  if (hi >= 0xDC00 && hi <= 0xDFFF)
    return -EINVAL; /* a low surrogate first */
  if (hi < 0xD800 || hi > 0xDBFF) {
    *cp = hi;
    return 0;
  }
  if (!take(sc, '\\') || !take(sc, 'u') || hex4(sc, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
    return -EINVAL; /* a high surrogate not followed by a low one */
  *cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
  return 0;
}

static int simple_escape(uint8_t c) {
  switch (c) {
  case '"':
    return '"';
  case '\\':
    return '\\';
  case '/':
    return '/';
  case 'b':
    return '\b';
  case 'f':
    return '\f';
  case 'n':
    return '\n';
  case 'r':
    return '\r';
  case 't':
    return '\t';
  default:
    return -1;
  }
}

/* The next character of a string whose opening quote is behind sc->pos,
 * as UTF-8 in out: its length (1..4), 0 at the closing quote (taken), or
 * -EINVAL. */
static int string_next(struct scan *sc, uint8_t out[4]) {
  if (sc->pos >= sc->len)
    return -EINVAL;
  uint8_t c = sc->s[sc->pos];
  if (c == '"') {
    sc->pos++;
    return 0;
  }
  if (c < 0x20)
    return -EINVAL; /* control characters must be escaped */
  if (c != '\\') {
    size_t n = utf8_sequence_len(sc->s + sc->pos, sc->len - sc->pos);
    if (n == 0)
      return -EINVAL;
    memcpy(out, sc->s + sc->pos, n);
    sc->pos += n;
    return (int)n;
  }
  sc->pos++;
  if (sc->pos >= sc->len)
    return -EINVAL;
  uint8_t e = sc->s[sc->pos++];
  if (e != 'u') {
    int v = simple_escape(e);
    if (v < 0)
      return -EINVAL;
    out[0] = (uint8_t)v;
    return 1;
  }
  uint32_t cp;
  if (unicode_escape(sc, &cp) < 0)
    return -EINVAL;
  return (int)utf8_encode(cp, out);
}

/* Checks a string (sc at its opening quote) and moves past it. */
static int check_string(struct scan *sc) {
  if (!take(sc, '"'))
    return -EINVAL;
  uint8_t ch[4];
  int n;
  while ((n = string_next(sc, ch)) > 0)
    ;
  return n;
}

/* Do the strings opening (after the quote) at a and b decode the same? */
static int strings_equal(const struct scan *doc, size_t a, size_t b) {
  struct scan x = *doc, y = *doc;
  x.pos = a;
  y.pos = b;
  for (;;) {
    uint8_t cx[4], cy[4];
    int nx = string_next(&x, cx), ny = string_next(&y, cy);
    if (nx != ny || (nx > 0 && memcmp(cx, cy, (size_t)nx) != 0))
      return 0;
    if (nx <= 0)
      return nx == 0;
  }
}

/* Does the string opening (after the quote) at sc->pos decode to key?
 * Moves past the string. */
static int string_is(struct scan *sc, const char *key) {
  size_t klen = strlen(key), at = 0;
  int same = 1;
  uint8_t ch[4];
  int n;
  while ((n = string_next(sc, ch)) > 0) {
    if (same && (klen - at < (size_t)n || memcmp(key + at, ch, (size_t)n) != 0))
      same = 0;
    at += (size_t)n;
  }
  return n == 0 && same && at == klen;
}

/* Decodes the string at sc->pos (its opening quote) into out[cap]. */
static long decode_string(struct scan *sc, char *out, size_t cap) {
  if (!take(sc, '"'))
    return -EINVAL;
  size_t len = 0;
  int has_nul = 0;
  uint8_t ch[4];
  int n;
  while ((n = string_next(sc, ch)) > 0) {
    if (ch[0] == 0)
      has_nul = 1;
    if (cap > 0 && len + (size_t)n <= cap - 1)
      memcpy(out + len, ch, (size_t)n);
    len += (size_t)n;
  }
  if (n < 0)
    return n;
  if (cap == 0 || len > cap - 1)
    return -ENAMETOOLONG;
  if (has_nul)
    return -EILSEQ;
  out[len] = '\0';
  return (long)len;
}

/* ---- values ------------------------------------------------------------ */

static int digits(struct scan *sc) {
  size_t start = sc->pos;
  while (sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9')
    sc->pos++;
  return sc->pos > start ? 0 : -EINVAL;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int check_number(struct scan *sc) {
  take(sc, '-');
  if (!take(sc, '0') && (peek(sc) < '1' || peek(sc) > '9' || digits(sc) < 0))
    return -EINVAL;
  if (take(sc, '.') && digits(sc) < 0)
    return -EINVAL;
  if (take(sc, 'e') || take(sc, 'E')) {
    if (!take(sc, '+'))
      take(sc, '-');
    if (digits(sc) < 0)
      return -EINVAL;
  }
  return 0;
}

static int check_literal(struct scan *sc, const char *word) {
  size_t n = strlen(word);
  if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0)
    return -EINVAL;
  sc->pos += n;
  return 0;
}

static int check_value(struct scan *sc, int depth);

static int check_array(struct scan *sc, int depth) {
  sc->pos++; /* '[' */
  skip_ws(sc);
  if (take(sc, ']'))
    return 0;
  for (;;) {
    int err = check_value(sc, depth);
    if (err < 0)
      return err;
    skip_ws(sc);
    if (take(sc, ']'))
      return 0;
    if (!take(sc, ','))
      return -EINVAL;
    skip_ws(sc);
  }
}

/* One member: key (checked against the earlier keys[0..n)), ':', value. */
static int check_member(struct scan *sc, int depth, size_t *keys, size_t n) {
  if (peek(sc) != '"')
    return -EINVAL;
  size_t key = sc->pos + 1;
  int err = check_string(sc);
  if (err < 0)
    return err;
  for (size_t i = 0; i < n; i++)
    if (strings_equal(sc, keys[i], key))
      return -EINVAL; /* duplicate key */
  keys[n] = key;
  skip_ws(sc);
  if (!take(sc, ':'))
    return -EINVAL;
  skip_ws(sc);
  return check_value(sc, depth);
}

static int check_object(struct scan *sc, int depth) {
  size_t keys[JSON_MEMBERS_MAX];
  size_t n = 0;
  sc->pos++; /* '{' */
  skip_ws(sc);
  if (take(sc, '}'))
    return 0;
  for (;;) {
    if (n == JSON_MEMBERS_MAX)
      return -E2BIG;
    int err = check_member(sc, depth, keys, n);
    if (err < 0)
      return err;
    n++;
    skip_ws(sc);
    if (take(sc, '}'))
      return 0;
    if (!take(sc, ','))
      return -EINVAL;
    skip_ws(sc);
  }
}

/* A value at sc->pos (no leading white space); depth counts the objects
 * and arrays it is inside. */
static int check_value(struct scan *sc, int depth) {
  switch (peek(sc)) {
  case '{':
  case '[':
    if (depth == JSON_DEPTH_MAX)
      return -EINVAL;
    return peek(sc) == '{' ? check_object(sc, depth + 1) : check_array(sc, depth + 1);
  case '"':
    return check_string(sc);
  case 't':
    return check_literal(sc, "true");
  case 'f':
    return check_literal(sc, "false");
  case 'n':
    return check_literal(sc, "null");
  default:
    return check_number(sc);
  }
}

int json_parse(struct json_doc *doc, const char *text, size_t len) {
  struct scan sc = {.s = (const uint8_t *)text, .len = len, .pos = 0};
  doc->text = NULL;
  doc->len = 0;
  skip_ws(&sc);
  if (peek(&sc) != '{')
    return -EINVAL;
  int err = check_value(&sc, 0);
  if (err < 0)
    return err;
  skip_ws(&sc);
  if (sc.pos != len)
    return -EINVAL; /* trailing bytes */
  doc->text = text;
  doc->len = len;
  return 0;
}

/* ---- getters on checked text ------------------------------------------- */

/* Puts sc at the value of top-level member key. 0 or -ENOENT. */
static int find_member(const struct json_doc *doc, const char *key, struct scan *sc) {
  *sc = (struct scan){.s = (const uint8_t *)doc->text, .len = doc->len, .pos = 0};
  if (!doc->text)
    return -ENOENT;
  skip_ws(sc);
  take(sc, '{');
  skip_ws(sc);
  while (take(sc, '"')) {
    int match = string_is(sc, key);
    skip_ws(sc);
    take(sc, ':');
    skip_ws(sc);
    if (match)
      return 0;
    check_value(sc, 1);
    skip_ws(sc);
    take(sc, ',');
    skip_ws(sc);
  }
  return -ENOENT;
}

long json_get_string(const struct json_doc *doc, const char *key, char *out, size_t cap) {
  struct scan sc;
  int err = find_member(doc, key, &sc);
  if (err < 0)
    return err;
  if (peek(&sc) != '"')
    return -EINVAL;
  return decode_string(&sc, out, cap);
}

int json_get_u64(const struct json_doc *doc, const char *key, uint64_t *out) {
  struct scan sc;
  int err = find_member(doc, key, &sc);
  if (err < 0)
    return err;
  size_t start = sc.pos;
  if (peek(&sc) < '0' || peek(&sc) > '9' || check_number(&sc) < 0)
    return -EINVAL;
  uint64_t v = 0;
  for (size_t i = start; i < sc.pos; i++) {
    uint8_t c = sc.s[i];
    if (c < '0' || c > '9')
      return -EINVAL; /* a fraction or an exponent */
    if (v >= JSON_INT_LIMIT)
      return -ERANGE; /* checked each digit, so v never overflows */
    v = v * 10 + (c - '0');
  }
  if (v >= JSON_INT_LIMIT)
    return -ERANGE;
  *out = v;
  return 0;
}

int json_get_bool(const struct json_doc *doc, const char *key, bool *out) {
  struct scan sc;
  int err = find_member(doc, key, &sc);
  if (err < 0)
    return err;
  if (check_literal(&sc, "true") == 0)
    *out = true;
  else if (check_literal(&sc, "false") == 0)
    *out = false;
  else
    return -EINVAL;
  return 0;
}

int json_get_object(const struct json_doc *doc, const char *key, struct json_object_iter *it) {
  struct scan sc;
  int err = find_member(doc, key, &sc);
  if (err < 0)
    return err;
  if (!take(&sc, '{'))
    return -EINVAL;
  skip_ws(&sc);
  it->doc = doc;
  it->pos = sc.pos;
  return 0;
}

int json_object_next_string(struct json_object_iter *it, char *key, size_t kcap, char *value,
                            size_t vcap) {
  struct scan sc = {.s = (const uint8_t *)it->doc->text, .len = it->doc->len, .pos = it->pos};
  if (peek(&sc) != '"')
    return 0; /* the closing '}' */
  long n = decode_string(&sc, key, kcap);
  if (n < 0)
    return (int)n;
  skip_ws(&sc);
  take(&sc, ':');
  skip_ws(&sc);
  if (peek(&sc) != '"')
    return -EINVAL;
  n = decode_string(&sc, value, vcap);
  if (n < 0)
    return (int)n;
  skip_ws(&sc);
  take(&sc, ',');
  skip_ws(&sc);
  it->pos = sc.pos;
  return 1;
}
