/* test_frame.c - the frame codec (guest-init/proto/frame.h) and blocking
 * frame I/O (frame_io.h): header rules both ways, the incremental decoder
 * fed whole, byte by byte and in odd pieces (same events), garbage,
 * oversized and truncated input, and reads and writes through a file. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/frame.h"
#include "proto/frame_io.h"
#include "proto/json.h"

static void header_bytes(uint8_t out[8], uint8_t magic, uint8_t ver, uint8_t type, uint8_t stream,
                         uint32_t len) {
  out[0] = magic;
  out[1] = ver;
  out[2] = type;
  out[3] = stream;
  for (int i = 0; i < 4; i++)
    out[4 + i] = (uint8_t)(len >> (8 * i));
}

static void test_header_roundtrip(void **state) {
  (void)state;
  struct hf_header cases[] = {
      {HF_HELLO, 0, 0},
      {HF_LOAD, 0, 17},
      {HF_INVOKE, 0, HF_CONTROL_MAX},
      {HF_DATA, 1, HF_DATA_MAX},
      {HF_DATA, 4, 0},
      {HF_END, 2, 0},
      {HF_END, 3, 0},
      {HF_RESULT, 0, 0x1234},
      {HF_ERROR, 0, 5},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint8_t b[8];
    struct hf_header back;
    assert_int_equal(hf_header_encode(&cases[i], b), 0);
    assert_int_equal(b[0], 0x68);
    assert_int_equal(b[1], 1);
    assert_int_equal(b[4] | b[5] << 8 | b[6] << 16 | (uint32_t)b[7] << 24, cases[i].length);
    assert_int_equal(hf_header_decode(b, &back), 0);
    assert_int_equal(back.type, cases[i].type);
    assert_int_equal(back.stream, cases[i].stream);
    assert_int_equal(back.length, cases[i].length);
  }
}

/* The encoder refuses what a reader would refuse. */
static void test_header_encode_refuses(void **state) {
  (void)state;
  struct hf_header bad[] = {
      {HF_DATA, 0, 1},
      {HF_DATA, 5, 1},
      {HF_END, 1, 1},
      {HF_HELLO, 1, 1},
      {HF_LOAD, 0, HF_CONTROL_MAX + 1},
      {HF_DATA, 1, HF_DATA_MAX + 1},
      {0, 0, 0},
      {9, 0, 0},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t b[8];
    assert_int_equal(hf_header_encode(&bad[i], b), -EINVAL);
  }
}

static void test_header_decode_errors(void **state) {
  (void)state;
  uint8_t b[8];
  struct hf_header h;
  header_bytes(b, 'H', 1, HF_HELLO, 0, 0);
  assert_int_equal(hf_header_decode(b, &h), -EPROTO);
  header_bytes(b, 0x68, 2, HF_HELLO, 0, 0);
  assert_int_equal(hf_header_decode(b, &h), -EPROTONOSUPPORT);
  header_bytes(b, 0x68, 0, HF_HELLO, 0, 0);
  assert_int_equal(hf_header_decode(b, &h), -EPROTONOSUPPORT);
  header_bytes(b, 0x68, 1, 0, 0, 0);
  assert_int_equal(hf_header_decode(b, &h), -EPROTO);
  header_bytes(b, 0x68, 1, 9, 0, 0);
  assert_int_equal(hf_header_decode(b, &h), -EPROTO);
  header_bytes(b, 0x68, 1, HF_DATA, 0, 1);
  assert_int_equal(hf_header_decode(b, &h), -EPROTO);
  header_bytes(b, 0x68, 1, HF_END, 5, 0);
  assert_int_equal(hf_header_decode(b, &h), -EPROTO);
  header_bytes(b, 0x68, 1, HF_RESULT, 3, 0);
  assert_int_equal(hf_header_decode(b, &h), -EPROTO);
  header_bytes(b, 0x68, 1, HF_DATA, 1, HF_DATA_MAX + 1);
  assert_int_equal(hf_header_decode(b, &h), -EMSGSIZE);
  header_bytes(b, 0x68, 1, HF_RESULT, 0, HF_CONTROL_MAX + 1);
  assert_int_equal(hf_header_decode(b, &h), -EMSGSIZE);
  header_bytes(b, 0x68, 1, HF_END, 1, 1);
  assert_int_equal(hf_header_decode(b, &h), -EMSGSIZE);
  header_bytes(b, 0x68, 1, HF_DATA, 1, 0xffffffffu);
  assert_int_equal(hf_header_decode(b, &h), -EMSGSIZE);
}

