/* vsock_fixture.c - the socket-call tests' VM (vsock_fixture.h). */
#include "vsock_fixture.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "kernel/fdtable.h"
#include "kernel/file.h"
#include "kernel/stdio_frame.h"
#include "mem/gmem.h"
#include "mem/uaccess.h"
#include "net/vsock_impl.h"
#include "proto/hearth_abi.h"

static int last_signal;

void sig_send(struct vm *vm, int sig) {
  (void)vm;
  last_signal = sig;
}

/* kernel/stdio_frame.c's entry point, recorded: the tests check that the
 * socket's ioctl routes HEARTH_IOC_FRAME_STDIO to it. */
int vfx_frame_attached;

long stdio_frame_attach(struct vm *vm, struct file *conn, uint64_t arg) {
  (void)vm;
  (void)arg;
  vfx_frame_attached = vsock_file_stream_fd(conn) >= 0 ? 1 : -1;
  return 0;
}

int vfx_take_signal(void) {
  int s = last_signal;
  last_signal = 0;
  return s;
}

struct vfx *vfx_new(bool bridge, bool ready) {
  struct vfx *x = calloc(1, sizeof *x);
  assert_non_null(x);
  struct vm *vm = &x->vm;
  assert_int_equal(gmem_init(&vm->mem, 8ULL << 20), 0);
  assert_int_equal(
      gmem_populate(&vm->mem, VFX_BASE, VFX_PAGES * 4096ULL, GMEM_ACC_READ | GMEM_ACC_WRITE, true),
      0);
  fdtable_init(&vm->fds);
  x->ready[0] = x->ready[1] = -1;
  x->cfg.vsock_cid = VFX_CID;
  x->cfg.ready_fd = -1;
  if (bridge) {
    strcpy(x->dir, "/tmp/vsock-unit-XXXXXX");
    assert_non_null(mkdtemp(x->dir));
    snprintf(x->uds, sizeof x->uds, "%s/v.sock", x->dir);
    x->cfg.vsock_uds = x->uds;
  }
  if (ready) {
    assert_int_equal(pipe2(x->ready, O_CLOEXEC | O_NONBLOCK), 0);
    x->cfg.ready_fd = x->ready[1];
  }
  vm->cfg = &x->cfg;
  assert_int_equal(vsock_init(vm), 0);
  last_signal = 0;
  return x;
}

/* Removes the scratch directory and the sockets the test left in it. */
static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    if (e->d_name[0] != '.')
      unlinkat(dirfd(d), e->d_name, 0);
  closedir(d);
  rmdir(dir);
}

void vfx_free(struct vfx *x) {
  fdtable_fini(&x->vm.fds);
  if (x->vm.vsock->ready_fd >= 0) /* never signalled: still ours */
    close(x->vm.vsock->ready_fd);
  vsock_fini(&x->vm);
  gmem_fini(&x->vm.mem);
  if (x->ready[0] >= 0)
    close(x->ready[0]);
  if (x->dir[0])
    remove_dir(x->dir);
  free(x);
}

long vfx_call(struct vfx *x, sys_fn *fn, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
              uint64_t a4, uint64_t a5) {
  const uint64_t a[6] = {a0, a1, a2, a3, a4, a5};
  return fn(&x->vm, a);
}

void vfx_put(struct vfx *x, uint64_t gva, const void *src, size_t len) {
  assert_int_equal(uaccess_copy_to(&x->vm.mem, gva, src, len), 0);
}

void vfx_get(struct vfx *x, uint64_t gva, void *dst, size_t len) {
  assert_int_equal(uaccess_copy_from(&x->vm.mem, dst, gva, len), 0);
}

long vfx_socket(struct vfx *x, int flags) {
  return vfx_call(x, sys_socket, AF_VSOCK, (uint64_t)(SOCK_STREAM | flags), 0, 0, 0, 0);
}

static void put_addr(struct vfx *x, uint32_t cid, uint32_t port) {
  struct hearth_sockaddr_vm sa = {.svm_family = AF_VSOCK, .svm_port = port, .svm_cid = cid};
  vfx_put(x, VFX_ADDR, &sa, sizeof sa);
}

long vfx_bind(struct vfx *x, int fd, uint32_t cid, uint32_t port) {
  put_addr(x, cid, port);
  return vfx_call(x, sys_bind, (uint64_t)fd, VFX_ADDR, 16, 0, 0, 0);
}

