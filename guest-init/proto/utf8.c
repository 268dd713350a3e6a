/* utf8.c - strict UTF-8 checking and encoding (utf8.h). */
#include "utf8.h"

static int is_cont(uint8_t b) { return (b & 0xC0) == 0x80; }

size_t utf8_sequence_len(const uint8_t *s, size_t avail) {
  if (avail == 0)
    return 0;
  uint8_t b = s[0];
  if (b < 0x80)
    return 1;
  size_t n;
  uint8_t lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    if (b == 0xE0)
      lo = 0xA0; /* overlong */
    if (b == 0xED)
      hi = 0x9F; /* U+D800..U+DFFF, surrogates */
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    if (b == 0xF0)
      lo = 0x90; /* overlong */
    if (b == 0xF4)
      hi = 0x8F; /* above U+10FFFF */
  } else {
    return 0; /* a continuation byte, C0/C1 (overlong) or F5..FF */
  }
  if (avail < n || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if (!is_cont(s[i]))
      return 0;
  return n;
}

size_t utf8_encode(uint32_t cp, uint8_t out[4]) {
  if (cp < 0x80) {
    out[0] = (uint8_t)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (uint8_t)(0xC0 | cp >> 6);
    out[1] = (uint8_t)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (uint8_t)(0xE0 | cp >> 12);
    out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    out[2] = (uint8_t)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (uint8_t)(0xF0 | cp >> 18);
  out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
  out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
  out[3] = (uint8_t)(0x80 | (cp & 0x3F));
  return 4;
}
