/* handshake.h - the first line of a host-initiated vsock connection in
 * Firecracker's convention, "CONNECT <port>\n", parsed as its bytes arrive
 * (a host client may send it a byte at a time). The line is bounded and
 * strict: the exact prefix, 1 to 10 decimal digits making a 32-bit port,
 * the newline; anything else is refused as soon as it is seen. */
#ifndef HEARTH_VMM_NET_HANDSHAKE_H
#define HEARTH_VMM_NET_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

/* The longest line taken, newline included. */
#define VSOCK_HANDSHAKE_MAX 32

struct vsock_handshake {
  char line[VSOCK_HANDSHAKE_MAX];
  size_t len; /* bytes of the line taken so far */
};

/* Takes bytes of buf[0..n) up to and including the first newline, and
 * never one beyond it: *used says how many it took (the caller consumes
 * exactly those from the socket). Returns the port (0..UINT32_MAX) once the
 * line is complete, -EAGAIN when it needs more bytes, or -EPROTO when the
 * bytes so far cannot begin a valid line (or the line is too long). */
long long vsock_handshake_feed(struct vsock_handshake *h, const char *buf, size_t n, size_t *used);

/* How many more bytes the line may still take (for a bounded peek). */
size_t vsock_handshake_room(const struct vsock_handshake *h);

#endif
