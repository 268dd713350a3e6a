/* pattern.h - the bytes the "big" handlers write and the tests check: byte
 * i of a response is i % 251 (a prime, so no power-of-two block repeats). */
#ifndef HEARTH_TEST_HANDLERS_PATTERN_H
#define HEARTH_TEST_HANDLERS_PATTERN_H

#define PATTERN_MOD 251
#define PATTERN_BYTE(i) ((unsigned char)((i) % PATTERN_MOD))

#endif
