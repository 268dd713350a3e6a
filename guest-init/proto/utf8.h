/* utf8.h - strict UTF-8 (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF), shared by the JSON writer and reader. */
#ifndef HEARTH_PROTO_UTF8_H
#define HEARTH_PROTO_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The length (1..4) of the valid UTF-8 sequence starting at s, reading at
 * most avail bytes; 0 when it is invalid or cut short. */
size_t utf8_sequence_len(const uint8_t *s, size_t avail);

/* Encodes code point cp (<= 0x10FFFF, not a surrogate) into out: 1..4. */
size_t utf8_encode(uint32_t cp, uint8_t out[4]);

#endif
