/* golden_cases.c - the golden frames (golden_cases.h). Valid frames are
 * built with hf_header_encode and the JSON writer, so a change in either
 * shows up as a difference from the checked-in files. */
#include "golden_cases.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/frame.h"
#include "proto/json.h"

/* ---- helpers ------------------------------------------------------------ */

/* A whole frame: encoded header, then payload. */
static long frame(uint8_t *out, size_t cap, uint8_t type, uint8_t stream, const void *payload,
                  size_t len) {
  struct hf_header h = {.type = type, .stream = stream, .length = (uint32_t)len};
  if (cap < HF_HEADER_SIZE + len)
    return -ENOSPC;
  int err = hf_header_encode(&h, out);
  if (err < 0)
    return err;
  if (len)
    memcpy(out + HF_HEADER_SIZE, payload, len);
  return (long)(HF_HEADER_SIZE + len);
}

/* A control frame whose JSON is in w. */
static long control(uint8_t *out, size_t cap, uint8_t type, struct json_writer *w) {
  long len = json_writer_finish(w);
  return len < 0 ? len : frame(out, cap, type, HF_STREAM_NONE, w->buf, (size_t)len);
}

/* Raw header bytes, for frames the encoder refuses to write. */
static long raw_header(uint8_t *out, size_t cap, uint8_t magic, uint8_t version, uint8_t type,
                       uint8_t stream, uint32_t length) {
  if (cap < HF_HEADER_SIZE)
    return -ENOSPC;
  out[0] = magic;
  out[1] = version;
  out[2] = type;
  out[3] = stream;
  for (int i = 0; i < 4; i++)
    out[4 + i] = (uint8_t)(length >> (8 * i));
  return HF_HEADER_SIZE;
}

/* A control frame with hand-written (possibly invalid) JSON. */
static long raw_json(uint8_t *out, size_t cap, uint8_t type, const char *text) {
  return frame(out, cap, type, HF_STREAM_NONE, text, strlen(text));
}

static char json_buf[4096];

static struct json_writer *start(struct json_writer *w) {
  json_writer_init(w, json_buf, sizeof json_buf);
  json_begin_object(w);
  return w;
}

/* ---- valid frames ----------------------------------------------------- */

static long build_hello(uint8_t *out, size_t cap) {
  struct json_writer w;
  start(&w);
  json_put_u64(&w, "protocol", 1);
  json_put_string(&w, "image", "python");
  json_put_string(&w, "runtime", "python");
  json_put_string(&w, "boot_id", "0123456789abcdef0123456789abcdef");
  json_end_object(&w);
  return control(out, cap, HF_HELLO, &w);
}

static long build_load(uint8_t *out, size_t cap) {
  struct json_writer w;
  start(&w);
  json_put_string(&w, "format", "tar");
  json_put_string(&w, "handler", "app/handler.py");
  json_end_object(&w);
  return control(out, cap, HF_LOAD, &w);
}

static long build_loaded(uint8_t *out, size_t cap) {
  struct json_writer w;
  start(&w);
  json_put_u64(&w, "files", 3);
  json_put_u64(&w, "bytes", 1234);
  json_put_string(&w, "runtime", "native");
  json_end_object(&w);
  return control(out, cap, HF_LOADED, &w);
}

/* Non-ASCII passed through as UTF-8 (2, 3 and 4-byte sequences), and every
 * kind of escape the writer makes. */
static long build_invoke(uint8_t *out, size_t cap) {
  struct json_writer w;
  start(&w);
  json_put_string(&w, "request_id", "req-0001");
  json_put_string(&w, "function", "greet");
  json_put_string(&w, "content_type", "application/json");
  json_begin_member_object(&w, "env");
  json_put_string(&w, "GREETING", "h\xc3\xa9llo \xe2\x98\x83 \xf0\x9f\x8e\x89");
  json_put_string(&w, "QUOTED", "say \"hi\"\\ /\n\t\r\b\f\x01\x1f\x7f");
  json_put_string(&w, "EMPTY", "");
  json_end_object(&w);
  json_put_u64(&w, "timeout_ms", 3000);
  json_put_u64(&w, "memory_mb", 128);
  json_put_u64(&w, "response_cap", HF_RESPONSE_CAP_DEFAULT);
  json_put_u64(&w, "log_cap", HF_LOG_CAP_DEFAULT);
  json_end_object(&w);
  return control(out, cap, HF_INVOKE, &w);
}

