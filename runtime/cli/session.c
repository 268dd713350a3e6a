/* session.c - the protocol connection of session.h: handshake, framed
 * sends that keep reading, and a decoder loop that writes the guest's
 * RESPONSE and LOG bytes out as they come. */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CONNECT_LINE "CONNECT 52\n"
#define OK_LINE_MAX 32 /* "OK " and a port number */
#define FILE_CHUNK (1u << 20)

_Static_assert(HF_INIT_PORT == 52, "CONNECT_LINE names hearth-init's port");

static int proto_error(struct session *s, const char *fmt, const char *detail) {
  snprintf(s->why, sizeof s->why, fmt, detail);
  return -EPROTO;
}

/* How much may be written to fd after POLLOUT without blocking: PIPE_BUF
 * for pipes and sockets (what POLLOUT promises), more for files. */
static size_t write_chunk(int fd) {
  struct stat st;
  if (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
    return PIPE_BUF;
  return FILE_CHUNK;
}

/* Writes the guest's bytes to fd; once that fails they are dropped (the
 * RESULT still matters more than a closed stdout). */
static int emit(struct session *s, int fd, size_t chunk, const uint8_t *p, size_t n) {
  while (n > 0 && !s->out_lost) {
    int rc = waiter_wait(s->w, fd, POLLOUT);
    if (rc < 0)
      return rc;
    ssize_t wrote = write(fd, p, n < chunk ? n : chunk);
    if (wrote < 0 && errno == EINTR)
      continue;
    if (wrote <= 0) {
      s->out_lost = true;
      break;
    }
    p += wrote;
    n -= (size_t)wrote;
  }
  return 0;
}

static int on_data(struct session *s, const struct hf_event *ev) {
  uint8_t stream = ev->header.stream;
  if (stream == HF_STREAM_RESPONSE) {
    if (s->response_ended)
      return proto_error(s, "the guest sent %s bytes after their end", "response");
    s->response_bytes += ev->len;
    if (ev->len)
      s->response_last = ev->payload[ev->len - 1];
    return emit(s, s->out_fd, s->out_chunk, ev->payload, ev->len);
  }
  if (stream == HF_STREAM_LOG) {
    if (s->log_ended)
      return proto_error(s, "the guest sent %s bytes after their end", "log");
    s->log_bytes += ev->len;
    return emit(s, s->err_fd, s->err_chunk, ev->payload, ev->len);
  }
  return proto_error(s, "the guest sent data on the %s stream",
                     stream == HF_STREAM_CODE ? "code" : "event");
}

static int on_end(struct session *s, uint8_t stream) {
  if (stream == HF_STREAM_RESPONSE && !s->response_ended)
    s->response_ended = true;
  else if (stream == HF_STREAM_LOG && !s->log_ended)
    s->log_ended = true;
  else
    return proto_error(s, "the guest ended a stream %s", "twice, or one it does not write");
  return 0;
}

static int on_control(struct session *s, const struct hf_event *ev) {
  uint8_t type = ev->header.type;
  if (type != HF_HELLO && type != HF_LOADED && type != HF_RESULT && type != HF_ERROR)
    return proto_error(s, "the guest sent a %s frame", hf_type_name(type));
  memcpy(s->control, ev->payload, ev->len);
  s->control[ev->len] = '\0';
  s->control_len = ev->len;
  s->control_type = type;
  s->have_control = true;
  return 0;
}

/* Decodes buffered bytes until they run out or a control frame is taken
 * (which then waits for the caller; the bytes after it stay buffered). */
static int decode(struct session *s) {
  while (s->rpos < s->rlen && !s->have_control) {
    struct hf_event ev;
    long n = hf_decoder_feed(&s->dec, s->rbuf + s->rpos, s->rlen - s->rpos, &ev);
    if (n < 0)
      return proto_error(s, "bad frame from the guest: %s", strerror((int)-n));
    s->rpos += (size_t)n;
    int rc = 0;
    if (ev.kind == HF_EV_DATA)
      rc = on_data(s, &ev);
    else if (ev.kind == HF_EV_END)
      rc = on_end(s, ev.header.stream);
    else if (ev.kind == HF_EV_CONTROL)
      rc = on_control(s, &ev);
    if (rc < 0)
      return rc;
  }
  if (s->rpos == s->rlen)
    s->rpos = s->rlen = 0;
  return 0;
}

/* Reads what the socket has into the buffer (room permitting) and decodes. */
static int receive(struct session *s) {
  if (s->rpos > 0 && s->rpos < s->rlen) { /* keep the unread tail at the front */
    memmove(s->rbuf, s->rbuf + s->rpos, s->rlen - s->rpos);
    s->rlen -= s->rpos;
    s->rpos = 0;
  }
  ssize_t n =
      s->rlen < sizeof s->rbuf ? read(s->sock, s->rbuf + s->rlen, sizeof s->rbuf - s->rlen) : 0;
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return decode(s);
  if (n < 0 && errno != ECONNRESET)
    return -errno;
  if (n <= 0 && s->rlen < sizeof s->rbuf)
    s->eof = true;
  if (n > 0)
    s->rlen += (size_t)n;
  return decode(s);
}

/* Whether the buffer can take more bytes from the socket. */
static bool can_receive(const struct session *s) { return !s->eof && s->rlen < sizeof s->rbuf; }

/* One wait on the socket (and fd2 when >= 0): reads and decodes when it is
 * readable. Returns the waiter's revents word or an error. */
static int serve(struct session *s, short want, int fd2) {
  short events = (short)(want | (can_receive(s) ? POLLIN : 0));
  int rc = waiter_wait2(s->w, events ? s->sock : -1, events, fd2, POLLIN);
  if (rc < 0)
    return rc;
  if ((rc & 0xffff) & (POLLIN | POLLHUP | POLLERR)) {
    int r = can_receive(s) ? receive(s) : 0;
    if (r < 0)
      return r;
  }
  return rc;
}

static int send_all(struct session *s, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t sent = send(s->sock, p, n, MSG_NOSIGNAL);
    if (sent > 0) {
      p += sent;
      n -= (size_t)sent;
      continue;
    }
    if (sent < 0 && errno == EINTR)
      continue;
    if (sent < 0 && errno != EAGAIN)
      return errno == ECONNRESET ? -EPIPE : -errno;
    int rc = serve(s, POLLOUT, -1);
    if (rc < 0)
      return rc;
  }
  return 0;
}

