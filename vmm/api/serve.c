/* serve.c - control requests served on the vCPU thread (api.h), between
 * exits: the guest is out of KVM_RUN and no system call is in progress
 * (one a request cut short is restarted, run.c), so a pause or a snapshot
 * sees the guest "about to make system call N" or in its own code.
 *
 * States: running and paused. pause: any state (paused after). resume:
 * paused only. snapshot: paused only. stats: any. shutdown: any; the VM
 * ends as killed by SIGTERM (status 143). A VM may also start out paused
 * (api_serve_paused: hearth-vmm --restore --start-paused). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>

#include "api/api.h"
#include "api/api_impl.h"
#include "api/stats.h"
#include "fs/wait.h"
#include "snapshot/snapshot.h"
#include "vm.h"

static char *serve_state_reply(const char *state) {
  cJSON *o = cJSON_CreateObject();
  if (o && !cJSON_AddStringToObject(o, "state", state)) {
    cJSON_Delete(o);
    return NULL;
  }
  return o ? api_reply_ok(o) : NULL;
}

static char *serve_not_allowed(enum api_cmd cmd, const char *state) {
  char msg[96];
  snprintf(msg, sizeof msg, "%s: not allowed while %s", api_cmd_name(cmd), state);
  return api_reply_error(msg);
}

static char *serve_snapshot(struct vm *vm, const char *dir) {
  char err[256] = "";
  if (vm_snapshot(vm, dir, err, sizeof err) < 0)
    return api_reply_error(err[0] ? err : "snapshot failed");
  return serve_state_reply("paused");
}

static char *serve_stats(const struct vm *vm) {
  cJSON *o = vm_stats_json(vm);
  return o ? api_reply_ok(o) : NULL;
}

static char *serve_one(struct vm *vm, const struct api_request *req, bool *paused) {
  const char *state = *paused ? "paused" : "running";
  switch (req->cmd) {
  case API_PAUSE:
    *paused = true;
    return serve_state_reply("paused");
  case API_RESUME:
    if (!*paused)
      return serve_not_allowed(req->cmd, state);
    *paused = false;
    return serve_state_reply("running");
  case API_SNAPSHOT:
    if (!*paused)
      return serve_not_allowed(req->cmd, state);
    return serve_snapshot(vm, req->dir);
  case API_STATS:
    return serve_stats(vm);
  case API_SHUTDOWN:
    vm_stop_signal(vm, SIGTERM);
    return serve_state_reply("stopped");
  }
  return api_reply_error("unknown command");
}

/* Paused: sleeps until a request is posted or --timeout expires. False when
 * the VM must stop. */
static bool serve_wait(struct vm *vm, struct api_mailbox *mb) {
  struct pollfd p = {.fd = mb->event_fd, .events = POLLIN};
  return fs_wait(&p, 1, NULL, &vm->timed_out) != -EINTR;
}

/* Serves what is posted; from `paused`, sleeps until a resume, a shutdown
 * or --timeout. */
static void serve_from(struct vm *vm, bool paused) {
  struct api *api = vm->api;
  if (!api)
    return;
  while (vm->stop == VM_RUNNING) {
    struct api_request req;
    if (mailbox_take(&api->mb, &req)) {
      mailbox_reply(&api->mb, serve_one(vm, &req, &paused));
      continue;
    }
    if (!paused || !serve_wait(vm, &api->mb))
      return;
  }
}

void api_serve(struct vm *vm) { serve_from(vm, false); }

void api_serve_paused(struct vm *vm) { serve_from(vm, true); }
