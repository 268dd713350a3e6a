/* diag.c - the tail of hearth-vmm's output (diag.h). */
#include "diag.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void keep(struct diag *d, const char *buf, size_t n) {
  if (n >= DIAG_TAIL) {
    memcpy(d->tail, buf + n - DIAG_TAIL, DIAG_TAIL);
    d->len = DIAG_TAIL;
    return;
  }
  if (d->len + n > DIAG_TAIL) { /* drop the oldest bytes */
    size_t drop = d->len + n - DIAG_TAIL;
    memmove(d->tail, d->tail + drop, d->len - drop);
    d->len -= drop;
  }
  memcpy(d->tail + d->len, buf, n);
  d->len += n;
}

/* One read. Returns 1 when bytes came, 0 at end of file (fd closed), -1 when none now. */
static int read_once(struct diag *d) {
  char buf[4096];
  ssize_t n = read(d->fd, buf, sizeof buf);
  if (n < 0)
    return errno == EINTR ? 1 : errno == EAGAIN ? -1 : 0;
  if (n == 0)
    return 0;
  keep(d, buf, (size_t)n);
  if (d->forward && write(STDERR_FILENO, buf, (size_t)n) < 0) {
    /* our stderr is gone: nothing left to tell anyone */
  }
  return 1;
}

void diag_drain(struct diag *d) {
  int rc = 1;
  while (d->fd >= 0 && (rc = read_once(d)) > 0)
    ;
  if (rc == 0)
    diag_close(d);
}

void diag_drain_all(struct diag *d) {
  while (d->fd >= 0) {
    struct pollfd p = {.fd = d->fd, .events = POLLIN};
    if (poll(&p, 1, -1) < 0 && errno != EINTR)
      break;
    diag_drain(d);
  }
  diag_close(d);
}

/* Bounds of the line of the tail that ends before `end` (trailing blanks skipped). */
static size_t line_before(const struct diag *d, size_t end, size_t *len) {
  while (end > 0 && (d->tail[end - 1] == '\n' || d->tail[end - 1] == ' '))
    end--;
  size_t start = end;
  while (start > 0 && d->tail[start - 1] != '\n')
    start--;
  *len = end - start;
  return start;
}

static bool has_prefix(const char *line, size_t len, const char *prefix) {
  size_t p = strlen(prefix);
  return len >= p && memcmp(line, prefix, p) == 0;
}

/* The last error line, else the last line. */
static const char *pick_line(const struct diag *d, size_t *len) {
  size_t end = d->len, last_len = 0, n;
  const char *last = NULL;
  while (end > 0) {
    size_t start = line_before(d, end, &n);
    if (n > 0 && has_prefix(d->tail + start, n, "hearth-vmm: error: ")) {
      *len = n;
      return d->tail + start;
    }
    if (n > 0 && last == NULL)
      last = d->tail + start, last_len = n;
    end = start;
  }
  *len = last_len;
  return last;
}

const char *diag_reason(const struct diag *d, char *buf, size_t cap) {
  size_t len;
  const char *line = pick_line(d, &len);
  static const char *const prefixes[] = {
      "hearth-vmm: ", "error: ", "warning: ", "info: ", "debug: "};
  for (size_t i = 0; line && i < sizeof prefixes / sizeof prefixes[0]; i++) {
    if (has_prefix(line, len, prefixes[i])) {
      line += strlen(prefixes[i]);
      len -= strlen(prefixes[i]);
    }
  }
  snprintf(buf, cap, "%.*s", line ? (int)len : 0, line ? line : "");
  return buf;
}

void diag_close(struct diag *d) {
  if (d->fd >= 0)
    close(d->fd);
  d->fd = -1;
}
