/* jsonscan.h - a streaming JSON validator (RFC 8259, UTF-8 only): bytes go
 * in pieces of any size, and the answer is whether they make exactly one
 * JSON value. Constant memory, nesting bounded by JSCAN_MAX_DEPTH. `hearth
 * run` uses it to pick an event's content type without holding the event. */
#ifndef HEARTH_CLI_JSONSCAN_H
#define HEARTH_CLI_JSONSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Deeper documents are "not JSON" here: no sane event nests this far, and
 * the guest's decoders (Python's json above all) have limits of their own. */
#define JSCAN_MAX_DEPTH 512

struct jscan {
  uint8_t state;                          /* private: what the next byte may be */
  uint8_t after_string;                   /* private: the state after the current string */
  uint8_t literal_left;                   /* private: bytes of true/false/null still expected */
  uint8_t hex_left;                       /* private: hex digits of a \u escape still expected */
  uint8_t utf8_left;                      /* private: continuation bytes still expected */
  uint8_t utf8_lo;                        /* private: the next continuation byte's range */
  uint8_t utf8_hi;                        /*   (narrower after E0, ED, F0, F4) */
  const char *literal;                    /* private: the rest of the literal being read */
  uint32_t depth;                         /* open arrays and objects */
  uint8_t is_object[JSCAN_MAX_DEPTH / 8]; /* one bit per open container */
};

void jscan_init(struct jscan *s);

/* Feeds len bytes. Returns true while the bytes so far can still begin a
 * valid document, false once they cannot (and from then on). */
bool jscan_feed(struct jscan *s, const void *buf, size_t len);

/* True when everything fed is exactly one complete JSON value, with only
 * whitespace around it. Empty input is not JSON. */
bool jscan_finish(const struct jscan *s);

#endif
