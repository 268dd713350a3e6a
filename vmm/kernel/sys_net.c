/* sys_net.c - the socket system calls. AF_VSOCK stream sockets, the guest's
 * one channel to the host, are served by vmm/net (net/vsock.h); every other
 * address family answers EAFNOSUPPORT, as a kernel built without it does.
 *
 * Here live the guest's side of each call: its arguments, addresses,
 * iovecs and msghdr in guest memory (all copied in and checked), and the
 * waiting. net/ never blocks: a call that would wait sleeps in the host on
 * the socket's host fds (file_host_watch, fs/wait.h), bounded by
 * SO_RCVTIMEO / SO_SNDTIMEO, and ends with -EINTR when the VM is being
 * stopped. Data moves between the host socket and guest memory in place,
 * through host iovecs over the guest's buffers. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "fs/wait.h"
#include "kernel/fdtable.h"
#include "kernel/file.h"
#include "kernel/signal.h"
#include "kernel/syscalls.h"
#include "kernel/timespec.h"
#include "mem/uaccess.h"
#include "net/vsock.h"
#include "proto/hearth_abi.h"
#include "vm.h"

/* Bits of socket()'s type argument that are flags, not the type. */
#define SOCK_TYPE_FLAGS (SOCK_NONBLOCK | SOCK_CLOEXEC)
#define MAX_RW_COUNT 0x7ffff000L /* Linux's cap on one transfer */
#define IOV_STEP 64              /* host iovecs per step */
#define GUEST_UIO_MAXIOV 1024    /* Linux's UIO_MAXIOV */
#define SOCKADDR_MAX 128         /* sizeof(struct sockaddr_storage) */
#define SOCKOPT_MAX 64           /* option bytes looked at (the largest is 16) */
#define VMADDR_FLAG_TO_HOST 0x01

struct seg {
  uint64_t base;
  size_t len;
};

struct guest_iovec {
  uint64_t base, len;
};

/* struct msghdr on x86-64. */
struct guest_msghdr {
  uint64_t name;
  uint32_t namelen, pad0;
  uint64_t iov, iovlen, control, controllen;
  int32_t flags;
  uint32_t pad1;
};
_Static_assert(sizeof(struct guest_msghdr) == 56, "struct msghdr is x86-64 Linux's");
_Static_assert(sizeof(struct hearth_sockaddr_vm) == 16, "struct sockaddr_vm is Linux's");

static bool stopping(const struct vm *vm) { return vm->vcpu_wanted || vm->stop != VM_RUNNING; }

static long socket_check_type(uint64_t type) {
  int kind = (int)(type & ~(uint64_t)SOCK_TYPE_FLAGS);
  if (type & ~(uint64_t)(0xf | SOCK_TYPE_FLAGS) || kind < SOCK_STREAM || kind > SOCK_PACKET)
    return -EINVAL;
  return 0;
}

long sys_socket(struct vm *vm, const uint64_t *a) {
  long rc = socket_check_type(a[1]);
  if (rc < 0)
    return rc;
  if ((int)a[0] != AF_VSOCK)
    return -EAFNOSUPPORT;
  if ((int)a[2] != 0 && (int)a[2] != AF_VSOCK)
    return -EPROTONOSUPPORT;
  struct file *f;
  int type = (int)(a[1] & ~(uint64_t)SOCK_TYPE_FLAGS);
  rc = vsock_socket(vm, type, (int)a[1] & SOCK_NONBLOCK, &f);
  if (rc < 0)
    return rc;
  rc = fdtable_install(&vm->fds, f, a[1] & SOCK_CLOEXEC, 0);
  if (rc < 0)
    file_unref(f);
  return rc;
}

/* Linux's vsock has no socketpair (sock_no_socketpair). */
long sys_socketpair(struct vm *vm, const uint64_t *a) {
  (void)vm;
  long rc = socket_check_type(a[1]);
  if (rc < 0)
    return rc;
  return (int)a[0] == AF_VSOCK ? -EOPNOTSUPP : -EAFNOSUPPORT;
}

/* --- descriptors and addresses --- */

static long get_sock(struct vm *vm, uint64_t fd, struct file **out) {
  struct file *f = fdtable_get(&vm->fds, (int)(uint32_t)fd);
  if (!f || (f->flags & O_PATH))
    return -EBADF;
  if (!file_is_vsock(f))
    return -ENOTSOCK;
  *out = f;
  return 0;
}

/* A struct sockaddr_vm from the guest; Linux's vsock answers EINVAL for
 * any malformed one (short, wrong family, unknown flags). */
