/* handshake.c - the incremental "CONNECT <port>\n" parser (handshake.h). */
#include "handshake.h"

#include <errno.h>
#include <string.h>

static const char prefix[] = "CONNECT ";
#define PREFIX_LEN (sizeof prefix - 1)
#define PORT_DIGITS_MAX 10 /* 4294967295 */

/* Whether the line so far (without a newline) can still become valid. */
static int check_partial(const struct vsock_handshake *h) {
  size_t head = h->len < PREFIX_LEN ? h->len : PREFIX_LEN;
  if (memcmp(h->line, prefix, head) != 0)
    return -EPROTO;
  for (size_t i = PREFIX_LEN; i < h->len; i++)
    if (h->line[i] < '0' || h->line[i] > '9')
      return -EPROTO;
  return h->len > PREFIX_LEN + PORT_DIGITS_MAX ? -EPROTO : 0;
}

/* The port of a complete line (h->line holds it without the newline). */
static long long parse_port(const struct vsock_handshake *h) {
  if (h->len <= PREFIX_LEN)
    return -EPROTO; /* no digits */
  unsigned long long port = 0;
  for (size_t i = PREFIX_LEN; i < h->len; i++)
    port = port * 10 + (unsigned long long)(h->line[i] - '0');
  return port > UINT32_MAX ? -EPROTO : (long long)port;
}

long long vsock_handshake_feed(struct vsock_handshake *h, const char *buf, size_t n, size_t *used) {
  *used = 0;
  while (*used < n) {
    char c = buf[(*used)++];
    if (c == '\n')
      return check_partial(h) < 0 ? -EPROTO : parse_port(h);
    if (h->len >= VSOCK_HANDSHAKE_MAX - 1)
      return -EPROTO; /* no room left for the newline */
    h->line[h->len++] = c;
    if (check_partial(h) < 0)
      return -EPROTO;
  }
  return -EAGAIN;
}

size_t vsock_handshake_room(const struct vsock_handshake *h) {
  return VSOCK_HANDSHAKE_MAX - h->len;
}