static long build_data_event(uint8_t *out, size_t cap) {
  static const char event[] = "{\"name\": \"hearth\"}\n";
  return frame(out, cap, HF_DATA, HF_STREAM_EVENT, event, sizeof event - 1);
}

static long build_end_event(uint8_t *out, size_t cap) {
  return frame(out, cap, HF_END, HF_STREAM_EVENT, NULL, 0);
}

/* Every byte value once: DATA payloads are raw bytes, not text. */
static long build_data_response(uint8_t *out, size_t cap) {
  uint8_t bytes[256];
  for (int i = 0; i < 256; i++)
    bytes[i] = (uint8_t)i;
  return frame(out, cap, HF_DATA, HF_STREAM_RESPONSE, bytes, sizeof bytes);
}

static long build_data_empty_log(uint8_t *out, size_t cap) {
  return frame(out, cap, HF_DATA, HF_STREAM_LOG, NULL, 0);
}

static long build_end_log(uint8_t *out, size_t cap) {
  return frame(out, cap, HF_END, HF_STREAM_LOG, NULL, 0);
}

static long build_result_ok(uint8_t *out, size_t cap) {
  struct json_writer w;
  start(&w);
  json_put_string(&w, "status", "ok");
  json_put_u64(&w, "exit_status", 0);
  json_put_u64(&w, "duration_us", 1534);
  json_put_u64(&w, "response_bytes", 19);
  json_put_bool(&w, "response_truncated", false);
  json_put_u64(&w, "log_bytes", 0);
  json_put_bool(&w, "logs_truncated", false);
  json_end_object(&w);
  return control(out, cap, HF_RESULT, &w);
}

static long build_result_truncated(uint8_t *out, size_t cap) {
  struct json_writer w;
  start(&w);
  json_put_string(&w, "status", "error");
  json_put_u64(&w, "exit_status", 1);
  json_put_u64(&w, "duration_us", 250000);
  json_put_u64(&w, "response_bytes", HF_RESPONSE_CAP_DEFAULT);
  json_put_bool(&w, "response_truncated", true);
  json_put_u64(&w, "log_bytes", HF_LOG_CAP_DEFAULT);
  json_put_bool(&w, "logs_truncated", true);
  json_put_string(&w, "error", "exit status 1");
  json_end_object(&w);
  return control(out, cap, HF_RESULT, &w);
}

static long build_error(uint8_t *out, size_t cap) {
  struct json_writer w;
  start(&w);
  json_put_string(&w, "code", "bad_code");
  json_put_string(&w, "message", "../x: '..' is not allowed in paths");
  json_end_object(&w);
  return control(out, cap, HF_ERROR, &w);
}

/* Bytes that are not UTF-8 go out as U+FFFD, one per byte. */
static long build_error_invalid_utf8(uint8_t *out, size_t cap) {
  struct json_writer w;
  start(&w);
  json_put_string(&w, "code", "load_failed");
  json_put_string(&w, "message", "bad \xff\xc3 bytes \xed\xa0\x80");
  json_end_object(&w);
  return control(out, cap, HF_ERROR, &w);
}

/* ---- bad frames --------------------------------------------------------- */

static long build_bad_magic(uint8_t *out, size_t cap) {
  long n = build_hello(out, cap);
  if (n > 0)
    out[0] = 'H';
  return n;
}

static long build_bad_version(uint8_t *out, size_t cap) {
  long n = build_hello(out, cap);
  if (n > 0)
    out[1] = 2;
  return n;
}

static long build_bad_type(uint8_t *out, size_t cap) {
  return raw_header(out, cap, HF_MAGIC, HF_VERSION, 9, 0, 0);
}

