/* jsonscan.c - the streaming JSON validator of jsonscan.h: one state
 * machine stepped a byte at a time, with a bit stack for open containers.
 * It checks RFC 8259's grammar and that strings are well-formed UTF-8; it
 * builds nothing. */
#include "jsonscan.h"

#include <string.h>

enum {
  S_VALUE,        /* a value must come (after ':' or ',' in an array, or at the start) */
  S_ARRAY_FIRST,  /* after '[': a value or ']' */
  S_OBJECT_FIRST, /* after '{': a key or '}' */
  S_KEY,          /* after ',' in an object: a key */
  S_COLON,        /* after a key */
  S_AFTER,        /* after a value: ',' or the container's end; at depth 0 only whitespace */
  S_STRING,
  S_ESCAPE,
  S_HEX,
  S_UTF8,
  S_LITERAL,
  S_NUM_MINUS,
  S_NUM_ZERO,
  S_NUM_INT,
  S_NUM_DOT,
  S_NUM_FRAC,
  S_NUM_E,
  S_NUM_ESIGN,
  S_NUM_EXP,
  S_BAD,
};

/* What one byte did: consumed, or ended a number and must be read again. */
enum step { STEP_NEXT, STEP_AGAIN };

void jscan_init(struct jscan *s) {
  memset(s, 0, sizeof *s);
  s->state = S_VALUE;
}

