/* mailbox.h - control requests handed from the API thread to the vCPU
 * thread, one at a time, and their replies back. Posting sets the VM's
 * "vCPU wanted" flag and kicks the vCPU thread with API_KICK_SIGNAL, whose
 * handler sets immediate_exit: KVM_RUN returns at once, and a blocking wait
 * returns -EINTR (fs/wait.h), so the request is served at the next
 * boundary (run.c). */
#ifndef HEARTH_VMM_API_MAILBOX_H
#define HEARTH_VMM_API_MAILBOX_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

#include "api/request.h"

struct vm;

#define API_KICK_SIGNAL SIGUSR1

struct api_mailbox {
  pthread_mutex_t lock;
  pthread_cond_t replied_cond;
  int event_fd; /* readable while a request is posted: a paused vCPU waits on it */
  pthread_t vcpu_thread;
  struct vm *vm;
  struct api_request req; /* valid while posted */
  bool posted;            /* req waits for the vCPU thread */
  bool taken;             /* the vCPU thread is serving req */
  bool answered;          /* the vCPU thread answered req */
  char *reply;            /* its reply line, until the poster takes it (NULL: no memory) */
  bool closed;            /* no vCPU thread serves requests any more */
};

/* On the vCPU thread, before it runs: installs the kick handler and
 * records the thread to kick. 0 or -errno. */
int mailbox_init(struct api_mailbox *mb, struct vm *vm);
void mailbox_fini(struct api_mailbox *mb);

/* API thread: posts req, kicks the vCPU, and waits for the reply line
 * (malloc'd, the caller frees), or an error line once the mailbox is
 * closed. NULL only when out of memory. */
char *mailbox_call(struct api_mailbox *mb, const struct api_request *req);

/* vCPU thread: whether a request is posted and not yet taken. */
bool mailbox_pending(struct api_mailbox *mb);
/* vCPU thread: takes the posted request into *out; false when none. */
bool mailbox_take(struct api_mailbox *mb, struct api_request *out);
/* vCPU thread: answers the taken request (reply consumed; NULL: out of
 * memory, answered as an error). */
void mailbox_reply(struct api_mailbox *mb, char *reply);
/* vCPU thread, the VM ended: answers a posted request with an error and
 * every later call at once. */
void mailbox_close(struct api_mailbox *mb);

#endif
