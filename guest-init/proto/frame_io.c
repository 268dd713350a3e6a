/* frame_io.c - blocking frame reads and writes on a stream fd (frame_io.h).
 * Only read, write and writev, so it runs unchanged under hearth-vmm's
 * guest kernel and on the host. */
#include "frame_io.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "json.h"

/* Writes every byte of iov[0..n) (advancing it), retrying short writes and
 * EINTR. */
static int write_all(int fd, struct iovec *iov, int n) {
  while (n > 0) {
    ssize_t w = writev(fd, iov, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    if (w == 0)
      return -EPIPE;
    size_t done = (size_t)w;
    while (n > 0 && done >= iov->iov_len) {
      done -= iov->iov_len;
      iov++;
      n--;
    }
    if (n > 0) {
      iov->iov_base = (uint8_t *)iov->iov_base + done;
      iov->iov_len -= done;
    }
  }
  return 0;
}

int hf_write_frame(int fd, uint8_t type, uint8_t stream, const void *payload, uint32_t len) {
  uint8_t hdr[HF_HEADER_SIZE];
  struct hf_header h = {.type = type, .stream = stream, .length = len};
  int err = hf_header_encode(&h, hdr);
  if (err < 0)
    return err;
  struct iovec iov[2] = {{.iov_base = hdr, .iov_len = sizeof hdr},
                         {.iov_base = (void *)payload, .iov_len = len}};
  return write_all(fd, iov, len ? 2 : 1);
}

int hf_write_data(int fd, uint8_t stream, const void *buf, size_t len) {
  const uint8_t *p = buf;
  while (len > 0) {
    uint32_t piece = len < HF_DATA_MAX ? (uint32_t)len : HF_DATA_MAX;
    int err = hf_write_frame(fd, HF_DATA, stream, p, piece);
    if (err < 0)
      return err;
    p += piece;
    len -= piece;
  }
  return 0;
}

/* Reads exactly len bytes; *got says how many arrived before an end of
 * stream or error. */
static int read_full(int fd, void *buf, size_t len, size_t *got) {
  uint8_t *p = buf;
  *got = 0;
  while (*got < len) {
    ssize_t r = read(fd, p + *got, len - *got);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    if (r == 0)
      return -EPIPE;
    *got += (size_t)r;
  }
  return 0;
}

int hf_read_header(int fd, struct hf_header *h) {
  uint8_t hdr[HF_HEADER_SIZE];
  size_t got;
  int err = read_full(fd, hdr, sizeof hdr, &got);
  if (err == -EPIPE && got == 0)
    return -ECONNRESET;
  if (err < 0)
    return err;
  return hf_header_decode(hdr, h);
}

int hf_read_exact(int fd, void *buf, size_t len) {
  size_t got;
  return read_full(fd, buf, len, &got);
}

int hf_read_control(int fd, char *buf, size_t cap, struct hf_header *h) {
  int err = hf_read_header(fd, h);
  if (err < 0)
    return err;
  if (h->type == HF_DATA || h->type == HF_END)
    return -EPROTO;
  if (cap == 0 || h->length > cap - 1)
    return -EMSGSIZE;
  err = hf_read_exact(fd, buf, h->length);
  if (err < 0)
    return err;
  buf[h->length] = '\0';
  return h->type;
}

void hf_send_error(int fd, const char *code, const char *message) {
  /* Room for both strings at the writer's worst case, 6 bytes (\u00xx)
   * per input byte; on the stack, as callers may be threads. */
  char buf[2 * 6 * HF_STRING_MAX + 64];
  size_t code_len = json_utf8_prefix(code, strlen(code), HF_STRING_MAX);
  size_t msg_len = json_utf8_prefix(message, strlen(message), HF_STRING_MAX);
  struct json_writer w;
  json_writer_init(&w, buf, sizeof buf);
  json_begin_object(&w);
  json_put_string_n(&w, "code", code, code_len);
  json_put_string_n(&w, "message", message, msg_len);
  json_end_object(&w);
  long len = json_writer_finish(&w);
  if (len >= 0)
    (void)hf_write_frame(fd, HF_ERROR, HF_STREAM_NONE, buf, (uint32_t)len);
}