static void test_names_and_limits(void **state) {
  (void)state;
  assert_string_equal(hf_type_name(HF_HELLO), "hello");
  assert_string_equal(hf_type_name(HF_ERROR), "error");
  assert_string_equal(hf_type_name(0), "?");
  assert_string_equal(hf_type_name(200), "?");
  assert_int_equal(hf_payload_max(HF_INVOKE), HF_CONTROL_MAX);
  assert_int_equal(hf_payload_max(HF_DATA), HF_DATA_MAX);
  assert_int_equal(hf_payload_max(HF_END), 0);
  assert_int_equal(hf_payload_max(42), 0);
}

/* ---- the decoder -------------------------------------------------------- */

struct buf {
  uint8_t *p;
  size_t len, cap;
};

static void buf_add(struct buf *b, const void *data, size_t len) {
  if (b->len + len > b->cap) {
    b->cap = (b->len + len) * 2 + 64;
    b->p = realloc(b->p, b->cap);
    assert_non_null(b->p);
  }
  if (len)
    memcpy(b->p + b->len, data, len);
  b->len += len;
}

static void add_frame(struct buf *b, uint8_t type, uint8_t stream, const void *payload,
                      uint32_t len) {
  uint8_t h[8];
  struct hf_header hd = {type, stream, len};
  assert_int_equal(hf_header_encode(&hd, h), 0);
  buf_add(b, h, 8);
  buf_add(b, payload, len);
}

/* What the decoder said, as text: one line per event, DATA pieces of one
 * frame merged (how a stream is cut into pieces is the feeder's choice). */
struct transcript {
  struct buf text;
  int in_data; /* the previous event was a DATA piece of an unfinished frame */
};

