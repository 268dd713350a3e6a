/* frame.h - hearth's host <-> guest frame codec (PROTOCOL.md), shared by
 * hearth-init (built with musl, static), hearth-vmm and the hearth CLI.
 * Pure: encoding and checking headers touches no fd. frame_io.h does the
 * blocking reads and writes on top. */
#ifndef HEARTH_PROTO_FRAME_H
#define HEARTH_PROTO_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define HF_MAGIC 0x68
#define HF_VERSION 1
#define HF_HEADER_SIZE 8
#define HF_CONTROL_MAX (64u << 10) /* JSON payload of a control frame */
#define HF_DATA_MAX (256u << 10)   /* payload of one DATA frame */
#define HF_INIT_PORT 52            /* hearth-init's vsock port */
#define HF_STRING_MAX 4096u        /* a control JSON string, after unescaping */
#define HF_ENV_MAX 256u            /* members of INVOKE's "env" */

#define HF_RESPONSE_CAP_DEFAULT (6u << 20)
#define HF_LOG_CAP_DEFAULT (1u << 20)

enum hf_type {
  HF_HELLO = 1,
  HF_LOAD = 2,
  HF_LOADED = 3,
  HF_INVOKE = 4,
  HF_DATA = 5,
  HF_END = 6,
  HF_RESULT = 7,
  HF_ERROR = 8,
};

enum hf_stream {
  HF_STREAM_NONE = 0,
  HF_STREAM_CODE = 1,
  HF_STREAM_EVENT = 2,
  HF_STREAM_RESPONSE = 3,
  HF_STREAM_LOG = 4,
};

struct hf_header {
  uint8_t type;   /* enum hf_type */
  uint8_t stream; /* enum hf_stream; 0 for control frames */
  uint32_t length;
};

/* Writes the 8 header bytes for h into out. -EINVAL when h breaks the rules
 * a reader checks (so a writer can never send what its peer refuses). */
int hf_header_encode(const struct hf_header *h, uint8_t out[HF_HEADER_SIZE]);

/* Parses and checks 8 header bytes: magic, version, a known type, a stream
 * that fits the type (DATA/END: 1..4, others 0) and a length within the
 * type's limit (END: 0). Returns 0, or -EPROTO (bad magic, type or stream),
 * -EPROTONOSUPPORT (other version), -EMSGSIZE (length over the limit). */
int hf_header_decode(const uint8_t in[HF_HEADER_SIZE], struct hf_header *h);

/* The payload limit of a frame type (0 for END, unknown types). */
uint32_t hf_payload_max(uint8_t type);

/* A short lower-case name for a type ("hello", "data"...), "?" if unknown. */
const char *hf_type_name(uint8_t type);

/* Incremental decoding for readers that get bytes in arbitrary pieces (the
 * VMM reading the guest's or the host's writes): feed bytes, get frames.
 * Payloads are not buffered: DATA payload bytes are handed out as they
 * arrive; control payloads (<= HF_CONTROL_MAX) are collected whole. */
struct hf_decoder {
  uint8_t hdr[HF_HEADER_SIZE];
  uint32_t hdr_have;
  struct hf_header cur; /* valid while in_payload */
  uint32_t payload_have;
  int in_payload;
  int error;        /* sticky negative errno once the stream is bad */
  uint8_t *control; /* HF_CONTROL_MAX bytes, owned */
};

enum hf_event_kind {
  HF_EV_NONE,    /* need more bytes */
  HF_EV_CONTROL, /* a whole control frame: header + payload/len */
  HF_EV_DATA,    /* a piece of a DATA frame's payload (may be many per frame) */
  HF_EV_END,     /* an END frame */
};

struct hf_event {
  enum hf_event_kind kind;
  struct hf_header header;
  const uint8_t *payload; /* CONTROL: whole payload; DATA: this piece */
  size_t len;
};

/* 0 or -ENOMEM. */
int hf_decoder_init(struct hf_decoder *d);
void hf_decoder_free(struct hf_decoder *d);
/* Consumes up to len bytes of in, stopping after the first event. Returns
 * the number of bytes consumed (>= 0) with *ev set (HF_EV_NONE when all of
 * in was consumed without completing one), or the sticky -errno of
 * hf_header_decode once the stream is bad. */
long hf_decoder_feed(struct hf_decoder *d, const uint8_t *in, size_t len, struct hf_event *ev);

#endif