long vfx_listen(struct vfx *x, int fd, int backlog) {
  return vfx_call(x, sys_listen, (uint64_t)fd, (uint64_t)backlog, 0, 0, 0, 0);
}

long vfx_connect(struct vfx *x, int fd, uint32_t cid, uint32_t port) {
  put_addr(x, cid, port);
  return vfx_call(x, sys_connect, (uint64_t)fd, VFX_ADDR, 16, 0, 0, 0);
}

static void get_addr(struct vfx *x, struct vsock_addr *out) {
  struct hearth_sockaddr_vm sa;
  int32_t len;
  vfx_get(x, VFX_LEN, &len, sizeof len);
  assert_int_equal(len, 16);
  vfx_get(x, VFX_ADDR, &sa, sizeof sa);
  assert_int_equal(sa.svm_family, AF_VSOCK);
  *out = (struct vsock_addr){.cid = sa.svm_cid, .port = sa.svm_port};
}

long vfx_accept(struct vfx *x, int fd, int flags, struct vsock_addr *peer) {
  int32_t len = 16;
  vfx_put(x, VFX_LEN, &len, sizeof len);
  long r = vfx_call(x, sys_accept4, (uint64_t)fd, peer ? VFX_ADDR : 0, peer ? VFX_LEN : 0,
                    (uint64_t)flags, 0, 0);
  if (r >= 0 && peer)
    get_addr(x, peer);
  return r;
}

long vfx_name(struct vfx *x, int fd, bool peer, struct vsock_addr *out) {
  int32_t len = 16;
  vfx_put(x, VFX_LEN, &len, sizeof len);
  long r = vfx_call(x, peer ? sys_getpeername : sys_getsockname, (uint64_t)fd, VFX_ADDR, VFX_LEN, 0,
                    0, 0);
  if (r == 0)
    get_addr(x, out);
  return r;
}

long vfx_send(struct vfx *x, int fd, const void *data, size_t len, int flags) {
  assert_true(len <= VFX_BUF_SIZE);
  vfx_put(x, VFX_BUF, data, len);
  return vfx_call(x, sys_sendto, (uint64_t)fd, VFX_BUF, len, (uint64_t)flags, 0, 0);
}

long vfx_recv(struct vfx *x, int fd, void *dst, size_t len, int flags) {
  assert_true(len <= VFX_BUF_SIZE);
  long r = vfx_call(x, sys_recvfrom, (uint64_t)fd, VFX_BUF, len, (uint64_t)flags, 0, 0);
  if (r > 0)
    vfx_get(x, VFX_BUF, dst, (size_t)r);
  return r;
}

long vfx_setopt(struct vfx *x, int fd, int level, int name, const void *val, int len) {
  if (len > 0)
    vfx_put(x, VFX_OPT, val, (size_t)len);
  return vfx_call(x, sys_setsockopt, (uint64_t)fd, (uint64_t)level, (uint64_t)name, VFX_OPT,
                  (uint64_t)len, 0);
}

long vfx_getopt(struct vfx *x, int fd, int level, int name, void *val, int *len) {
  int32_t l = *len;
  vfx_put(x, VFX_LEN, &l, sizeof l);
  long r = vfx_call(x, sys_getsockopt, (uint64_t)fd, (uint64_t)level, (uint64_t)name, VFX_OPT,
                    VFX_LEN, 0);
  if (r == 0) {
    vfx_get(x, VFX_LEN, &l, sizeof l);
    *len = l;
    if (l > 0)
      vfx_get(x, VFX_OPT, val, (size_t)l);
  }
  return r;
}

short vfx_poll(struct vfx *x, int fd, short events) {
  struct file *f = fdtable_get(&x->vm.fds, fd);
  assert_non_null(f);
  return f->ops->poll(f, events);
}

void vfx_pair(struct vfx *x, uint32_t port, int *listener, int *client, int *server) {
  *listener = (int)vfx_socket(x, 0);
  assert_true(*listener >= 0);
  assert_int_equal(vfx_bind(x, *listener, VFX_CID, port), 0);
  assert_int_equal(vfx_listen(x, *listener, 8), 0);
  *client = (int)vfx_socket(x, 0);
  assert_int_equal(vfx_connect(x, *client, VFX_CID, port), 0);
  *server = (int)vfx_accept(x, *listener, 0, NULL);
  assert_true(*server >= 0);
}