static long addr_in(struct vm *vm, uint64_t gva, uint64_t len, struct vsock_addr *out) {
  struct hearth_sockaddr_vm sa;
  if ((int)len < 0 || (int)len > SOCKADDR_MAX || (size_t)(int)len < sizeof sa)
    return -EINVAL;
  if (uaccess_copy_from(&vm->mem, &sa, gva, sizeof sa) < 0)
    return -EFAULT;
  if (sa.svm_family != AF_VSOCK || (sa.svm_flags & ~VMADDR_FLAG_TO_HOST) || sa.svm_zero[0])
    return -EINVAL;
  *out = (struct vsock_addr){.cid = sa.svm_cid, .port = sa.svm_port};
  return 0;
}

/* Linux's move_addr_to_user: up to *lenp bytes of the address, and its
 * full size back in *lenp. */
static long addr_out(struct vm *vm, uint64_t gva, uint64_t lenp, struct vsock_addr a) {
  int32_t len;
  if (uaccess_copy_from(&vm->mem, &len, lenp, sizeof len) < 0)
    return -EFAULT;
  if (len < 0)
    return -EINVAL;
  struct hearth_sockaddr_vm sa = {.svm_family = AF_VSOCK, .svm_port = a.port, .svm_cid = a.cid};
  size_t n = (size_t)len < sizeof sa ? (size_t)len : sizeof sa;
  if (n && uaccess_copy_to(&vm->mem, gva, &sa, n) < 0)
    return -EFAULT;
  int32_t full = sizeof sa;
  return uaccess_copy_to(&vm->mem, lenp, &full, sizeof full);
}

/* --- waiting --- */

/* The deadline SO_RCVTIMEO (send: SO_SNDTIMEO) sets from now, if any. */
static bool deadline_for(struct file *f, bool send, struct timespec *deadline) {
  struct timespec t;
  if (!vsock_timeout(f, send, &t))
    return false;
  clock_gettime(CLOCK_MONOTONIC, deadline);
  *deadline = ts_add(*deadline, t);
  return true;
}

/* Sleeps until f may be ready for events: 0 (check again), -EAGAIN once
 * the deadline (NULL: none) has passed, -EINTR when the VM is stopping. */
static long sock_wait(struct vm *vm, struct file *f, short events,
                      const struct timespec *deadline) {
  if (stopping(vm))
    return -EINTR;
  struct timespec left;
  if (deadline) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (ts_is_zero(left = ts_until(*deadline, now)))
      return -EAGAIN;
  }
  struct pollfd p[FILE_WATCH_MAX];
  int n = file_host_watch(f, events, p, FILE_WATCH_MAX);
  int r = fs_wait(p, (nfds_t)n, deadline ? &left : NULL, &vm->vcpu_wanted);
  return r < 0 ? r : 0;
}

/* --- binding, listening, connecting, accepting --- */

long sys_bind(struct vm *vm, const uint64_t *a) {
  struct file *f;
  struct vsock_addr addr;
  long rc = get_sock(vm, a[0], &f);
  if (rc == 0)
    rc = addr_in(vm, a[1], a[2], &addr);
  return rc < 0 ? rc : vsock_bind(f, addr);
}

long sys_listen(struct vm *vm, const uint64_t *a) {
  struct file *f;
  long rc = get_sock(vm, a[0], &f);
  return rc < 0 ? rc : vsock_listen(f, (int)a[1]);
}

/* Completes at once whether or not the socket is non-blocking (vsock.h). */
long sys_connect(struct vm *vm, const uint64_t *a) {
  struct file *f;
  struct vsock_addr addr;
  long rc = get_sock(vm, a[0], &f);
  if (rc == 0)
    rc = addr_in(vm, a[1], a[2], &addr);
  return rc < 0 ? rc : vsock_connect(f, addr);
}

/* The next connection of listener f, waiting for one unless non-blocking. */
static long accept_wait(struct vm *vm, struct file *f, int flags, struct file **nf,
                        struct vsock_addr *peer) {
  struct timespec deadline;
  bool timed = deadline_for(f, false, &deadline);
  for (;;) {
    long rc = vsock_accept(f, flags, nf, peer);
    if (rc != -EAGAIN || (f->flags & O_NONBLOCK))
      return rc;
    if ((rc = sock_wait(vm, f, POLLIN, timed ? &deadline : NULL)) < 0)
      return rc;
  }
}

