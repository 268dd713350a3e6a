/* vsock_fixture.h - a struct vm for the socket-call tests: real guest
 * memory (gmem + uaccess), a descriptor table, vsock state with CID 3,
 * optionally the host bridge on a Unix socket in a scratch directory and a
 * --ready-fd pipe; and helpers that make the guest's calls as it makes
 * them (arguments in registers, structures in guest memory). */
#ifndef HEARTH_TEST_VSOCK_FIXTURE_H
#define HEARTH_TEST_VSOCK_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kernel/syscalls.h"
#include "net/vsock.h"
#include "vm.h"

#define VFX_CID 3u
#define VFX_BASE 0x400000ULL
#define VFX_PAGES 64
#define VFX_ADDR (VFX_BASE)         /* a sockaddr */
#define VFX_LEN (VFX_BASE + 0x100)  /* a socklen_t / optlen */
#define VFX_MSG (VFX_BASE + 0x200)  /* a msghdr */
#define VFX_IOV (VFX_BASE + 0x300)  /* iovecs */
#define VFX_OPT (VFX_BASE + 0x800)  /* option values */
#define VFX_BUF (VFX_BASE + 0x1000) /* data, up to VFX_BUF_SIZE */
#define VFX_BUF_SIZE (60u * 4096)

struct vfx {
  struct vm vm;
  struct vm_config cfg;
  char dir[64];
  char uds[108];
  int ready[2]; /* the --ready-fd pipe, or -1s */
};

/* A VM with vsock state; bridge: with cfg->vsock_uds in a fresh scratch
 * directory; ready: with a --ready-fd pipe. Asserts on failure. */
struct vfx *vfx_new(bool bridge, bool ready);
void vfx_free(struct vfx *x);

/* Set by the fake stdio_frame_attach: 1 when called on a connected vsock
 * file, -1 on another. */
extern int vfx_frame_attached;

/* The last signal sig_send() was asked for (0: none), then reset. */
int vfx_take_signal(void);

long vfx_call(struct vfx *x, sys_fn *fn, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
              uint64_t a4, uint64_t a5);
void vfx_put(struct vfx *x, uint64_t gva, const void *src, size_t len);
void vfx_get(struct vfx *x, uint64_t gva, void *dst, size_t len);

/* The calls, with their arguments staged in guest memory. */
long vfx_socket(struct vfx *x, int flags);
long vfx_bind(struct vfx *x, int fd, uint32_t cid, uint32_t port);
long vfx_listen(struct vfx *x, int fd, int backlog);
long vfx_connect(struct vfx *x, int fd, uint32_t cid, uint32_t port);
/* accept4 with a peer address out (peer may be NULL). */
long vfx_accept(struct vfx *x, int fd, int flags, struct vsock_addr *peer);
long vfx_name(struct vfx *x, int fd, bool peer, struct vsock_addr *out);
long vfx_send(struct vfx *x, int fd, const void *data, size_t len, int flags);
/* recvfrom into VFX_BUF, copied out to dst. */
long vfx_recv(struct vfx *x, int fd, void *dst, size_t len, int flags);
long vfx_setopt(struct vfx *x, int fd, int level, int name, const void *val, int len);
/* getsockopt with *len in and out. */
long vfx_getopt(struct vfx *x, int fd, int level, int name, void *val, int *len);
/* The socket's poll op, as poll() sees it. */
short vfx_poll(struct vfx *x, int fd, short events);
/* A loopback pair through a listener on port: *client and *server fds. */
void vfx_pair(struct vfx *x, uint32_t port, int *listener, int *client, int *server);

#endif
