/* api.c - the control socket's life cycle (api.h). */
#include "api.h"

#include <errno.h>
#include <stdlib.h>

#include "api/api_impl.h"
#include "vm.h"

int api_start(struct vm *vm, const char *path) {
  struct api *api = calloc(1, sizeof *api);
  if (!api)
    return -ENOMEM;
  int rc = mailbox_init(&api->mb, vm);
  if (rc < 0) {
    free(api);
    return rc;
  }
  if ((rc = api_server_start(&api->server, path, &api->mb)) < 0) {
    mailbox_fini(&api->mb);
    free(api);
    return rc;
  }
  vm->api = api;
  return 0;
}

void api_stop(struct vm *vm) {
  struct api *api = vm->api;
  if (!api)
    return;
  mailbox_close(&api->mb); /* wakes the socket thread if it waits for a reply */
  api_server_stop(&api->server);
  mailbox_fini(&api->mb);
  free(api);
  vm->api = NULL;
}

bool api_request_pending(struct api *api) { return api && mailbox_pending(&api->mb); }
