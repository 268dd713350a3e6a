/* server.h - the control socket's listening side: a thread that accepts
 * Unix-socket connections (at most API_CLIENTS_MAX at once), splits what
 * they send into lines of at most API_LINE_MAX bytes, and answers each line
 * with one line: a parse error at once, a request through the mailbox. */
#ifndef HEARTH_VMM_API_SERVER_H
#define HEARTH_VMM_API_SERVER_H

#include <pthread.h>
#include <sys/un.h>

#include "api/mailbox.h"

#define API_CLIENTS_MAX 4

struct api_client {
  int fd; /* -1: a free slot */
  size_t len;
  bool discarding; /* the current line went over the cap: skip to its end */
  char buf[API_LINE_MAX + 1];
};

struct api_server {
  int listen_fd;
  int stop_fd; /* eventfd: readable when the thread must end */
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  struct api_mailbox *mb;
  pthread_t thread;
  struct api_client clients[API_CLIENTS_MAX];
};

/* Binds path (an existing socket file there is replaced) and starts the
 * thread, with every signal blocked in it. 0 or -errno (logged). */
int api_server_start(struct api_server *s, const char *path, struct api_mailbox *mb);
/* Ends the thread, closes every connection and removes the socket file. */
void api_server_stop(struct api_server *s);

#endif