static long build_bad_data_stream0(uint8_t *out, size_t cap) {
  long n = raw_header(out, cap, HF_MAGIC, HF_VERSION, HF_DATA, 0, 4);
  if (n < 0 || cap < (size_t)n + 4)
    return -ENOSPC;
  memcpy(out + n, "abcd", 4);
  return n + 4;
}

static long build_bad_data_stream5(uint8_t *out, size_t cap) {
  return raw_header(out, cap, HF_MAGIC, HF_VERSION, HF_END, 5, 0);
}

static long build_bad_control_stream(uint8_t *out, size_t cap) {
  long n = build_loaded(out, cap);
  if (n > 0)
    out[3] = HF_STREAM_CODE;
  return n;
}

/* Readers refuse these on the header alone, so no payload follows. */
static long build_bad_oversized_data(uint8_t *out, size_t cap) {
  return raw_header(out, cap, HF_MAGIC, HF_VERSION, HF_DATA, HF_STREAM_CODE, HF_DATA_MAX + 1);
}

static long build_bad_oversized_control(uint8_t *out, size_t cap) {
  return raw_header(out, cap, HF_MAGIC, HF_VERSION, HF_INVOKE, 0, HF_CONTROL_MAX + 1);
}

static long build_bad_end_length(uint8_t *out, size_t cap) {
  long n = raw_header(out, cap, HF_MAGIC, HF_VERSION, HF_END, HF_STREAM_RESPONSE, 1);
  if (n < 0 || cap < (size_t)n + 1)
    return -ENOSPC;
  out[n] = 0;
  return n + 1;
}

static long build_bad_truncated(uint8_t *out, size_t cap) {
  long n = build_hello(out, cap);
  return n > 20 ? 20 : -EINVAL; /* the header and 12 of its payload bytes */
}

static long build_bad_json_trailing(uint8_t *out, size_t cap) {
  return raw_json(out, cap, HF_LOADED, "{\"files\":1,\"bytes\":2,\"runtime\":\"native\"} x");
}

static long build_bad_json_duplicate(uint8_t *out, size_t cap) {
  return raw_json(out, cap, HF_ERROR, "{\"code\":\"a\",\"message\":\"m\",\"cod\\u0065\":\"b\"}");
}

static long build_bad_json_depth(uint8_t *out, size_t cap) {
  return raw_json(out, cap, HF_INVOKE,
                  "{\"request_id\":\"r\",\"content_type\":\"t\",\"x\":{\"a\":[{\"b\":{}}]}}");
}

static long build_bad_json_surrogate(uint8_t *out, size_t cap) {
  return raw_json(out, cap, HF_ERROR, "{\"code\":\"x\",\"message\":\"\\ud800\"}");
}

static long build_bad_json_utf8(uint8_t *out, size_t cap) {
  return raw_json(out, cap, HF_ERROR, "{\"code\":\"x\",\"message\":\"\xc0\xaf\"}");
}

static long build_bad_json_control_char(uint8_t *out, size_t cap) {
  return raw_json(out, cap, HF_ERROR, "{\"code\":\"x\",\"message\":\"a\nb\"}");
}

static long build_bad_json_not_object(uint8_t *out, size_t cap) {
  return raw_json(out, cap, HF_LOAD, "[\"tar\"]");
}

static long build_bad_value_bigint(uint8_t *out, size_t cap) {
  return raw_json(out, cap, HF_LOADED,
                  "{\"files\":9007199254740992,\"bytes\":0,\"runtime\":\"native\"}");
}

/* ---- the table ---------------------------------------------------------- */