static long do_accept(struct vm *vm, const uint64_t *a, int flags) {
  struct file *f, *nf;
  struct vsock_addr peer;
  if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
    return -EINVAL;
  long rc = get_sock(vm, a[0], &f);
  if (rc < 0)
    return rc;
  /* As Linux, a descriptor is found before a connection is taken. */
  if (fdtable_count(&vm->fds) >= vm->fds.limit)
    return -EMFILE;
  if ((rc = accept_wait(vm, f, flags, &nf, &peer)) < 0)
    return rc;
  if (a[1] && (rc = addr_out(vm, a[1], a[2], peer)) < 0) {
    file_unref(nf);
    return rc;
  }
  rc = fdtable_install(&vm->fds, nf, flags & SOCK_CLOEXEC, 0);
  if (rc < 0)
    file_unref(nf);
  return rc;
}

long sys_accept(struct vm *vm, const uint64_t *a) { return do_accept(vm, a, 0); }
long sys_accept4(struct vm *vm, const uint64_t *a) { return do_accept(vm, a, (int)a[3]); }

static long do_getname(struct vm *vm, const uint64_t *a, bool peer) {
  struct file *f;
  struct vsock_addr addr;
  long rc = get_sock(vm, a[0], &f);
  if (rc == 0)
    rc = vsock_name(f, peer, &addr);
  return rc < 0 ? rc : addr_out(vm, a[1], a[2], addr);
}

long sys_getsockname(struct vm *vm, const uint64_t *a) { return do_getname(vm, a, false); }
long sys_getpeername(struct vm *vm, const uint64_t *a) { return do_getname(vm, a, true); }

long sys_shutdown(struct vm *vm, const uint64_t *a) {
  struct file *f;
  long rc = get_sock(vm, a[0], &f);
  return rc < 0 ? rc : vsock_shutdown(f, (int)a[1]);
}

/* --- options --- */

long sys_setsockopt(struct vm *vm, const uint64_t *a) {
  struct file *f;
  long rc = get_sock(vm, a[0], &f);
  if (rc < 0)
    return rc;
  int len = (int)a[4];
  if (len < 0)
    return -EINVAL;
  unsigned char val[SOCKOPT_MAX];
  size_t n = (size_t)len < sizeof val ? (size_t)len : sizeof val;
  if (uaccess_copy_from(&vm->mem, val, a[3], n) < 0)
    return -EFAULT;
  return vsock_setsockopt(f, (int)a[1], (int)a[2], val, n);
}

long sys_getsockopt(struct vm *vm, const uint64_t *a) {
  struct file *f;
  long rc = get_sock(vm, a[0], &f);
  if (rc < 0)
    return rc;
  int32_t len;
  if (uaccess_copy_from(&vm->mem, &len, a[4], sizeof len) < 0)
    return -EFAULT;
  if (len < 0)
    return -EINVAL;
  unsigned char val[SOCKOPT_MAX] = {0};
  size_t n = (size_t)len;
  if ((rc = vsock_getsockopt(f, (int)a[1], (int)a[2], val, &n)) < 0)
    return rc;
  if (n && uaccess_copy_to(&vm->mem, a[3], val, n) < 0)
    return -EFAULT;
  len = (int32_t)n;
  return uaccess_copy_to(&vm->mem, a[4], &len, sizeof len);
}

/* --- data --- */

/* Where a transfer stands in the guest's buffers. */
struct cursor {
  const struct seg *segs;
  int nsegs, i;
  size_t k; /* bytes of segs[i] done */
};

/* Host iovecs for the next stretch of the guest's buffers (across
 * segments, up to IOV_STEP); *covered gets their bytes. -EFAULT when the
 * first byte is not accessible. */
static int fill_iov(struct vm *vm, const struct cursor *c, bool to_guest, struct iovec *iov,
                    size_t *covered) {
  int n = 0, i = c->i;
  size_t k = c->k;
  *covered = 0;
  for (; i < c->nsegs && n < IOV_STEP; i++, k = 0) {
    size_t want = c->segs[i].len - k, got;
    if (want == 0)
      continue;
    int m = uaccess_iov(&vm->mem, c->segs[i].base + k, want, to_guest, iov + n, IOV_STEP - n, &got);
    if (m < 0)
      return n ? n : m;
    n += m;
    *covered += got;
    if (got < want)
      break; /* out of iovecs, or a fault further on */
  }
  return n;
}

static void advance(struct cursor *c, size_t bytes) {
  while (bytes > 0 && c->i < c->nsegs) {
    size_t left = c->segs[c->i].len - c->k, take = bytes < left ? bytes : left;
    c->k += take;
    bytes -= take;
    if (c->k == c->segs[c->i].len) {
      c->i++;
      c->k = 0;
    }
  }
}

