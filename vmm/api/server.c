/* server.c - the control socket's thread (server.h). It never touches the
 * VM: requests go through the mailbox, so only the vCPU thread changes VM
 * state. A client that stops reading its replies is cut off by a send
 * timeout instead of stalling the others. */
#include "server.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define API_SEND_TIMEOUT_S 2

static int server_listen(struct api_server *s, const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path)
    return -ENAMETOOLONG;
  strcpy(addr.sun_path, path);
  strcpy(s->path, path);
  s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s->listen_fd < 0)
    return -errno;
  unlink(path); /* a stale socket of an earlier run */
  if (bind(s->listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
      listen(s->listen_fd, API_CLIENTS_MAX) < 0)
    return -errno;
  return 0;
}

static void client_close(struct api_client *c) {
  close(c->fd);
  c->fd = -1;
  c->len = 0;
  c->discarding = false;
}

/* Writes the whole reply, or closes the client. */
static void client_send(struct api_client *c, char *reply) {
  const char *line = reply ? reply : "{\"ok\":false,\"error\":\"out of memory\"}\n";
  size_t n = strlen(line), off = 0;
  while (off < n) {
    ssize_t w = send(c->fd, line + off, n - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      client_close(c);
      break;
    }
    off += (size_t)w;
  }
  free(reply);
}

static void client_line(struct api_server *s, struct api_client *c, const char *line, size_t len) {
  struct api_request req;
  char err[160];
  if (api_request_parse(line, len, &req, err, sizeof err) < 0)
    client_send(c, api_reply_error(err));
  else
    client_send(c, mailbox_call(s->mb, &req));
}

/* Serves every complete line in the buffer; keeps the partial tail. */
static void client_lines(struct api_server *s, struct api_client *c) {
  size_t start = 0;
  char *nl;
  while (c->fd >= 0 && (nl = memchr(c->buf + start, '\n', c->len - start))) {
    size_t end = (size_t)(nl - c->buf);
    if (c->discarding)
      c->discarding = false; /* the end of an oversized line: already answered */
    else
      client_line(s, c, c->buf + start, end - start);
    start = end + 1;
  }
  if (c->fd < 0)
    return;
  memmove(c->buf, c->buf + start, c->len - start);
  c->len -= start;
  /* A full buffer with no newline: the line has more than API_LINE_MAX bytes. */
  if (c->len == sizeof c->buf && !c->discarding) {
    char msg[64];
    snprintf(msg, sizeof msg, "line longer than %u bytes", API_LINE_MAX);
    client_send(c, api_reply_error(msg));
    c->discarding = true;
  }
  if (c->discarding)
    c->len = 0; /* its bytes are dropped as they come */
}

static void client_read(struct api_server *s, struct api_client *c) {
  ssize_t n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0) {
    client_close(c);
    return;
  }
  c->len += (size_t)n;
  client_lines(s, c);
}

static void server_accept(struct api_server *s) {
  int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0)
    return;
  for (size_t i = 0; i < API_CLIENTS_MAX; i++) {
    if (s->clients[i].fd >= 0)
      continue;
    struct timeval tv = {.tv_sec = API_SEND_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    s->clients[i].fd = fd;
    return;
  }
  static const char busy[] = "{\"ok\":false,\"error\":\"too many clients\"}\n";
  if (send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
    /* the client goes away either way */
  }
  close(fd);
}

static void *server_thread(void *arg) {
  struct api_server *s = arg;
  for (;;) {
    struct pollfd p[2 + API_CLIENTS_MAX] = {{.fd = s->stop_fd, .events = POLLIN},
                                            {.fd = s->listen_fd, .events = POLLIN}};
    for (size_t i = 0; i < API_CLIENTS_MAX; i++)
      p[2 + i] = (struct pollfd){.fd = s->clients[i].fd, .events = POLLIN};
    if (poll(p, 2 + API_CLIENTS_MAX, -1) < 0) {
      if (errno == EINTR)
        continue;
      vlog(VLOG_ERROR, "api: poll: %s", strerror(errno));
      return NULL;
    }
    if (p[0].revents)
      return NULL;
    if (p[1].revents)
      server_accept(s);
    for (size_t i = 0; i < API_CLIENTS_MAX; i++)
      if (p[2 + i].revents && s->clients[i].fd == p[2 + i].fd)
        client_read(s, &s->clients[i]);
  }
}

/* The thread inherits this mask: every signal goes to the vCPU thread,
 * --timeout's SIGALRM included. */
static int server_spawn(struct api_server *s) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int rc = pthread_create(&s->thread, NULL, server_thread, s);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return -rc;
}

int api_server_start(struct api_server *s, const char *path, struct api_mailbox *mb) {
  s->mb = mb;
  s->listen_fd = -1;
  s->path[0] = '\0';
  for (size_t i = 0; i < API_CLIENTS_MAX; i++)
    s->clients[i].fd = -1;
  s->stop_fd = eventfd(0, EFD_CLOEXEC);
  int rc = s->stop_fd < 0 ? -errno : server_listen(s, path);
  if (rc == 0)
    rc = server_spawn(s);
  if (rc < 0) {
    vlog(VLOG_ERROR, "--api-sock %s: %s", path, strerror(-rc));
    if (s->listen_fd >= 0)
      close(s->listen_fd);
    if (s->stop_fd >= 0)
      close(s->stop_fd);
    if (s->path[0])
      unlink(s->path);
  }
  return rc;
}

void api_server_stop(struct api_server *s) {
  uint64_t one = 1;
  if (write(s->stop_fd, &one, sizeof one) < 0)
    vlog(VLOG_WARN, "api: cannot wake the socket thread: %s", strerror(errno));
  pthread_join(s->thread, NULL);
  for (size_t i = 0; i < API_CLIENTS_MAX; i++)
    if (s->clients[i].fd >= 0)
      client_close(&s->clients[i]);
  close(s->listen_fd);
  close(s->stop_fd);
  unlink(s->path);
}