const struct golden_case golden_cases[] = {
    {"hello.bin", GOLDEN_OK, 0, NULL, "HELLO from a python image", build_hello},
    {"load.bin", GOLDEN_OK, 0, NULL, "LOAD of a tar bundle with a handler path", build_load},
    {"loaded.bin", GOLDEN_OK, 0, NULL, "LOADED from the native runtime", build_loaded},
    {"invoke.bin", GOLDEN_OK, 0, NULL,
     "INVOKE with env: UTF-8 (2, 3, 4 byte), escapes of quote, backslash and control "
     "characters, an empty value, all caps",
     build_invoke},
    {"data_event.bin", GOLDEN_OK, 0, NULL, "DATA of the EVENT stream (2), 19 bytes",
     build_data_event},
    {"end_event.bin", GOLDEN_OK, 0, NULL, "END of the EVENT stream", build_end_event},
    {"data_response.bin", GOLDEN_OK, 0, NULL,
     "DATA of the RESPONSE stream (3): bytes 0 to 255 in order", build_data_response},
    {"data_empty_log.bin", GOLDEN_OK, 0, NULL, "DATA of the LOG stream (4) with no payload",
     build_data_empty_log},
    {"end_log.bin", GOLDEN_OK, 0, NULL, "END of the LOG stream", build_end_log},
    {"result_ok.bin", GOLDEN_OK, 0, NULL, "RESULT of a successful invocation", build_result_ok},
    {"result_truncated.bin", GOLDEN_OK, 0, NULL,
     "RESULT with status error, both streams truncated at the default caps",
     build_result_truncated},
    {"error.bin", GOLDEN_OK, 0, NULL, "ERROR bad_code", build_error},
    {"error_invalid_utf8.bin", GOLDEN_OK, 0, NULL,
     "ERROR whose message had 5 bytes not part of valid UTF-8, each written as U+FFFD",
     build_error_invalid_utf8},
    {"bad_magic.bin", GOLDEN_BAD_MAGIC, -EPROTO, NULL, "hello.bin with magic 0x48",
     build_bad_magic},
    {"bad_version.bin", GOLDEN_BAD_VERSION, -EPROTONOSUPPORT, NULL, "hello.bin with version 2",
     build_bad_version},
    {"bad_type.bin", GOLDEN_BAD_TYPE, -EPROTO, NULL, "type 9", build_bad_type},
    {"bad_data_stream0.bin", GOLDEN_BAD_STREAM, -EPROTO, NULL, "DATA with stream 0",
     build_bad_data_stream0},
    {"bad_end_stream5.bin", GOLDEN_BAD_STREAM, -EPROTO, NULL, "END with stream 5",
     build_bad_data_stream5},
    {"bad_control_stream.bin", GOLDEN_BAD_STREAM, -EPROTO, NULL, "loaded.bin with stream 1",
     build_bad_control_stream},
    {"bad_oversized_data.bin", GOLDEN_OVERSIZED, -EMSGSIZE, NULL,
     "DATA header declaring 262145 bytes (header only)", build_bad_oversized_data},
    {"bad_oversized_control.bin", GOLDEN_OVERSIZED, -EMSGSIZE, NULL,
     "INVOKE header declaring 65537 bytes (header only)", build_bad_oversized_control},
    {"bad_end_length.bin", GOLDEN_OVERSIZED, -EMSGSIZE, NULL, "END declaring 1 payload byte",
     build_bad_end_length},
    {"bad_truncated.bin", GOLDEN_TRUNCATED, -EPIPE, NULL,
     "the first 20 bytes of hello.bin: the stream ends inside the payload", build_bad_truncated},
    {"bad_json_trailing.bin", GOLDEN_BAD_JSON, -EINVAL, NULL, "LOADED, bytes after the object",
     build_bad_json_trailing},
    {"bad_json_duplicate.bin", GOLDEN_BAD_JSON, -EINVAL, NULL,
     "ERROR with key code twice (the second spelled with an escape)", build_bad_json_duplicate},
    {"bad_json_depth.bin", GOLDEN_BAD_JSON, -EINVAL, NULL, "INVOKE nested 5 deep (limit 4)",
     build_bad_json_depth},
    {"bad_json_surrogate.bin", GOLDEN_BAD_JSON, -EINVAL, NULL, "ERROR with a lone surrogate",
     build_bad_json_surrogate},
    {"bad_json_utf8.bin", GOLDEN_BAD_JSON, -EINVAL, NULL,
     "ERROR with an overlong UTF-8 sequence (C0 AF)", build_bad_json_utf8},
    {"bad_json_control_char.bin", GOLDEN_BAD_JSON, -EINVAL, NULL,
     "ERROR with a raw newline inside a string", build_bad_json_control_char},
    {"bad_json_not_object.bin", GOLDEN_BAD_JSON, -EINVAL, NULL, "LOAD whose JSON is an array",
     build_bad_json_not_object},
    {"bad_value_bigint.bin", GOLDEN_BAD_VALUE, -ERANGE, "files", "LOADED with files = 2^53",
     build_bad_value_bigint},
};
const size_t golden_case_count = sizeof golden_cases / sizeof golden_cases[0];

