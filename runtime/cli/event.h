/* event.h - an invocation's event, read from stdin and streamed, never held
 * whole. Its content type is --content-type, or application/json when the
 * bytes parse as JSON (jsonscan.h), else application/octet-stream; deciding
 * that needs every byte before INVOKE, so a pipe or terminal is spooled to
 * an unlinked file first, and a regular file is validated in place and then
 * read from where it started. With --content-type nothing is read ahead. */
#ifndef HEARTH_CLI_EVENT_H
#define HEARTH_CLI_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define EVENT_TYPE_JSON "application/json"
#define EVENT_TYPE_BYTES "application/octet-stream"

struct event {
  int fd;                   /* read from here: in_fd, or the spool */
  bool spooled;             /* fd is the spool file, ours to close */
  bool may_block;           /* fd is a pipe, socket or terminal: wait for it */
  uint64_t cap;             /* bytes at most */
  uint64_t read_bytes;      /* so far, while streaming */
  const char *content_type; /* settled by event_prepare */
};

/* Settles the content type (see above). spool_dir holds the spool file,
 * which is unlinked from the start. Returns 0, -EFBIG when the event is over
 * cap, -EINTR when a signal came while reading stdin, or another -errno. */
int event_prepare(struct event *e, int in_fd, const char *content_type, uint64_t cap,
                  const char *spool_dir);

/* Reads the next piece: bytes read (> 0), 0 at the end, -EFBIG once past
 * the cap, -errno. When e->may_block, call it only once fd is readable. */
ssize_t event_read(struct event *e, void *buf, size_t len);

void event_close(struct event *e);

#endif
