/* ports.h - the guest's vsock port space: which ports are bound and by
 * whom, and the choice of a free port for bind(VMADDR_PORT_ANY) and for the
 * implicit bind of connect(). Entries are bounded by the caller's socket cap
 * (each socket binds at most one port), so lookups are linear scans. */
#ifndef HEARTH_VMM_NET_PORTS_H
#define HEARTH_VMM_NET_PORTS_H

#include <stddef.h>
#include <stdint.h>

/* Ports handed out for "any" start here (Linux's LAST_RESERVED_PORT + 1). */
#define VSOCK_EPHEMERAL_FIRST 1024u
/* VMADDR_PORT_ANY: never a port of its own. */
#define VSOCK_PORT_ANY 0xffffffffu

struct vsock_ports {
  struct vsock_port {
    uint32_t port;
    void *owner;
  } * v;
  size_t n, cap;
  uint32_t next; /* where the search for a free port resumes */
};

void vsock_ports_init(struct vsock_ports *t);
void vsock_ports_fini(struct vsock_ports *t);

/* Binds `port` to owner: 0, -EADDRINUSE, -EINVAL for VSOCK_PORT_ANY, or
 * -ENOMEM. */
int vsock_ports_claim(struct vsock_ports *t, uint32_t port, void *owner);
/* Binds a free port >= VSOCK_EPHEMERAL_FIRST to owner: the port, or
 * -ENOMEM (there is always one free: the table is far smaller than the
 * range). */
long long vsock_ports_claim_any(struct vsock_ports *t, void *owner);
/* Unbinds port if owner holds it. */
void vsock_ports_release(struct vsock_ports *t, uint32_t port, const void *owner);
/* Who holds port, or NULL. */
void *vsock_ports_owner(const struct vsock_ports *t, uint32_t port);

#endif