const char *golden_expect_name(enum golden_expect e) {
  static const char *const names[] = {"ok",        "bad_magic",  "bad_version",
                                      "bad_type",  "bad_stream", "oversized",
                                      "truncated", "bad_json",   "bad_value"};
  return names[e];
}

/* ---- index.json --------------------------------------------------------- */

struct out {
  char *buf;
  size_t cap, len;
  int err;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...) {
  if (o->err)
    return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= o->cap - o->len)
    o->err = -ENOSPC;
  else
    o->len += (size_t)n;
}

static const char *errno_name(int err) {
  switch (-err) {
  case EPROTO:
    return "EPROTO";
  case EPROTONOSUPPORT:
    return "EPROTONOSUPPORT";
  case EMSGSIZE:
    return "EMSGSIZE";
  case EPIPE:
    return "EPIPE";
  case EINVAL:
    return "EINVAL";
  case ERANGE:
    return "ERANGE";
  default:
    return "?";
  }
}

static void put_case(struct out *o, const struct golden_case *c, const uint8_t *b, size_t n) {
  uint32_t length =
      (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
  put(o, "    {\"file\": \"%s\", \"expect\": \"%s\", \"note\": \"%s\",\n", c->file,
      golden_expect_name(c->expect), c->note);
  put(o,
      "     \"size\": %zu, \"magic\": %u, \"version\": %u, \"type\": %u, \"type_name\": \"%s\", "
      "\"stream\": %u, \"length\": %u,\n",
      n, b[0], b[1], b[2], hf_type_name(b[2]), b[3], length);
  if (c->expect != GOLDEN_OK)
    put(o, "     \"c_error\": \"%s\",%s%s%s\n", errno_name(c->c_error),
        c->member ? " \"member\": \"" : "", c->member ? c->member : "", c->member ? "\"," : "");
  /* Valid control payloads are JSON already: embedded as they are. */
  if (c->expect == GOLDEN_OK && hf_payload_max(b[2]) == HF_CONTROL_MAX)
    put(o, "     \"json\": %.*s,\n", (int)(n - HF_HEADER_SIZE), (const char *)b + HF_HEADER_SIZE);
  put(o, "     \"payload_hex\": \"");
  for (size_t i = HF_HEADER_SIZE; i < n; i++)
    put(o, "%02x", b[i]);
  put(o, "\"}");
}

long golden_index(char *buf, size_t cap) {
  static uint8_t bytes[1024];
  struct out o = {.buf = buf, .cap = cap};
  if (cap == 0)
    return -ENOSPC;
  put(&o, "{\n  \"protocol\": %u,\n  \"cases\": [\n", HF_VERSION);
  for (size_t i = 0; i < golden_case_count; i++) {
    const struct golden_case *c = &golden_cases[i];
    if (strchr(c->note, '"') || strchr(c->note, '\\'))
      return -EINVAL; /* notes are written unescaped */
    long n = c->build(bytes, sizeof bytes);
    if (n < HF_HEADER_SIZE)
      return n < 0 ? n : -EINVAL;
    put_case(&o, c, bytes, (size_t)n);
    put(&o, i + 1 < golden_case_count ? ",\n" : "\n");
  }
  put(&o, "  ]\n}\n");
  return o.err ? o.err : (long)o.len;
}
