/* init_session.c - HELLO, LOAD + CODE, LOADED (init_session.h). The code
 * archive is fed to the extractor DATA frame by DATA frame, in pieces of a
 * fixed buffer: never held whole. */
#include "init_session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "init_log.h"
#include "proto/frame_io.h"
#include "proto/json.h"
#include "unpack/tarx.h"

#define CODE_PIECE (64u << 10) /* bytes read from a DATA frame at a time */

int session_accept(int ls) {
  int conn;
  do
    conn = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
  while (conn < 0 && errno == EINTR);
  if (conn < 0) {
    int err = -errno;
    init_log("accept: %s", strerror(-err));
    return err;
  }
  return conn;
}

int session_boot_id(char *out) {
  static const char hex[] = "0123456789abcdef";
  unsigned char raw[INIT_BOOT_ID_LEN / 2];
  size_t have = 0;
  while (have < sizeof raw) {
    ssize_t n = getrandom(raw + have, sizeof raw - have, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int err = -errno;
      init_log("getrandom: %s", strerror(-err));
      return err;
    }
    have += (size_t)n;
  }
  for (size_t i = 0; i < sizeof raw; i++) {
    out[2 * i] = hex[raw[i] >> 4];
    out[2 * i + 1] = hex[raw[i] & 15];
  }
  out[INIT_BOOT_ID_LEN] = '\0';
  return 0;
}

/* Sends a control frame built by the caller in w. */
static int send_control(int conn, uint8_t type, struct json_writer *w) {
  long len = json_writer_finish(w);
  if (len < 0) {
    init_fail(conn, "internal", "%s: JSON does not fit: %s", hf_type_name(type),
              strerror((int)-len));
    return (int)len;
  }
  int err = hf_write_frame(conn, type, HF_STREAM_NONE, w->buf, (uint32_t)len);
  if (err < 0)
    init_log("sending %s: %s", hf_type_name(type), strerror(-err));
  return err;
}

static int hello(int conn, const char *image, const char *runtime, const char *boot_id,
                 bool restored) {
  char buf[2 * HF_STRING_MAX];
  struct json_writer w;
  json_writer_init(&w, buf, sizeof buf);
  json_begin_object(&w);
  json_put_u64(&w, "protocol", HF_VERSION);
  json_put_string(&w, "image", image);
  json_put_string(&w, "runtime", runtime);
  json_put_string(&w, "boot_id", boot_id);
  if (restored)
    json_put_bool(&w, "restored", true);
  json_end_object(&w);
  return send_control(conn, HF_HELLO, &w);
}

int session_hello(int conn, const char *image, const char *runtime, const char *boot_id) {
  return hello(conn, image, runtime, boot_id, false);
}

int session_hello_restored(int conn, const char *image, const char *runtime, const char *boot_id) {
  return hello(conn, image, runtime, boot_id, true);
}

int session_loaded(int conn, const struct code_totals *totals, const char *runtime) {
  char buf[256];
  struct json_writer w;
  json_writer_init(&w, buf, sizeof buf);
  json_begin_object(&w);
  json_put_u64(&w, "files", totals->files);
  json_put_u64(&w, "bytes", totals->bytes);
  json_put_string(&w, "runtime", runtime);
  json_end_object(&w);
  return send_control(conn, HF_LOADED, &w);
}

/* Reports a frame-level failure: the peer went away, or broke the rules. */
static int frame_failed(int conn, const char *doing, int err) {
  if (err == -ECONNRESET || err == -EPIPE)
    init_log("%s: the host closed the connection", doing);
  else
    init_fail(conn, "protocol", "%s: %s", doing, strerror(-err));
  return err;
}

/* session_read_control; a clean end before the frame is a quiet
 * -ECONNRESET when quiet_end. */
static int read_control(int conn, int want, char **json, size_t *len, bool quiet_end) {
  char *buf = malloc(HF_CONTROL_MAX + 1);
  if (!buf)
    return -ENOMEM;
  struct hf_header h;
  int type = hf_read_control(conn, buf, HF_CONTROL_MAX + 1, &h);
  if (type < 0) {
    free(buf);
    if (type == -ECONNRESET && quiet_end)
      return type;
    return frame_failed(conn, hf_type_name((uint8_t)want), type);
  }
  if (type != want) {
    free(buf);
    init_fail(conn, "protocol", "expected %s, got %s", hf_type_name((uint8_t)want),
              hf_type_name((uint8_t)type));
    return -EPROTO;
  }
  *json = buf;
  *len = h.length;
  return 0;
}

int session_read_control(int conn, int want, char **json, size_t *len) {
  return read_control(conn, want, json, len, false);
}

