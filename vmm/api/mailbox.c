/* mailbox.c - the API thread -> vCPU thread handoff (mailbox.h). */
#include "mailbox.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vm.h"

/* One VM per process: the kick handler finds its kvm_run here. */
static struct vm *kick_vm;

/* On the vCPU thread: KVM_RUN entered after this returns at once; one in
 * progress returns -EINTR. A wait in ppoll returns -EINTR too. */
static void on_kick(int sig) {
  (void)sig;
  if (kick_vm && kick_vm->kvm.run)
    kick_vm->kvm.run->immediate_exit = 1;
}

int mailbox_init(struct api_mailbox *mb, struct vm *vm) {
  memset(mb, 0, sizeof *mb);
  mb->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (mb->event_fd < 0)
    return -errno;
  pthread_mutex_init(&mb->lock, NULL);
  pthread_cond_init(&mb->replied_cond, NULL);
  mb->vm = vm;
  mb->vcpu_thread = pthread_self();
  kick_vm = vm;
  /* No SA_RESTART: an interrupted ppoll or KVM_RUN must come back. */
  struct sigaction sa = {.sa_handler = on_kick};
  sigemptyset(&sa.sa_mask);
  if (sigaction(API_KICK_SIGNAL, &sa, NULL) < 0) {
    int err = errno;
    mailbox_fini(mb);
    return -err;
  }
  return 0;
}

void mailbox_fini(struct api_mailbox *mb) {
  if (mb->event_fd >= 0)
    close(mb->event_fd);
  mb->event_fd = -1;
  free(mb->reply);
  mb->reply = NULL;
  pthread_cond_destroy(&mb->replied_cond);
  pthread_mutex_destroy(&mb->lock);
}

static void mailbox_kick(struct api_mailbox *mb) {
  uint64_t one = 1;
  if (write(mb->event_fd, &one, sizeof one) < 0) {
    /* EAGAIN only (a counter near overflow): already readable. */
  }
  mb->vm->vcpu_wanted = 1;
  pthread_kill(mb->vcpu_thread, API_KICK_SIGNAL);
}

char *mailbox_call(struct api_mailbox *mb, const struct api_request *req) {
  pthread_mutex_lock(&mb->lock);
  if (mb->closed) {
    pthread_mutex_unlock(&mb->lock);
    return api_reply_error("the VM has stopped");
  }
  mb->req = *req;
  mb->posted = true;
  mb->answered = false;
  mailbox_kick(mb);
  while (!mb->answered && !mb->closed)
    pthread_cond_wait(&mb->replied_cond, &mb->lock);
  char *reply = mb->reply;
  mb->reply = NULL;
  mb->posted = mb->taken = false;
  pthread_mutex_unlock(&mb->lock);
  return reply ? reply : api_reply_error("the VM has stopped");
}

bool mailbox_pending(struct api_mailbox *mb) {
  pthread_mutex_lock(&mb->lock);
  bool pending = mb->posted && !mb->taken;
  pthread_mutex_unlock(&mb->lock);
  return pending;
}

bool mailbox_take(struct api_mailbox *mb, struct api_request *out) {
  uint64_t count;
  if (read(mb->event_fd, &count, sizeof count) < 0) {
    /* EAGAIN: nothing posted since the last take; the flag below decides. */
  }
  pthread_mutex_lock(&mb->lock);
  bool have = mb->posted && !mb->taken;
  if (have) {
    *out = mb->req;
    mb->taken = true;
  }
  pthread_mutex_unlock(&mb->lock);
  return have;
}

void mailbox_reply(struct api_mailbox *mb, char *reply) {
  if (!reply)
    reply = api_reply_error("out of memory");
  pthread_mutex_lock(&mb->lock);
  free(mb->reply);
  mb->reply = reply;
  mb->answered = true;
  pthread_cond_broadcast(&mb->replied_cond);
  pthread_mutex_unlock(&mb->lock);
}

void mailbox_close(struct api_mailbox *mb) {
  pthread_mutex_lock(&mb->lock);
  mb->closed = true;
  pthread_cond_broadcast(&mb->replied_cond);
  pthread_mutex_unlock(&mb->lock);
}
