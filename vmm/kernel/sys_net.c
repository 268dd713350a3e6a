/* sys_net.c - sockets. The guest has no network: every address family
 * answers EAFNOSUPPORT, as a kernel built without it does. AF_VSOCK, the
 * guest's one channel to the host, arrives with issue 5. */
#include <errno.h>
#include <sys/socket.h>

#include "syscalls.h"

/* Bits of socket()'s type argument that are flags, not the type. */
#define SOCK_TYPE_FLAGS (SOCK_NONBLOCK | SOCK_CLOEXEC)

static long socket_check_type(uint64_t type) {
  int kind = (int)(type & ~(uint64_t)SOCK_TYPE_FLAGS);
  if (type & ~(uint64_t)(0xf | SOCK_TYPE_FLAGS) || kind < SOCK_STREAM || kind > SOCK_PACKET)
    return -EINVAL;
  return 0;
}

long sys_socket(struct vm *vm, const uint64_t *a) {
  (void)vm;
  long rc = socket_check_type(a[1]);
  return rc < 0 ? rc : -EAFNOSUPPORT;
}

long sys_socketpair(struct vm *vm, const uint64_t *a) {
  (void)vm;
  long rc = socket_check_type(a[1]);
  return rc < 0 ? rc : -EAFNOSUPPORT;
}
