/* init_listen.h - hearth-init's one connection: listen on a vsock port
 * and accept the host. */
#ifndef HEARTH_INIT_LISTEN_H
#define HEARTH_INIT_LISTEN_H

#include <stdint.h>

/* Listens on port (any CID), accepts one connection and closes the
 * listener. The connected fd (O_CLOEXEC) or -errno (logged). */
int init_accept_host(uint32_t port);

#endif