/* One non-blocking step: bytes moved (the cursor advanced), 0 at end of
 * stream, or -errno. */
static ssize_t step(struct vm *vm, struct file *f, struct cursor *c, bool send, bool peek,
                    size_t *covered) {
  struct iovec iov[IOV_STEP];
  int n = fill_iov(vm, c, !send, iov, covered);
  if (n < 0)
    return n;
  ssize_t r = send ? vsock_send(f, iov, n) : vsock_recv(f, iov, n, peek);
  if (r > 0)
    advance(c, (size_t)r);
  return r;
}

/* Stream receive: returns once something arrived (MSG_WAITALL: all of it,
 * or the end of the stream), waiting unless non-blocking. */
static long do_recv(struct vm *vm, struct file *f, const struct seg *segs, int nsegs, size_t total,
                    int flags) {
  struct vsock_addr peer;
  if (flags & MSG_OOB)
    return -EOPNOTSUPP;
  if (flags & MSG_ERRQUEUE)
    return -EAGAIN; /* no error queue: always empty */
  if (total == 0)   /* Linux's vsock: a zero-length read is no error, once connected */
    return vsock_name(f, true, &peer);
  bool peek = flags & MSG_PEEK, nonblock = (flags & MSG_DONTWAIT) || (f->flags & O_NONBLOCK);
  bool waitall = (flags & MSG_WAITALL) && !peek;
  struct timespec deadline;
  bool timed = deadline_for(f, false, &deadline);
  struct cursor c = {.segs = segs, .nsegs = nsegs};
  size_t done = 0, covered;
  for (;;) {
    ssize_t r = step(vm, f, &c, false, peek, &covered);
    if (r > 0) {
      done += (size_t)r;
      if (done == total || peek || (!waitall && (size_t)r < covered))
        return (long)done;
      continue;
    }
    if (r == 0 || (r == -EAGAIN && done && !waitall))
      return (long)done;
    if (r != -EAGAIN)
      return done ? (long)done : r;
    if (nonblock)
      return done ? (long)done : -EAGAIN;
    long w = sock_wait(vm, f, POLLIN, timed ? &deadline : NULL);
    if (w < 0)
      return done ? (long)done : w;
  }
}

/* Stream send: all of it, waiting for room unless non-blocking. */
static long do_send(struct vm *vm, struct file *f, const struct seg *segs, int nsegs, size_t total,
                    int flags) {
  struct vsock_addr peer;
  if (flags & MSG_OOB)
    return -EOPNOTSUPP;
  if (total == 0)
    return vsock_name(f, true, &peer);
  bool nonblock = (flags & MSG_DONTWAIT) || (f->flags & O_NONBLOCK);
  struct timespec deadline;
  bool timed = deadline_for(f, true, &deadline);
  struct cursor c = {.segs = segs, .nsegs = nsegs};
  size_t done = 0, covered;
  for (;;) {
    ssize_t r = step(vm, f, &c, true, false, &covered);
    if (r > 0 && (done += (size_t)r) == total)
      return (long)done;
    if (r > 0)
      continue;
    if (r != -EAGAIN)
      return done ? (long)done : r;
    if (nonblock)
      return done ? (long)done : -EAGAIN;
    long w = sock_wait(vm, f, POLLOUT, timed ? &deadline : NULL);
    if (w < 0)
      return done ? (long)done : w;
  }
}

static long send_finish(struct vm *vm, long r, int flags) {
  if (r == -EPIPE && !(flags & MSG_NOSIGNAL))
    sig_send(vm, SIGPIPE);
  return r;
}

/* An address given to send on a stream socket: checked and copied as
 * Linux does for every family, then refused as Linux's vsock refuses it. */
static long send_addr_check(struct vm *vm, struct file *f, uint64_t gva, uint64_t len) {
  struct vsock_addr peer;
  unsigned char raw[SOCKADDR_MAX];
  if (!gva)
    return 0;
  if ((int)len < 0 || (int)len > SOCKADDR_MAX)
    return -EINVAL;
  if ((int)len == 0)
    return 0;
  if (uaccess_copy_from(&vm->mem, raw, gva, (size_t)(int)len) < 0)
    return -EFAULT;
  return vsock_name(f, true, &peer) == 0 ? -EISCONN : -EOPNOTSUPP;
}