int session_send_frame(struct session *s, uint8_t type, uint8_t stream, const void *payload,
                       uint32_t len) {
  struct hf_header h = {.type = type, .stream = stream, .length = len};
  uint8_t hdr[HF_HEADER_SIZE];
  int rc = hf_header_encode(&h, hdr);
  if (rc < 0)
    return proto_error(s, "refusing to send a bad %s frame", hf_type_name(type));
  rc = send_all(s, hdr, sizeof hdr);
  return rc == 0 && len > 0 ? send_all(s, payload, len) : rc;
}

int session_send_data(struct session *s, uint8_t stream, const void *buf, size_t len) {
  const uint8_t *p = buf;
  while (len > 0) {
    uint32_t piece = len < HF_DATA_MAX ? (uint32_t)len : HF_DATA_MAX;
    int rc = session_send_frame(s, HF_DATA, stream, p, piece);
    if (rc < 0)
      return rc;
    p += piece;
    len -= piece;
  }
  return 0;
}

int session_next_control(struct session *s) {
  int rc = decode(s);
  while (rc >= 0 && !s->have_control) {
    if (s->eof)
      return s->dec.in_payload || s->dec.hdr_have
                 ? proto_error(s, "the guest's %s", "last frame was cut short")
                 : -ECONNRESET;
    rc = serve(s, 0, -1);
  }
  if (rc < 0)
    return rc;
  s->have_control = false;
  return s->control_type;
}

bool session_control_pending(const struct session *s) { return s->have_control; }

int session_wait_readable(struct session *s, int fd) {
  for (;;) {
    if (s->have_control)
      return 1;
    if (s->eof)
      return -EPIPE;
    int rc = serve(s, 0, fd);
    if (rc < 0)
      return rc;
    if (rc >> 16)
      return 0;
  }
}

/* ---- opening -------------------------------------------------------- */

static int connect_unix(struct session *s, const char *path) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path)
    return -ENAMETOOLONG;
  strcpy(sa.sun_path, path);
  s->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s->sock < 0)
    return -errno;
  if (connect(s->sock, (struct sockaddr *)&sa, sizeof sa) == 0)
    return 0;
  if (errno != EAGAIN && errno != EINPROGRESS)
    return -errno;
  int rc = waiter_wait(s->w, s->sock, POLLOUT); /* the listener's backlog was full */
  if (rc < 0)
    return rc;
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(s->sock, SOL_SOCKET, SO_ERROR, &err, &len);
  return -err;
}

/* Reads "OK <port>\n"; whatever follows it is the first frames. */
static int read_ok_line(struct session *s) {
  for (;;) {
    uint8_t *nl = memchr(s->rbuf, '\n', s->rlen);
    if (nl != NULL) {
      size_t line = (size_t)(nl - s->rbuf);
      if (line < 4 || memcmp(s->rbuf, "OK ", 3) != 0 ||
          strspn((char *)s->rbuf + 3, "0123456789") != line - 3)
        return proto_error(s, "hearth-vmm answered CONNECT with %s", "something other than OK");
      s->rpos = line + 1;
      return 0;
    }
    if (s->rlen >= OK_LINE_MAX)
      return proto_error(s, "hearth-vmm answered CONNECT with %s", "an overlong line");
    if (s->eof)
      return -ECONNRESET;
    int rc = waiter_wait(s->w, s->sock, POLLIN);
    if (rc < 0)
      return rc;
    ssize_t n = read(s->sock, s->rbuf + s->rlen, OK_LINE_MAX - s->rlen);
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return errno == ECONNRESET ? -ECONNRESET : -errno;
    if (n == 0)
      s->eof = true;
    if (n > 0)
      s->rlen += (size_t)n;
  }
}

int session_open(struct session *s, const char *path, struct waiter *w, int out_fd, int err_fd) {
  memset(s, 0, sizeof *s);
  s->sock = -1;
  s->w = w;
  s->out_fd = out_fd;
  s->err_fd = err_fd;
  s->out_chunk = write_chunk(out_fd);
  s->err_chunk = write_chunk(err_fd);
  s->control = malloc(HF_CONTROL_MAX + 1);
  if (s->control == NULL || hf_decoder_init(&s->dec) < 0)
    return -ENOMEM;
  int rc = connect_unix(s, path);
  if (rc == 0)
    rc = send_all(s, (const uint8_t *)CONNECT_LINE, strlen(CONNECT_LINE));
  if (rc == -EPIPE)
    rc = -ECONNRESET;
  return rc == 0 ? read_ok_line(s) : rc;
}

void session_close(struct session *s) {
  if (s->sock >= 0)
    close(s->sock);
  s->sock = -1;
  hf_decoder_free(&s->dec);
  free(s->control);
  s->control = NULL;
}