static void note(struct transcript *t, const char *fmt, ...) {
  char line[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  buf_add(&t->text, line, (size_t)n);
}

static void record(struct transcript *t, const struct hf_event *ev, uint32_t frame_left) {
  switch (ev->kind) {
  case HF_EV_NONE:
    break;
  case HF_EV_CONTROL:
    note(t, "control %s %zu:", hf_type_name(ev->header.type), ev->len);
    buf_add(&t->text, ev->payload, ev->len);
    assert_int_equal(ev->payload[ev->len], '\0');
    note(t, "\n");
    break;
  case HF_EV_END:
    note(t, "end %u\n", ev->header.stream);
    break;
  case HF_EV_DATA:
    if (!t->in_data)
      note(t, "data %u %u:", ev->header.stream, ev->header.length);
    buf_add(&t->text, ev->payload, ev->len);
    t->in_data = frame_left != 0;
    if (!t->in_data)
      note(t, "\n");
    break;
  }
}

/* Feeds in[0..len) in pieces of the sizes in steps (cycled); returns the
 * transcript, or the error in *err. */
static struct transcript decode(const uint8_t *in, size_t len, const size_t *steps, size_t nsteps,
                                long *err) {
  struct hf_decoder d;
  struct transcript t = {0};
  assert_int_equal(hf_decoder_init(&d), 0);
  *err = 0;
  size_t pos = 0, k = 0;
  while (pos < len) {
    size_t piece = steps[k++ % nsteps];
    if (piece > len - pos)
      piece = len - pos;
    size_t off = 0;
    /* One call per event: keep calling until the piece is used up. */
    do {
      struct hf_event ev;
      long n = hf_decoder_feed(&d, in + pos + off, piece - off, &ev);
      if (n < 0) {
        *err = n;
        hf_decoder_free(&d);
        return t;
      }
      off += (size_t)n;
      record(&t, &ev, d.in_payload ? d.cur.length - d.payload_have : 0);
      if (ev.kind == HF_EV_NONE)
        break;
    } while (off < piece || d.in_payload);
    pos += piece;
  }
  hf_decoder_free(&d);
  return t;
}

static struct buf sample_stream(void) {
  struct buf b = {0};
  static uint8_t big[300000];
  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (uint8_t)(i * 7 + (i >> 9));
  add_frame(&b, HF_HELLO, 0, "{\"protocol\":1}", 14);
  add_frame(&b, HF_LOAD, 0, "", 0);
  add_frame(&b, HF_DATA, 1, big, HF_DATA_MAX);
  add_frame(&b, HF_DATA, 1, big + HF_DATA_MAX, (uint32_t)(sizeof big - HF_DATA_MAX));
  add_frame(&b, HF_DATA, 1, "", 0);
  add_frame(&b, HF_END, 1, NULL, 0);
  add_frame(&b, HF_INVOKE, 0, "{\"request_id\":\"r\"}", 18);
  add_frame(&b, HF_DATA, 2, "x", 1);
  add_frame(&b, HF_END, 2, NULL, 0);
  add_frame(&b, HF_END, 3, NULL, 0);
  add_frame(&b, HF_RESULT, 0, "{}", 2);
  return b;
}

static void test_decoder_piece_sizes_agree(void **state) {
  (void)state;
  struct buf s = sample_stream();
  long err;
  size_t whole[] = {s.len};
  struct transcript ref = decode(s.p, s.len, whole, 1, &err);
  assert_int_equal(err, 0);
  /* The reference is right on its own: the events in order. */
  assert_non_null(memmem(ref.text.p, ref.text.len, "control hello 14:{\"protocol\":1}\n", 32));
  assert_non_null(memmem(ref.text.p, ref.text.len, "control load 0:\ndata 1 262144:", 30));
  assert_non_null(memmem(ref.text.p, ref.text.len, "data 1 0:\nend 1\ncontrol invoke", 30));
  assert_non_null(
      memmem(ref.text.p, ref.text.len, "data 2 1:x\nend 2\nend 3\ncontrol result 2:{}\n", 43));

  size_t bytewise[] = {1};
  size_t odd[] = {3, 7, 8, 1, 4096, 9, 65537, 2};
  size_t *plans[] = {bytewise, odd};
  size_t nplans[] = {1, sizeof odd / sizeof odd[0]};
  for (int p = 0; p < 2; p++) {
    struct transcript t = decode(s.p, s.len, plans[p], nplans[p], &err);
    assert_int_equal(err, 0);
    assert_int_equal(t.text.len, ref.text.len);
    assert_memory_equal(t.text.p, ref.text.p, ref.text.len);
    free(t.text.p);
  }
  free(ref.text.p);
  free(s.p);
}

/* DATA pieces point into the caller's bytes: nothing is buffered. */
static void test_decoder_data_in_place(void **state) {
  (void)state;
  struct buf s = {0};
  add_frame(&s, HF_DATA, 3, "hello", 5);
  struct hf_decoder d;
  struct hf_event ev;
  assert_int_equal(hf_decoder_init(&d), 0);
  assert_int_equal(hf_decoder_feed(&d, s.p, s.len, &ev), (long)s.len);
  assert_int_equal(ev.kind, HF_EV_DATA);
  assert_ptr_equal(ev.payload, s.p + 8);
  assert_int_equal(ev.len, 5);
  assert_int_equal(ev.header.stream, 3);
  hf_decoder_free(&d);
  free(s.p);
}

static void test_decoder_garbage_is_sticky(void **state) {
  (void)state;
  struct hf_decoder d;
  struct hf_event ev;
  uint8_t junk[64];
  memset(junk, 'A', sizeof junk);
  assert_int_equal(hf_decoder_init(&d), 0);
  assert_int_equal(hf_decoder_feed(&d, junk, 7, &ev), 7); /* not yet a header */
  assert_int_equal(ev.kind, HF_EV_NONE);
  assert_int_equal(hf_decoder_feed(&d, junk, sizeof junk, &ev), -EPROTO);
  struct buf good = {0};
  add_frame(&good, HF_HELLO, 0, "{}", 2);
  assert_int_equal(hf_decoder_feed(&d, good.p, good.len, &ev), -EPROTO);
  hf_decoder_free(&d);
  free(good.p);
}

/* An oversized length is refused on the header, before any payload. */
static void test_decoder_oversized(void **state) {
  (void)state;
  struct hf_decoder d;
  struct hf_event ev;
  uint8_t b[8];
  header_bytes(b, 0x68, 1, HF_INVOKE, 0, HF_CONTROL_MAX + 1);
  assert_int_equal(hf_decoder_init(&d), 0);
  assert_int_equal(hf_decoder_feed(&d, b, 8, &ev), -EMSGSIZE);
  hf_decoder_free(&d);
}

/* A frame cut short produces nothing (and consumes everything). */
static void test_decoder_truncated(void **state) {
  (void)state;
  struct buf s = {0};
  add_frame(&s, HF_ERROR, 0, "{\"code\":\"x\"}", 12);
  struct hf_decoder d;
  struct hf_event ev;
  assert_int_equal(hf_decoder_init(&d), 0);
  assert_int_equal(hf_decoder_feed(&d, s.p, s.len - 1, &ev), (long)s.len - 1);
  assert_int_equal(ev.kind, HF_EV_NONE);
  assert_int_equal(hf_decoder_feed(&d, s.p + s.len - 1, 1, &ev), 1);
  assert_int_equal(ev.kind, HF_EV_CONTROL);
  assert_int_equal(ev.len, 12);
  hf_decoder_free(&d);
  free(s.p);
}

/* ---- frame I/O through a file ------------------------------------------- */

static int temp_fd(void) {
  char path[] = "/tmp/hearth-frame-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  unlink(path);
  return fd;
}

static void test_io_roundtrip(void **state) {
  (void)state;
  int fd = temp_fd();
  size_t big_len = 2 * HF_DATA_MAX + 100;
  uint8_t *big = malloc(big_len);
  for (size_t i = 0; i < big_len; i++)
    big[i] = (uint8_t)(i % 251);
  assert_int_equal(hf_write_frame(fd, HF_HELLO, 0, "{\"a\":1}", 7), 0);
  assert_int_equal(hf_write_data(fd, HF_STREAM_RESPONSE, big, big_len), 0);
  assert_int_equal(hf_write_frame(fd, HF_END, HF_STREAM_RESPONSE, NULL, 0), 0);
  assert_int_equal(hf_write_frame(fd, HF_DATA, 0, "x", 1), -EINVAL); /* never sent */
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);

  char json[64];
  struct hf_header h;
  assert_int_equal(hf_read_control(fd, json, sizeof json, &h), HF_HELLO);
  assert_string_equal(json, "{\"a\":1}");
  uint8_t *back = malloc(big_len);
  size_t got = 0;
  uint32_t sizes[3];
  for (int i = 0; i < 3; i++) {
    assert_int_equal(hf_read_header(fd, &h), 0);
    assert_int_equal(h.type, HF_DATA);
    assert_int_equal(h.stream, HF_STREAM_RESPONSE);
    sizes[i] = h.length;
    assert_int_equal(hf_read_exact(fd, back + got, h.length), 0);
    got += h.length;
  }
  assert_int_equal(sizes[0], HF_DATA_MAX);
  assert_int_equal(sizes[1], HF_DATA_MAX);
  assert_int_equal(sizes[2], 100);
  assert_memory_equal(back, big, big_len);
  assert_int_equal(hf_read_header(fd, &h), 0);
  assert_int_equal(h.type, HF_END);
  assert_int_equal(hf_read_header(fd, &h), -ECONNRESET); /* clean end */
  free(big);
  free(back);
  close(fd);
}