int session_read_invoke(int *conn, int ls, const struct session_self *self, char **json,
                        size_t *len) {
  int err = read_control(*conn, HF_INVOKE, json, len, ls >= 0);
  if (err != -ECONNRESET || ls < 0)
    return err;
  /* Reset by a restore (or the host left): wait for the next host. A
   * clone must not reuse the snapshot's boot id. */
  close(*conn);
  *conn = session_accept(ls);
  if (*conn < 0)
    return *conn;
  char boot_id[INIT_BOOT_ID_LEN + 1];
  if ((err = session_boot_id(boot_id)) < 0 ||
      (err = session_hello_restored(*conn, self->image, self->runtime, boot_id)) < 0)
    return err;
  return session_read_control(*conn, HF_INVOKE, json, len);
}

/* LOAD's members: format (must be "tar" when given), handler and
 * snapshot. */
static int parse_load(int conn, const char *json, size_t len, const char *default_handler,
                      struct load_request *req) {
  struct json_doc doc;
  char value[HF_STRING_MAX + 1];
  if (json_parse(&doc, json, len) < 0) {
    init_fail(conn, "bad_load", "LOAD: malformed JSON");
    return -EINVAL;
  }
  long n = json_get_string(&doc, "format", value, sizeof value);
  if (n != -ENOENT && (n < 0 || strcmp(value, "tar") != 0)) {
    init_fail(conn, "bad_load", "LOAD: \"format\" must be \"tar\"");
    return -EINVAL;
  }
  n = json_get_string(&doc, "handler", value, sizeof value);
  if (n == -ENOENT)
    n = (long)strlen(strcpy(value, default_handler));
  if (n < 0) {
    init_fail(conn, "bad_load", "LOAD: \"handler\" must be a string without NUL");
    return -EINVAL;
  }
  struct code_limits lim = code_limits_default();
  n = code_path_check(&lim, value, (size_t)n, req->handler, sizeof req->handler);
  if (n < 0) {
    init_fail(conn, "bad_load", "LOAD: bad \"handler\": %s", code_error_message((int)n));
    return -EINVAL;
  }
  req->snapshot = false;
  int rc = json_get_bool(&doc, "snapshot", &req->snapshot);
  if (rc < 0 && rc != -ENOENT) {
    init_fail(conn, "bad_load", "LOAD: \"snapshot\" must be true or false");
    return -EINVAL;
  }
  return 0;
}

/* Feeds one DATA frame's payload (len bytes still in the socket) to t. */
static int feed_data(int conn, struct tarx *t, uint8_t *piece, uint32_t len) {
  while (len > 0) {
    uint32_t n = len < CODE_PIECE ? len : CODE_PIECE;
    int err = hf_read_exact(conn, piece, n);
    if (err < 0)
      return frame_failed(conn, "CODE stream", err);
    err = tarx_feed(t, piece, n);
    if (err < 0) {
      init_fail(conn, "bad_code", "%s", tarx_error(t));
      return err;
    }
    len -= n;
  }
  return 0;
}

/* The CODE stream: DATA(CODE)* END(CODE), nothing else in between. */
static int receive_code(int conn, struct tarx *t, uint8_t *piece) {
  for (;;) {
    struct hf_header h;
    int err = hf_read_header(conn, &h);
    if (err < 0)
      return frame_failed(conn, "CODE stream", err);
    if (h.stream != HF_STREAM_CODE || (h.type != HF_DATA && h.type != HF_END)) {
      init_fail(conn, "protocol", "CODE stream: unexpected %s frame (stream %u)",
                hf_type_name(h.type), h.stream);
      return -EPROTO;
    }
    if (h.type == HF_END)
      break;
    if ((err = feed_data(conn, t, piece, h.length)) < 0)
      return err;
  }
  int err = tarx_finish(t);
  if (err < 0)
    init_fail(conn, "bad_code", "%s", tarx_error(t));
  return err;
}

int session_load_request(int conn, int code_dir, const char *default_handler,
                         struct load_request *req, struct code_totals *totals) {
  char *json;
  size_t len;
  int err = session_read_control(conn, HF_LOAD, &json, &len);
  if (err < 0)
    return err;
  err = parse_load(conn, json, len, default_handler, req);
  free(json);
  if (err < 0)
    return err;
  struct code_limits lim = code_limits_default();
  struct tarx *t = NULL;
  uint8_t *piece = malloc(CODE_PIECE);
  if (!piece || tarx_new(&t, code_dir, &lim) < 0) {
    free(piece);
    init_fail(conn, "internal", "out of memory");
    return -ENOMEM;
  }
  err = receive_code(conn, t, piece);
  *totals = tarx_totals(t);
  tarx_free(t);
  free(piece);
  return err;
}

int session_load(int conn, int code_dir, const char *default_handler, char *handler, size_t cap,
                 struct code_totals *totals) {
  struct load_request *req = malloc(sizeof *req);
  if (!req) {
    init_fail(conn, "internal", "out of memory");
    return -ENOMEM;
  }
  int err = session_load_request(conn, code_dir, default_handler, req, totals);
  if (err == 0 && strlen(req->handler) >= cap)
    err = -ENAMETOOLONG;
  if (err == 0)
    strcpy(handler, req->handler);
  free(req);
  return err;
}
