/* event.c - reading the event from stdin (event.h). */
#include "event.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonscan.h"
#include "sig.h"

#define PIECE (64u << 10)

/* An unlinked file in dir: O_TMPFILE, else a named one removed at once. */
static int open_spool(const char *dir) {
  int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
    return fd >= 0 ? fd : -errno;
  char path[4096];
  snprintf(path, sizeof path, "%s/event-XXXXXX", dir);
  fd = mkostemp(path, O_CLOEXEC);
  if (fd < 0)
    return -errno;
  unlink(path);
  return fd;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return w < 0 ? -errno : -EIO;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* A read that returns -EINTR only when one of our signals came. */
static ssize_t read_some(int fd, char *buf, size_t len) {
  for (;;) {
    ssize_t n = read(fd, buf, len);
    if (n >= 0)
      return n;
    if (errno != EINTR)
      return -errno;
    if (sig_pending())
      return -EINTR;
  }
}

/* Copies in_fd to the spool, checking JSON on the way. */
static int spool(struct event *e, int in_fd, struct jscan *js, const char *dir) {
  int fd = open_spool(dir);
  if (fd < 0)
    return fd;
  e->fd = fd;
  e->spooled = true;
  char *buf = malloc(PIECE);
  uint64_t total = 0;
  int rc = buf ? 0 : -ENOMEM;
  ssize_t n = 0;
  while (rc == 0 && (n = read_some(in_fd, buf, PIECE)) > 0) {
    total += (uint64_t)n;
    if (total > e->cap)
      rc = -EFBIG;
    else
      rc = write_all(fd, buf, (size_t)n);
    jscan_feed(js, buf, (size_t)n);
  }
  free(buf);
  if (rc == 0 && n < 0)
    rc = (int)n;
  if (rc == 0 && lseek(fd, 0, SEEK_SET) != 0)
    rc = -errno;
  return rc;
}

/* Reads a regular file from its current offset with pread, leaving the
 * offset where it is for the real read. */
static int validate_file(struct event *e, int in_fd, struct jscan *js) {
  off_t start = lseek(in_fd, 0, SEEK_CUR);
  struct stat st;
  if (start < 0 || fstat(in_fd, &st) != 0)
    return -errno;
  if (st.st_size > start && (uint64_t)(st.st_size - start) > e->cap)
    return -EFBIG;
  char *buf = malloc(PIECE);
  if (buf == NULL)
    return -ENOMEM;
  off_t at = start;
  ssize_t n;
  while ((n = pread(in_fd, buf, PIECE, at)) > 0 && jscan_feed(js, buf, (size_t)n))
    at += n;
  free(buf);
  return n < 0 ? -errno : 0;
}

static bool may_block(int fd) {
  struct stat st;
  return fstat(fd, &st) != 0 || !S_ISREG(st.st_mode);
}

int event_prepare(struct event *e, int in_fd, const char *content_type, uint64_t cap,
                  const char *spool_dir) {
  *e = (struct event){.fd = in_fd, .cap = cap, .content_type = content_type};
  struct stat st;
  if (fstat(in_fd, &st) != 0) { /* no stdin at all: an empty event */
    e->fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (e->fd < 0)
      return -errno;
    e->spooled = true;
  }
  e->may_block = may_block(e->fd);
  if (content_type != NULL)
    return 0;
  struct jscan js;
  jscan_init(&js);
  int rc = 0;
  if (e->may_block) {
    rc = spool(e, in_fd, &js, spool_dir);
    e->may_block = false;
  } else {
    rc = validate_file(e, e->fd, &js);
  }
  e->content_type = jscan_finish(&js) ? EVENT_TYPE_JSON : EVENT_TYPE_BYTES;
  return rc;
}

ssize_t event_read(struct event *e, void *buf, size_t len) {
  if (e->read_bytes >= e->cap) {
    /* At the cap: one byte more means too big, end of file means exact. */
    char probe;
    ssize_t n = read_some(e->fd, &probe, 1);
    return n > 0 ? -EFBIG : n;
  }
  if (len > e->cap - e->read_bytes)
    len = (size_t)(e->cap - e->read_bytes);
  ssize_t n = read_some(e->fd, buf, len);
  if (n > 0)
    e->read_bytes += (uint64_t)n;
  return n;
}

void event_close(struct event *e) {
  if (e->spooled && e->fd >= 0)
    close(e->fd);
  e->fd = -1;
}
