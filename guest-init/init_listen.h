/* init_listen.h - hearth-init's vsock listener (session_accept takes the host
 * from it).
 * The listener lives as long as the VM: connections are reset across a
 * snapshot and listeners survive (PROTOCOL.md, "Snapshots"), so a VM
 * restored from a snapshot gets its next host by accepting again. */
#ifndef HEARTH_INIT_LISTEN_H
#define HEARTH_INIT_LISTEN_H

#include <stdint.h>

/* Listens on port (any CID). The listening fd (O_CLOEXEC) or -errno
 * (logged). */
int init_listen(uint32_t port);

#endif