long sys_sendto(struct vm *vm, const uint64_t *a) {
  struct file *f;
  long rc = get_sock(vm, a[0], &f);
  if (rc == 0)
    rc = send_addr_check(vm, f, a[4], a[5]);
  if (rc < 0)
    return rc;
  struct seg seg = {.base = a[1], .len = a[2] > MAX_RW_COUNT ? MAX_RW_COUNT : a[2]};
  int flags = (int)a[3];
  return send_finish(vm, do_send(vm, f, &seg, 1, seg.len, flags), flags);
}

long sys_recvfrom(struct vm *vm, const uint64_t *a) {
  struct file *f;
  long rc = get_sock(vm, a[0], &f);
  if (rc < 0)
    return rc;
  struct seg seg = {.base = a[1], .len = a[2] > MAX_RW_COUNT ? MAX_RW_COUNT : a[2]};
  rc = do_recv(vm, f, &seg, 1, seg.len, (int)a[3]);
  if (rc < 0 || !a[4])
    return rc;
  int32_t len; /* a stream socket names no source: its length is 0 */
  if (uaccess_copy_from(&vm->mem, &len, a[5], sizeof len) < 0)
    return -EFAULT;
  if (len < 0)
    return -EINVAL;
  len = 0;
  return uaccess_copy_to(&vm->mem, a[5], &len, sizeof len) < 0 ? -EFAULT : rc;
}

/* The msghdr's iovecs as segments (total clamped to MAX_RW_COUNT). */
static long msg_segs(struct vm *vm, const struct guest_msghdr *m, struct seg *segs, size_t *total) {
  if (m->iovlen > GUEST_UIO_MAXIOV)
    return -EMSGSIZE;
  struct guest_iovec giov[GUEST_UIO_MAXIOV];
  if (uaccess_copy_from(&vm->mem, giov, m->iov, m->iovlen * sizeof giov[0]) < 0)
    return -EFAULT;
  *total = 0;
  for (uint64_t i = 0; i < m->iovlen; i++) {
    if (giov[i].len > SSIZE_MAX)
      return -EINVAL;
    size_t len = giov[i].len < MAX_RW_COUNT - *total ? giov[i].len : MAX_RW_COUNT - *total;
    segs[i] = (struct seg){.base = giov[i].base, .len = len};
    *total += len;
  }
  return (long)m->iovlen;
}

long sys_sendmsg(struct vm *vm, const uint64_t *a) {
  struct file *f;
  struct guest_msghdr m;
  struct seg segs[GUEST_UIO_MAXIOV];
  size_t total;
  long rc = get_sock(vm, a[0], &f);
  if (rc == 0 && uaccess_copy_from(&vm->mem, &m, a[1], sizeof m) < 0)
    rc = -EFAULT;
  if (rc == 0)
    rc = send_addr_check(vm, f, m.name, m.namelen);
  long n = rc < 0 ? rc : msg_segs(vm, &m, segs, &total);
  if (n < 0)
    return n;
  /* Ancillary data is ignored, as Linux's vsock ignores it. */
  int flags = (int)a[2];
  return send_finish(vm, do_send(vm, f, segs, (int)n, total, flags), flags);
}

/* What recvmsg reports besides the count: no source name (its length,
 * when a name buffer was given), no ancillary data, no flags. */
static long msg_report(struct vm *vm, uint64_t gva, const struct guest_msghdr *m) {
  uint32_t namelen = 0;
  uint64_t controllen = 0;
  int32_t flags = 0;
  const struct {
    size_t at, len;
    const void *val;
  } out[] = {{offsetof(struct guest_msghdr, namelen), m->name ? sizeof namelen : 0, &namelen},
             {offsetof(struct guest_msghdr, controllen), sizeof controllen, &controllen},
             {offsetof(struct guest_msghdr, flags), sizeof flags, &flags}};
  for (size_t i = 0; i < sizeof out / sizeof out[0]; i++)
    if (out[i].len && uaccess_copy_to(&vm->mem, gva + out[i].at, out[i].val, out[i].len) < 0)
      return -EFAULT;
  return 0;
}

long sys_recvmsg(struct vm *vm, const uint64_t *a) {
  struct file *f;
  struct guest_msghdr m;
  struct seg segs[GUEST_UIO_MAXIOV];
  size_t total;
  long rc = get_sock(vm, a[0], &f);
  if (rc == 0 && uaccess_copy_from(&vm->mem, &m, a[1], sizeof m) < 0)
    rc = -EFAULT;
  long n = rc < 0 ? rc : msg_segs(vm, &m, segs, &total);
  if (n < 0)
    return n;
  rc = do_recv(vm, f, segs, (int)n, total, (int)a[2]);
  if (rc >= 0 && msg_report(vm, a[1], &m) < 0)
    return -EFAULT;
  return rc;
}
