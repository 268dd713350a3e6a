/* frame.c - frame headers (encode, check) and the incremental decoder of
 * frame.h. Pure: no fd, no libc beyond malloc/free and memcpy, so the same
 * file builds into hearth-init (static musl) and the host programs. */
#include "frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint32_t hf_payload_max(uint8_t type) {
  switch (type) {
  case HF_HELLO:
  case HF_LOAD:
  case HF_LOADED:
  case HF_INVOKE:
  case HF_RESULT:
  case HF_ERROR:
    return HF_CONTROL_MAX;
  case HF_DATA:
    return HF_DATA_MAX;
  default: /* END, unknown */
    return 0;
  }
}

const char *hf_type_name(uint8_t type) {
  static const char *const names[] = {"?",    "hello", "load",   "loaded", "invoke",
                                      "data", "end",   "result", "error"};
  return type < sizeof names / sizeof names[0] ? names[type] : "?";
}

static int type_known(uint8_t type) { return type >= HF_HELLO && type <= HF_ERROR; }

static int is_stream_type(uint8_t type) { return type == HF_DATA || type == HF_END; }

/* The checks shared by encoder and decoder, after magic and version. */
static int check_header(const struct hf_header *h) {
  if (!type_known(h->type))
    return -EPROTO;
  if (is_stream_type(h->type) ? (h->stream < HF_STREAM_CODE || h->stream > HF_STREAM_LOG)
                              : h->stream != HF_STREAM_NONE)
    return -EPROTO;
  if (h->length > hf_payload_max(h->type))
    return -EMSGSIZE;
  return 0;
}

int hf_header_encode(const struct hf_header *h, uint8_t out[HF_HEADER_SIZE]) {
  if (check_header(h) < 0)
    return -EINVAL;
  out[0] = HF_MAGIC;
  out[1] = HF_VERSION;
  out[2] = h->type;
  out[3] = h->stream;
  for (int i = 0; i < 4; i++)
    out[4 + i] = (uint8_t)(h->length >> (8 * i));
  return 0;
}

int hf_header_decode(const uint8_t in[HF_HEADER_SIZE], struct hf_header *h) {
  if (in[0] != HF_MAGIC)
    return -EPROTO;
  if (in[1] != HF_VERSION)
    return -EPROTONOSUPPORT;
  h->type = in[2];
  h->stream = in[3];
  h->length =
      (uint32_t)in[4] | (uint32_t)in[5] << 8 | (uint32_t)in[6] << 16 | (uint32_t)in[7] << 24;
  return check_header(h);
}

int hf_decoder_init(struct hf_decoder *d) {
  memset(d, 0, sizeof *d);
  /* One spare byte so a whole control payload can be NUL-terminated. */
  d->control = malloc(HF_CONTROL_MAX + 1);
  return d->control ? 0 : -ENOMEM;
}

void hf_decoder_free(struct hf_decoder *d) {
  free(d->control);
  d->control = NULL;
}

/* Collects header bytes; once all 8 are in, checks them and starts the
 * payload. Returns bytes consumed or the (now sticky) error. */
static long feed_header(struct hf_decoder *d, const uint8_t *in, size_t len) {
  size_t take = HF_HEADER_SIZE - d->hdr_have;
  if (take > len)
    take = len;
  memcpy(d->hdr + d->hdr_have, in, take);
  d->hdr_have += (uint32_t)take;
  if (d->hdr_have < HF_HEADER_SIZE)
    return (long)take;
  int err = hf_header_decode(d->hdr, &d->cur);
  if (err < 0)
    return d->error = err;
  d->hdr_have = 0;
  d->payload_have = 0;
  d->in_payload = 1;
  return (long)take;
}

/* Emits the event that ends the current frame and returns to headers. */
static void finish_frame(struct hf_decoder *d, enum hf_event_kind kind, struct hf_event *ev) {
  ev->kind = kind;
  ev->header = d->cur;
  if (kind == HF_EV_CONTROL) {
    d->control[d->cur.length] = '\0';
    ev->payload = d->control;
    ev->len = d->cur.length;
  }
  d->in_payload = 0;
}

/* Payload bytes of the current frame: DATA pieces are handed out in place,
 * control payloads are collected until whole. */
static long feed_payload(struct hf_decoder *d, const uint8_t *in, size_t len, struct hf_event *ev) {
  uint32_t left = d->cur.length - d->payload_have;
  size_t take = len < left ? len : left;
  if (d->cur.type == HF_DATA) {
    ev->kind = HF_EV_DATA;
    ev->header = d->cur;
    ev->payload = in;
    ev->len = take;
    d->payload_have += (uint32_t)take;
    if (d->payload_have == d->cur.length)
      d->in_payload = 0;
    return (long)take;
  }
  memcpy(d->control + d->payload_have, in, take);
  d->payload_have += (uint32_t)take;
  if (d->payload_have == d->cur.length)
    finish_frame(d, HF_EV_CONTROL, ev);
  return (long)take;
}

long hf_decoder_feed(struct hf_decoder *d, const uint8_t *in, size_t len, struct hf_event *ev) {
  memset(ev, 0, sizeof *ev);
  ev->kind = HF_EV_NONE;
  if (d->error)
    return d->error;
  size_t used = 0;
  while (ev->kind == HF_EV_NONE) {
    if (d->in_payload && d->cur.type == HF_END) {
      finish_frame(d, HF_EV_END, ev);
      break;
    }
    /* An empty payload completes its frame with no further byte: a control
     * frame with "" or a zero-length DATA frame (one empty DATA event). */
    if (d->in_payload && d->cur.length == 0) {
      if (d->cur.type == HF_DATA) {
        ev->kind = HF_EV_DATA;
        ev->header = d->cur;
        ev->payload = in + used;
        d->in_payload = 0;
      } else {
        finish_frame(d, HF_EV_CONTROL, ev);
      }
      break;
    }
    if (used == len)
      break;
    long n = d->in_payload ? feed_payload(d, in + used, len - used, ev)
                           : feed_header(d, in + used, len - used);
    if (n < 0)
      return n;
    used += (size_t)n;
  }
  return (long)used;
}
