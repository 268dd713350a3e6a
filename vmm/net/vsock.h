/* vsock.h - the guest's AF_VSOCK sockets, served by hearth-vmm and bridged
 * to host Unix sockets with Firecracker's convention (ARCHITECTURE.md):
 * the host connects to cfg->vsock_uds and sends "CONNECT <port>\n", answered
 * "OK <host-port>\n" once a guest socket listens on <port> (else closed);
 * a guest connect() to CID 2 port P reaches cfg->vsock_uds + "_P". */
#ifndef HEARTH_VMM_NET_VSOCK_H
#define HEARTH_VMM_NET_VSOCK_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct file;

/* Per-VM vsock state (the host listener, ports in use). 0 or -errno. */
int vsock_init(struct vm *vm);
void vsock_fini(struct vm *vm);

/* socket(AF_VSOCK, type, 0): a new file description (SOCK_STREAM only;
 * others -ESOCKTNOSUPPORT / -EPROTONOSUPPORT as Linux answers). */
long vsock_socket(struct vm *vm, int type, int flags, struct file **out);

bool file_is_vsock(const struct file *f);

/* The host stream socket carrying a connected vsock file's bytes (borrowed:
 * owned by f), -ENOTCONN when f is not connected, -ENOTSOCK when f is not
 * a vsock socket. Framed stdio (kernel/stdio_frame.h) reads and writes
 * through it directly. */
int vsock_file_stream_fd(struct file *f);

#endif
