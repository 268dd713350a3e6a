/* The socket calls against a hostile guest, with the test as the host:
 * hundreds of connect/accept/close cycles of every kind (inside the guest,
 * guest to host, host to guest, queued then dropped with their listener,
 * refused, handshakes left pending at teardown) leave the process with
 * exactly the host fds it had; no send on a connection the host has
 * closed raises SIGPIPE in the VMM (left at its default action here, so a
 * missing MSG_NOSIGNAL would kill the test); getsockopt never writes past
 * the guest's optlen; addresses shorter than a sockaddr_vm are refused and
 * names are cut to the guest's addrlen, with nothing written past it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "kernel/fdtable.h"
#include "kernel/file.h"
#include "kernel/syscalls.h"
#include "net/vsock_impl.h"
#include "proto/hearth_abi.h"
#include "vsock_fixture.h"

#define ANY 0xffffffffu
#define CYCLES 200
#define CANARY 0xa5

static int open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  assert_non_null(d);
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    n += e->d_name[0] != '.';
  closedir(d);
  return n - 1; /* the directory's own */
}

static int unix_connect(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
  assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  return fd;
}

static int unix_listen(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(listen(fd, 64), 0);
  return fd;
}

static void guest_close(struct vfx *x, int fd) {
  assert_int_equal(fdtable_close(&x->vm.fds, fd), 0);
}

/* One cycle of each way a connection is made and ended. */
static void cycle(struct vfx *x, int host_listener, unsigned i) {
  int l, c, s;
  vfx_pair(x, 5000 + i % 7, &l, &c, &s); /* inside the guest */
  assert_int_equal(vfx_send(x, c, "x", 1, 0), 1);
  guest_close(x, i % 2 ? c : s);
  guest_close(x, i % 2 ? s : c);

  int h = (int)vfx_socket(x, 0); /* guest to host */
  assert_int_equal(vfx_connect(x, h, 2, 7000), 0);
  int hh = accept(host_listener, NULL, NULL);
  assert_true(hh >= 0);
  close(hh);
  (void)vfx_send(x, h, "y", 1, MSG_NOSIGNAL); /* taken, or -EPIPE: the host left */
  guest_close(x, h);

  int g = (int)vfx_socket(x, 0); /* refused: nothing at <uds>_7001 */
  assert_int_equal(vfx_connect(x, g, 2, 7001), -ECONNREFUSED);
  guest_close(x, g);

  char line[32];
  int n = snprintf(line, sizeof line, "CONNECT %u\n", 5000 + i % 7);
  int hc = unix_connect(x->uds); /* host to guest, accepted */
  assert_int_equal(send(hc, line, (size_t)n, MSG_NOSIGNAL), n);
  int a = (int)vfx_call(x, sys_accept4, (uint64_t)l, 0, 0, 0, 0, 0);
  assert_true(a >= 0);
  guest_close(x, a);
  close(hc);

  int q = unix_connect(x->uds); /* host to guest, queued, then the listener goes */
  assert_int_equal(send(q, line, (size_t)n, MSG_NOSIGNAL), n);
  vfx_poll(x, l, POLLIN); /* takes the handshake in */
  guest_close(x, l);
  close(q);
}

static void cycles_leave_no_host_fds(void **state) {
  (void)state;
  signal(SIGPIPE, SIG_DFL);
  int before = open_fds();
  struct vfx *x = vfx_new(true, false);
  char path[160];
  snprintf(path, sizeof path, "%s_7000", x->uds);
  int hl = unix_listen(path);
  for (unsigned i = 0; i < CYCLES; i++)
    cycle(x, hl, i);
  /* Host connections still sending their line when the VM ends. */
  int pending[4];
  for (int i = 0; i < 4; i++) {
    pending[i] = unix_connect(x->uds);
    assert_int_equal(send(pending[i], "CONN", 4, MSG_NOSIGNAL), 4);
  }
  int l = (int)vfx_socket(x, 0);
  assert_int_equal(vfx_bind(x, l, ANY, 6000), 0);
  assert_int_equal(vfx_listen(x, l, 4), 0);
  vfx_poll(x, l, POLLIN);
  close(hl);
  unlink(path);
  vfx_free(x);
  for (int i = 0; i < 4; i++)
    close(pending[i]);
  assert_int_equal(open_fds(), before);
}

/* Sends on connections whose other end is gone: -EPIPE to the guest (and
 * SIGPIPE for the guest, not for us), through each way of sending. */
static void sends_to_a_gone_peer_never_signal_the_vmm(void **state) {
  (void)state;
  signal(SIGPIPE, SIG_DFL);
  struct vfx *x = vfx_new(true, false);
  char path[160];
  snprintf(path, sizeof path, "%s_7000", x->uds);
  int hl = unix_listen(path);
  int h = (int)vfx_socket(x, 0);
  assert_int_equal(vfx_connect(x, h, 2, 7000), 0);
  close(accept(hl, NULL, NULL));
  long r = 0;
  for (int i = 0; i < 4 && r != -EPIPE; i++) /* the first may still be taken */
    r = vfx_send(x, h, "z", 1, 0);
  assert_int_equal(r, -EPIPE);
  assert_int_equal(vfx_take_signal(), SIGPIPE); /* the guest's */
  struct file *f = fdtable_get(&x->vm.fds, h);  /* write(2)'s path: the file's own op */
  struct iovec iov = {.iov_base = "w", .iov_len = 1};
  assert_int_equal(f->ops->write(f, &iov, 1), -EPIPE);
  int l, c, s;
  vfx_pair(x, 5100, &l, &c, &s);
  guest_close(x, s);
  assert_int_equal(vfx_send(x, c, "z", 1, MSG_NOSIGNAL), -EPIPE);
  assert_int_equal(vfx_take_signal(), 0);
  close(hl);
  vfx_free(x);
}

