/* api_impl.h - the control socket's parts, shared by api.c and serve.c. */
#ifndef HEARTH_VMM_API_API_IMPL_H
#define HEARTH_VMM_API_API_IMPL_H

#include "api/mailbox.h"
#include "api/server.h"

struct api {
  struct api_mailbox mb;
  struct api_server server;
};

#endif