static void test_io_errors(void **state) {
  (void)state;
  int fd = temp_fd();
  char json[8];
  struct hf_header h;
  /* A control frame bigger than the caller's buffer. */
  assert_int_equal(hf_write_frame(fd, HF_LOADED, 0, "{\"files\":1}", 11), 0);
  /* A DATA frame where a control frame is expected. */
  assert_int_equal(hf_write_frame(fd, HF_DATA, 1, "ab", 2), 0);
  /* Half a header. */
  assert_int_equal(write(fd, "\x68\x01\x01", 3), 3);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  assert_int_equal(hf_read_control(fd, json, sizeof json, &h), -EMSGSIZE);
  assert_int_equal(hf_read_exact(fd, json, 0), 0);
  uint8_t skip[11];
  assert_int_equal(hf_read_exact(fd, skip, 11), 0);
  assert_int_equal(hf_read_control(fd, json, sizeof json, &h), -EPROTO);
  assert_int_equal(hf_read_exact(fd, skip, 2), 0);
  assert_int_equal(hf_read_header(fd, &h), -EPIPE);
  close(fd);

  fd = temp_fd(); /* a payload cut short */
  assert_int_equal(hf_write_frame(fd, HF_ERROR, 0, "{}", 2), 0);
  assert_int_equal(ftruncate(fd, 9), 0);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  char big[64];
  assert_int_equal(hf_read_control(fd, big, sizeof big, &h), -EPIPE);
  close(fd);

  int p[2];
  assert_int_equal(pipe(p), 0);
  close(p[0]);
  signal(SIGPIPE, SIG_IGN);
  assert_int_equal(hf_write_frame(p[1], HF_HELLO, 0, "{}", 2), -EPIPE);
  close(p[1]);
}

