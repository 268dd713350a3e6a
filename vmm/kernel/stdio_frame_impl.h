/* stdio_frame_impl.h - framed stdio's shared state, between the attach and
 * finish of stdio_frame.c and the three file kinds and frame sending of
 * stdio_frame_io.c (not for use elsewhere: stdio_frame.h is the interface).
 *
 * One state per attach, referenced by each of the three descriptions and by
 * the VM's registration (until finish). It holds a reference on the vsock
 * connection, whose host stream socket (`fd`) carries every frame. */
#ifndef HEARTH_VMM_KERNEL_STDIO_FRAME_IMPL_H
#define HEARTH_VMM_KERNEL_STDIO_FRAME_IMPL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <time.h>

#include "proto/frame.h"

struct vm;
struct file;

/* A guest → host stream: RESPONSE (fd 1) or LOG (fd 2). */
struct frame_out {
  uint8_t stream;
  uint64_t cap;   /* bytes sent at most; the rest are counted out */
  uint64_t sent;  /* payload bytes sent in DATA frames */
  bool truncated; /* bytes past the cap were dropped */
};

struct stdio_frame {
  int refs;
  struct vm *vm;
  struct file *conn; /* a reference */
  int fd;            /* conn's host stream socket (borrowed from conn) */
  struct timespec start;
  /* The EVENT stream (fd 0): headers go through the decoder; payload
   * bytes are received straight into the guest's buffers. */
  struct hf_decoder dec;
  bool event_done; /* END(EVENT) seen: reads are EOF */
  int event_error; /* sticky -errno: -EPROTO bad frame, -EIO cut short */
  struct frame_out response, log;
  /* The unsent tail of the last DATA frame, when the socket took only part
   * of it (at most FRAME_OUT_MAX + a header; allocated on first use): sent
   * before anything else, so frames never interleave. */
  uint8_t *pending;
  size_t pending_len, pending_pos;
  int dead;      /* -errno once the connection carries no more frames */
  bool finished; /* END, END and RESULT written (or given up on) */
};

/* Limits of a sleep while sending: the VM's stop flag while the guest
 * runs; a deadline (the finish's) once it has stopped. */
struct frame_wait {
  const volatile sig_atomic_t *stop;
  const struct timespec *deadline; /* CLOCK_MONOTONIC; NULL: none */
};

void stdio_frame_unref(struct stdio_frame *st);

/* The three descriptions over st (each with its own reference on st):
 * out[0] reads EVENT, out[1] writes RESPONSE, out[2] writes LOG. 0 or
 * -ENOMEM (nothing made). */
int frame_files_new(struct stdio_frame *st, struct file *out[3]);

/* Payload bytes in one DATA frame of fd 1 or 2: a frame's unsent tail is
 * all framed stdio ever holds of the guest's output. */
#define FRAME_OUT_MAX (64u << 10)

/* Sends one whole frame (a control frame or END: payload from buf),
 * after any pending tail, sleeping while the socket is full within w's
 * limits. 0, -EINTR (stopped), -ETIMEDOUT, or -EPIPE once the socket
 * failed (st->dead is set then). */
int frame_send_whole(struct stdio_frame *st, uint8_t type, uint8_t stream, const void *buf,
                     uint32_t len, const struct frame_wait *w);

/* Sends an ERROR frame {"code":code,"message":message} (best effort, for
 * at most a few seconds) and marks the connection dead, as PROTOCOL.md
 * asks of a reader that got a bad frame (stdio_frame.c). */
void frame_send_error(struct stdio_frame *st, const char *code, const char *message);

#endif
