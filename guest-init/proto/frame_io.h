/* frame_io.h - blocking frame I/O on a file descriptor (a vsock or Unix
 * stream socket), for hearth-init, the Python-less native path and the CLI.
 * Every read is bounded by the frame limits of frame.h; EINTR is retried.
 * Writes use write/writev: a caller writing to a socket whose peer may go
 * away ignores SIGPIPE (hearth-init does) to get -EPIPE instead. */
#ifndef HEARTH_PROTO_FRAME_IO_H
#define HEARTH_PROTO_FRAME_IO_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/* Writes one whole frame (header then payload). 0 or -errno (-EPIPE when
 * the peer is gone). */
int hf_write_frame(int fd, uint8_t type, uint8_t stream, const void *payload, uint32_t len);

/* Writes len bytes as DATA frames of stream (at most HF_DATA_MAX each). */
int hf_write_data(int fd, uint8_t stream, const void *buf, size_t len);

/* Reads one header and checks it. 0, -ECONNRESET on a clean end of stream
 * before any byte, -EPIPE on a stream cut short, or hf_header_decode's errors. */
int hf_read_header(int fd, struct hf_header *h);

/* Reads exactly len payload bytes. 0 or -errno (-EPIPE when cut short). */
int hf_read_exact(int fd, void *buf, size_t len);

/* Reads a control frame whose payload must fit in cap-1 bytes into buf,
 * NUL-terminated. Returns its type (> 0) or -errno; a DATA/END frame here
 * is -EPROTO. */
int hf_read_control(int fd, char *buf, size_t cap, struct hf_header *h);

/* Sends an ERROR frame {"code":code,"message":message}, the message cut
 * (at a character boundary) to HF_STRING_MAX bytes; best effort. */
void hf_send_error(int fd, const char *code, const char *message);

#endif