/* hf_send_error cuts a long message to HF_STRING_MAX at a character
 * boundary and still sends valid JSON. */
static void test_send_error(void **state) {
  (void)state;
  int fd = temp_fd();
  size_t n = 3 * HF_STRING_MAX;
  char *msg = malloc(n + 1);
  for (size_t i = 0; i < n; i += 3)
    memcpy(msg + i, "\xe2\x98\x83", 3); /* U+2603, 3 bytes */
  msg[n] = '\0';
  hf_send_error(fd, "boom", msg);
  hf_send_error(fd, "ctl", "line\nnext\x01");
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  char *buf = malloc(HF_CONTROL_MAX + 1);
  struct hf_header h;
  assert_int_equal(hf_read_control(fd, buf, HF_CONTROL_MAX + 1, &h), HF_ERROR);
  struct json_doc doc;
  assert_int_equal(json_parse(&doc, buf, h.length), 0);
  char code[16], *back = malloc(HF_STRING_MAX + 1);
  assert_int_equal(json_get_string(&doc, "code", code, sizeof code), 4);
  long len = json_get_string(&doc, "message", back, HF_STRING_MAX + 1);
  assert_int_equal(len, HF_STRING_MAX - HF_STRING_MAX % 3);
  assert_memory_equal(back, msg, (size_t)len);
  assert_int_equal(hf_read_control(fd, buf, HF_CONTROL_MAX + 1, &h), HF_ERROR);
  assert_string_equal(buf, "{\"code\":\"ctl\",\"message\":\"line\\nnext\\u0001\"}");
  free(msg);
  free(back);
  free(buf);
  close(fd);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_header_roundtrip),
      cmocka_unit_test(test_header_encode_refuses),
      cmocka_unit_test(test_header_decode_errors),
      cmocka_unit_test(test_names_and_limits),
      cmocka_unit_test(test_decoder_piece_sizes_agree),
      cmocka_unit_test(test_decoder_data_in_place),
      cmocka_unit_test(test_decoder_garbage_is_sticky),
      cmocka_unit_test(test_decoder_oversized),
      cmocka_unit_test(test_decoder_truncated),
      cmocka_unit_test(test_io_roundtrip),
      cmocka_unit_test(test_io_errors),
      cmocka_unit_test(test_send_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