static void fill_canary(struct vfx *x, uint64_t at, size_t len) {
  unsigned char buf[64];
  memset(buf, CANARY, sizeof buf);
  vfx_put(x, at, buf, len);
}

/* Bytes at [at + from, at + to) are all still the canary. */
static void assert_canary(struct vfx *x, uint64_t at, size_t from, size_t to) {
  unsigned char buf[64];
  vfx_get(x, at, buf, to);
  for (size_t i = from; i < to; i++)
    assert_int_equal(buf[i], CANARY);
}

static long getopt_len(struct vfx *x, int fd, int level, int name, int32_t len, int32_t *out) {
  vfx_put(x, VFX_LEN, &len, sizeof len);
  long r = vfx_call(x, sys_getsockopt, (uint64_t)fd, (uint64_t)level, (uint64_t)name, VFX_OPT,
                    VFX_LEN, 0);
  vfx_get(x, VFX_LEN, out, sizeof *out);
  return r;
}

static void getsockopt_stays_within_optlen(void **state) {
  (void)state;
  struct vfx *x = vfx_new(false, false);
  int fd = (int)vfx_socket(x, 0);
  static const struct {
    int level, name, size;
  } opts[] = {{SOL_SOCKET, 13 /* SO_LINGER */, 8},
              {SOL_SOCKET, 20 /* SO_RCVTIMEO */, 16},
              {SOL_SOCKET, 7 /* SO_SNDBUF */, 4},
              {SOL_SOCKET, 4 /* SO_ERROR */, 4},
              {SOL_SOCKET, 67 /* SO_SNDTIMEO */, 16}};
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
    for (int32_t len = 0; len <= opts[i].size + 4; len++) {
      int32_t got;
      fill_canary(x, VFX_OPT, 32);
      assert_int_equal(getopt_len(x, fd, opts[i].level, opts[i].name, len, &got), 0);
      assert_int_equal(got, len < opts[i].size ? len : opts[i].size);
      assert_canary(x, VFX_OPT, (size_t)got, 32);
    }
  }
  int32_t got = 99;
  fill_canary(x, VFX_OPT, 32); /* vsock's own options refuse a short buffer, writing nothing */
  assert_int_equal(getopt_len(x, fd, AF_VSOCK, 0 /* SO_VM_SOCKETS_BUFFER_SIZE */, 7, &got),
                   -EINVAL);
  assert_canary(x, VFX_OPT, 0, 32);
  assert_int_equal(getopt_len(x, fd, SOL_SOCKET, 13, -1, &got), -EINVAL);
  assert_canary(x, VFX_OPT, 0, 32);
  vfx_free(x);
}

static void short_addresses_refused_and_names_cut(void **state) {
  (void)state;
  struct vfx *x = vfx_new(false, false);
  int fd = (int)vfx_socket(x, 0);
  struct hearth_sockaddr_vm sa = {.svm_family = AF_VSOCK, .svm_port = 5200, .svm_cid = ANY};
  vfx_put(x, VFX_ADDR, &sa, sizeof sa);
  for (uint64_t len = 0; len < sizeof sa; len++) {
    assert_int_equal(vfx_call(x, sys_bind, (uint64_t)fd, VFX_ADDR, len, 0, 0, 0), -EINVAL);
    assert_int_equal(vfx_call(x, sys_connect, (uint64_t)fd, VFX_ADDR, len, 0, 0, 0), -EINVAL);
  }
  assert_int_equal(vfx_call(x, sys_bind, (uint64_t)fd, VFX_ADDR, 129, 0, 0, 0), -EINVAL);
  assert_int_equal(vfx_call(x, sys_bind, (uint64_t)fd, VFX_ADDR, 0xffffffffull, 0, 0, 0), -EINVAL);
  assert_int_equal(vfx_call(x, sys_bind, (uint64_t)fd, VFX_ADDR, 16, 0, 0, 0), 0);
  for (int32_t len = 0; len <= 20; len++) {
    fill_canary(x, VFX_ADDR, 32);
    vfx_put(x, VFX_LEN, &len, sizeof len);
    assert_int_equal(vfx_call(x, sys_getsockname, (uint64_t)fd, VFX_ADDR, VFX_LEN, 0, 0, 0), 0);
    int32_t full;
    vfx_get(x, VFX_LEN, &full, sizeof full);
    assert_int_equal(full, 16);
    assert_canary(x, VFX_ADDR, (size_t)(len < 16 ? len : 16), 32);
  }
  vfx_free(x);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(cycles_leave_no_host_fds),
      cmocka_unit_test(sends_to_a_gone_peer_never_signal_the_vmm),
      cmocka_unit_test(getsockopt_stays_within_optlen),
      cmocka_unit_test(short_addresses_refused_and_names_cut),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