static bool is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static bool is_hex(uint8_t c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool top_is_object(const struct jscan *s) {
  uint32_t i = s->depth - 1;
  return s->depth > 0 && (s->is_object[i / 8] >> (i % 8)) & 1;
}

static void push(struct jscan *s, bool object, uint8_t next) {
  if (s->depth >= JSCAN_MAX_DEPTH) {
    s->state = S_BAD;
    return;
  }
  uint32_t i = s->depth++;
  if (object)
    s->is_object[i / 8] |= (uint8_t)(1u << (i % 8));
  else
    s->is_object[i / 8] &= (uint8_t) ~(1u << (i % 8));
  s->state = next;
}

static void pop(struct jscan *s, bool object) {
  if (s->depth == 0 || top_is_object(s) != object) {
    s->state = S_BAD;
    return;
  }
  s->depth--;
  s->state = S_AFTER;
}

static void literal(struct jscan *s, const char *rest) {
  s->literal = rest;
  s->literal_left = (uint8_t)strlen(rest);
  s->state = S_LITERAL;
}

static void string(struct jscan *s, uint8_t after) {
  s->after_string = after;
  s->state = S_STRING;
}

/* The first byte of a value. */
static void value_start(struct jscan *s, uint8_t c) {
  switch (c) {
  case '{':
    push(s, true, S_OBJECT_FIRST);
    return;
  case '[':
    push(s, false, S_ARRAY_FIRST);
    return;
  case '"':
    string(s, S_AFTER);
    return;
  case 't':
    literal(s, "rue");
    return;
  case 'f':
    literal(s, "alse");
    return;
  case 'n':
    literal(s, "ull");
    return;
  case '-':
    s->state = S_NUM_MINUS;
    return;
  case '0':
    s->state = S_NUM_ZERO;
    return;
  default:
    s->state = c >= '1' && c <= '9' ? S_NUM_INT : S_BAD;
  }
}

/* The first byte of an object's key. */
static void key_start(struct jscan *s, uint8_t c) {
  if (c == '"')
    string(s, S_COLON);
  else
    s->state = S_BAD;
}

static void after_value(struct jscan *s, uint8_t c) {
  if (c == ',' && s->depth > 0)
    s->state = top_is_object(s) ? S_KEY : S_VALUE;
  else if (c == ']')
    pop(s, false);
  else if (c == '}')
    pop(s, true);
  else
    s->state = S_BAD;
}

/* A byte of a string outside escapes: the lead of a UTF-8 sequence sets the
 * range its continuation bytes must fall in (no overlongs, no surrogates,
 * nothing above U+10FFFF). */
static void string_byte(struct jscan *s, uint8_t c) {
  uint8_t left = 0, lo = 0x80, hi = 0xbf;
  if (c == '"')
    s->state = s->after_string;
  else if (c == '\\')
    s->state = S_ESCAPE;
  else if (c < 0x20)
    s->state = S_BAD;
  else if (c < 0x80)
    return;
  else if (c >= 0xc2 && c <= 0xdf)
    left = 1;
  else if (c >= 0xe0 && c <= 0xef)
    left = 2, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
  else if (c >= 0xf0 && c <= 0xf4)
    left = 3, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
  else
    s->state = S_BAD;
  if (left) {
    s->utf8_left = left, s->utf8_lo = lo, s->utf8_hi = hi;
    s->state = S_UTF8;
  }
}

static void utf8_byte(struct jscan *s, uint8_t c) {
  if (c < s->utf8_lo || c > s->utf8_hi) {
    s->state = S_BAD;
    return;
  }
  s->utf8_lo = 0x80, s->utf8_hi = 0xbf;
  if (--s->utf8_left == 0)
    s->state = S_STRING;
}

static void escape_byte(struct jscan *s, uint8_t c) {
  if (c == 'u') {
    s->hex_left = 4;
    s->state = S_HEX;
  } else {
    s->state = c && strchr("\"\\/bfnrt", c) ? S_STRING : S_BAD;
  }
}

static void literal_byte(struct jscan *s, uint8_t c) {
  if (c != (uint8_t)*s->literal) {
    s->state = S_BAD;
    return;
  }
  s->literal++;
  if (--s->literal_left == 0)
    s->state = S_AFTER;
}

/* A byte inside a number. Returns STEP_AGAIN when c ends the number (it
 * was whole), so the byte is read again as what follows a value. */
static enum step number_byte(struct jscan *s, uint8_t c) {
  bool digit = is_digit(c), exp = c == 'e' || c == 'E';
  switch (s->state) {
  case S_NUM_MINUS:
    s->state = c == '0' ? S_NUM_ZERO : digit ? S_NUM_INT : S_BAD;
    return STEP_NEXT;
  case S_NUM_DOT:
    s->state = digit ? S_NUM_FRAC : S_BAD;
    return STEP_NEXT;
  case S_NUM_E:
    s->state = c == '+' || c == '-' ? S_NUM_ESIGN : digit ? S_NUM_EXP : S_BAD;
    return STEP_NEXT;
  case S_NUM_ESIGN:
    s->state = digit ? S_NUM_EXP : S_BAD;
    return STEP_NEXT;
  case S_NUM_INT:
  case S_NUM_FRAC:
  case S_NUM_EXP:
    if (digit)
      return STEP_NEXT;
    break;
  default: /* S_NUM_ZERO: no digit may follow a leading zero */
    break;
  }
  if (c == '.' && (s->state == S_NUM_ZERO || s->state == S_NUM_INT))
    s->state = S_NUM_DOT;
  else if (exp && s->state != S_NUM_EXP)
    s->state = S_NUM_E;
  else {
    s->state = S_AFTER;
    return STEP_AGAIN;
  }
  return STEP_NEXT;
}

static enum step step(struct jscan *s, uint8_t c) {
  bool space = is_space(c);
  switch (s->state) {
  case S_VALUE:
    if (!space)
      value_start(s, c);
    break;
  case S_ARRAY_FIRST:
    if (c == ']')
      pop(s, false);
    else if (!space)
      value_start(s, c);
    break;
  case S_OBJECT_FIRST:
    if (c == '}')
      pop(s, true);
    else if (!space)
      key_start(s, c);
    break;
  case S_KEY:
    if (!space)
      key_start(s, c);
    break;
  case S_COLON:
    if (!space)
      s->state = c == ':' ? S_VALUE : S_BAD;
    break;
  case S_AFTER:
    if (!space)
      after_value(s, c);
    break;
  case S_STRING:
    string_byte(s, c);
    break;
  case S_ESCAPE:
    escape_byte(s, c);
    break;
  case S_HEX:
    if (!is_hex(c))
      s->state = S_BAD;
    else if (--s->hex_left == 0)
      s->state = S_STRING;
    break;
  case S_UTF8:
    utf8_byte(s, c);
    break;
  case S_LITERAL:
    literal_byte(s, c);
    break;
  case S_BAD:
    break;
  default:
    return number_byte(s, c);
  }
  return STEP_NEXT;
}

bool jscan_feed(struct jscan *s, const void *buf, size_t len) {
  const uint8_t *p = buf;
  for (size_t i = 0; i < len && s->state != S_BAD; i++)
    if (step(s, p[i]) == STEP_AGAIN)
      step(s, p[i]);
  return s->state != S_BAD;
}

bool jscan_finish(const struct jscan *s) {
  if (s->depth != 0)
    return false;
  switch (s->state) {
  case S_AFTER:
  case S_NUM_ZERO:
  case S_NUM_INT:
  case S_NUM_FRAC:
  case S_NUM_EXP:
    return true;
  default:
    return false;
  }
}
