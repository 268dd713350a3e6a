/* session.h - `hearth run`'s end of the host <-> guest protocol
 * (guest-init/proto/PROTOCOL.md) over hearth-vmm's vsock Unix socket: the
 * Firecracker-style CONNECT handshake, then frames both ways. The socket is
 * non-blocking and every wait goes through the waiter, so a send never
 * deadlocks against a guest that is writing (incoming DATA is served while
 * sending), and a signal or the deadline ends any wait.
 *
 * Incoming RESPONSE and LOG bytes are written to out_fd and err_fd as they
 * arrive; control frames (HELLO, LOADED, RESULT, ERROR) are handed to the
 * caller one at a time. */
#ifndef HEARTH_CLI_SESSION_H
#define HEARTH_CLI_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/frame.h"
#include "waiter.h"

#define SESSION_RBUF (64u << 10)

struct session {
  int sock;
  struct waiter *w;
  struct hf_decoder dec;
  int out_fd, err_fd;
  size_t out_chunk, err_chunk; /* largest write that cannot block after POLLOUT */
  /* bytes read but not yet decoded */
  uint8_t rbuf[SESSION_RBUF];
  size_t rpos, rlen;
  bool eof; /* the peer closed its side */
  /* the control frame received and not yet taken */
  bool have_control;
  uint8_t control_type;
  size_t control_len;
  char *control; /* HF_CONTROL_MAX + 1 bytes */
  /* the guest's streams */
  bool response_ended, log_ended;
  uint64_t response_bytes, log_bytes;
  uint8_t response_last; /* the response's last byte so far (0: none yet) */
  bool out_lost;         /* writing stdout (or stderr) failed; later bytes dropped */
  char why[256];         /* what was wrong, for -EPROTO */
};

/* Connects to the VMM's socket at path, asks for hearth-init's port
 * ("CONNECT 52\n") and checks the answer ("OK <port>\n"). Returns 0, or
 * -ECONNREFUSED / -ENOENT (nothing listens: the VMM is gone), -ECONNRESET
 * (the VMM closed it: nothing listens on the port), -EPROTO (s->why), or
 * the waiter's -ETIMEDOUT / -EINTR. */
int session_open(struct session *s, const char *path, struct waiter *w, int out_fd, int err_fd);

void session_close(struct session *s);

/* Sends one frame (control payload or DATA/END), serving incoming frames
 * while the socket is full. 0, -EPIPE (the peer is gone: a control frame
 * it sent before going may be waiting, see session_next_control), -EPROTO,
 * or the waiter's errors. */
int session_send_frame(struct session *s, uint8_t type, uint8_t stream, const void *payload,
                       uint32_t len);

/* Sends len bytes as DATA frames of stream (HF_DATA_MAX at most each). */
int session_send_data(struct session *s, uint8_t stream, const void *buf, size_t len);

/* Waits for the next control frame, writing DATA as it comes. Returns its
 * type (> 0) with the JSON, NUL-terminated, in s->control[0..control_len);
 * or -ECONNRESET when the connection ended first, -EPROTO (s->why), or the
 * waiter's errors. */
int session_next_control(struct session *s);

/* Is a control frame waiting (received while sending)? */
bool session_control_pending(const struct session *s);

/* Waits until fd is readable, serving the connection meanwhile. Returns 0
 * when fd is readable, 1 when a control frame arrived first (the guest is
 * done early, e.g. a handler that did not read its event), or an error as
 * session_send_frame. */
int session_wait_readable(struct session *s, int fd);

#endif
