/* ports.c - the guest's vsock port table (ports.h). */
#include "ports.h"

#include <errno.h>
#include <stdlib.h>

void vsock_ports_init(struct vsock_ports *t) {
  *t = (struct vsock_ports){.next = VSOCK_EPHEMERAL_FIRST};
}

void vsock_ports_fini(struct vsock_ports *t) {
  free(t->v);
  *t = (struct vsock_ports){.next = VSOCK_EPHEMERAL_FIRST};
}

static struct vsock_port *find(const struct vsock_ports *t, uint32_t port) {
  for (size_t i = 0; i < t->n; i++)
    if (t->v[i].port == port)
      return &t->v[i];
  return NULL;
}

void *vsock_ports_owner(const struct vsock_ports *t, uint32_t port) {
  struct vsock_port *p = find(t, port);
  return p ? p->owner : NULL;
}

int vsock_ports_claim(struct vsock_ports *t, uint32_t port, void *owner) {
  if (port == VSOCK_PORT_ANY)
    return -EINVAL;
  if (find(t, port))
    return -EADDRINUSE;
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    struct vsock_port *v = realloc(t->v, cap * sizeof *v);
    if (!v)
      return -ENOMEM;
    t->v = v;
    t->cap = cap;
  }
  t->v[t->n++] = (struct vsock_port){.port = port, .owner = owner};
  return 0;
}

/* The candidate after p, wrapping from the top of the range to its start. */
static uint32_t after(uint32_t p) {
  return p >= VSOCK_PORT_ANY - 1 ? VSOCK_EPHEMERAL_FIRST : p + 1;
}

long long vsock_ports_claim_any(struct vsock_ports *t, void *owner) {
  /* Among n + 1 distinct candidates at least one is free. */
  uint32_t p = t->next;
  for (size_t tries = 0; tries <= t->n; tries++, p = after(p)) {
    if (find(t, p))
      continue;
    int rc = vsock_ports_claim(t, p, owner);
    if (rc < 0)
      return rc;
    t->next = after(p);
    return p;
  }
  return -EADDRINUSE; /* unreachable while n < the range */
}

void vsock_ports_release(struct vsock_ports *t, uint32_t port, const void *owner) {
  struct vsock_port *p = find(t, port);
  if (!p || p->owner != owner)
    return;
  *p = t->v[--t->n];
}
