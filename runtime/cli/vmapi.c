/* vmapi.c - the control socket client (vmapi.h). */
#include "vmapi.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/json.h"

int vmapi_open(struct vmapi *a, const char *path, struct waiter *w) {
  a->w = w;
  a->why[0] = '\0';
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path)
    return -ENAMETOOLONG;
  strcpy(sa.sun_path, path);
  a->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (a->sock < 0)
    return -errno;
  if (connect(a->sock, (struct sockaddr *)&sa, sizeof sa) != 0) {
    int err = -errno;
    close(a->sock);
    a->sock = -1;
    return err;
  }
  return 0;
}

/* Reads one line (without its newline) into a->why. */
static int read_line(struct vmapi *a, size_t *len) {
  size_t have = 0;
  for (;;) {
    int rc = waiter_wait(a->w, a->sock, POLLIN);
    if (rc < 0)
      return rc;
    ssize_t n = recv(a->sock, a->why + have, sizeof a->why - 1 - have, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      continue;
    if (n <= 0)
      return n == 0 ? -ECONNRESET : -errno;
    char *nl = memchr(a->why + have, '\n', (size_t)n);
    have += (size_t)n;
    if (nl != NULL) {
      *len = (size_t)(nl - a->why);
      return 0;
    }
    if (have >= sizeof a->why - 1)
      return -EMSGSIZE;
  }
}

int vmapi_call(struct vmapi *a, const char *request) {
  char line[8192];
  int n = snprintf(line, sizeof line, "%s\n", request);
  if (n < 0 || (size_t)n >= sizeof line)
    return -ENAMETOOLONG;
  ssize_t sent = send(a->sock, line, (size_t)n, MSG_NOSIGNAL); /* a short line fits the buffer */
  if (sent < 0)
    return -errno;
  if (sent != n)
    return -EIO;
  size_t len = 0;
  int rc = read_line(a, &len);
  if (rc < 0)
    return rc;
  struct json_doc doc;
  bool ok = false;
  if (json_parse(&doc, a->why, len) < 0 || json_get_bool(&doc, "ok", &ok) < 0) {
    snprintf(a->why, sizeof a->why, "a malformed reply");
    return -EPROTO;
  }
  if (ok)
    return 0;
  char error[VMAPI_REPLY_MAX];
  if (json_get_string(&doc, "error", error, sizeof error) < 0)
    snprintf(error, sizeof error, "no reason given");
  memcpy(a->why, error, sizeof error);
  return -EIO;
}

/* {"cmd":"snapshot","dir":dir}, the path escaped as JSON wants. */
static int snapshot_request(char *buf, size_t cap, const char *dir) {
  struct json_writer w;
  json_writer_init(&w, buf, cap);
  json_begin_object(&w);
  json_put_string(&w, "cmd", "snapshot");
  json_put_string(&w, "dir", dir);
  json_end_object(&w);
  return json_writer_finish(&w) < 0 ? -ENAMETOOLONG : 0;
}

static const char *api_error(const struct vmapi *api, int rc) {
  return rc == -EIO || rc == -EPROTO ? api->why : strerror(-rc);
}

int vmapi_snapshot(struct vmapi *api, const char *dir, char *why, size_t cap) {
  char req[2 * PATH_MAX + 64];
  int rc = snapshot_request(req, sizeof req, dir);
  if (rc == 0)
    rc = vmapi_call(api, "{\"cmd\":\"pause\"}");
  if (rc < 0)
    return snprintf(why, cap, "pause: %.400s", api_error(api, rc)), rc;
  rc = vmapi_call(api, req);
  if (rc < 0)
    snprintf(why, cap, "snapshot: %.400s", api_error(api, rc));
  int resumed = vmapi_call(api, "{\"cmd\":\"resume\"}");
  if (resumed < 0 && rc == 0) {
    snprintf(why, cap, "resume: %.400s", api_error(api, resumed));
    rc = resumed;
  }
  return rc;
}

void vmapi_close(struct vmapi *a) {
  if (a->sock >= 0)
    close(a->sock);
  a->sock = -1;
}
