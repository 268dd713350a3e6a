/* sockopt.c - setsockopt/getsockopt on vsock sockets, with Linux's sizes,
 * clamps and errors. SOL_SOCKET options are kept per socket and reported
 * back; the two timeouts bound the blocking waits of kernel/sys_net.c; the
 * buffer sizes are bookkeeping only (the bytes wait in the host kernel's
 * socket buffers, which the guest does not size). AF_VSOCK-level options
 * are the transport-independent ones Linux offers; VMCI's are not. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "kernel/file.h"
#include "net/vsock_impl.h"

/* x86-64 Linux's option numbers, spelled out: libc headers differ on the
 * old and new names of the timeouts. */
enum {
  GSO_REUSEADDR = 2,
  GSO_TYPE = 3,
  GSO_ERROR = 4,
  GSO_SNDBUF = 7,
  GSO_RCVBUF = 8,
  GSO_KEEPALIVE = 9,
  GSO_LINGER = 13,
  GSO_REUSEPORT = 15,
  GSO_RCVTIMEO_OLD = 20,
  GSO_SNDTIMEO_OLD = 21,
  GSO_ACCEPTCONN = 30,
  GSO_PROTOCOL = 38,
  GSO_DOMAIN = 39,
  GSO_RCVTIMEO_NEW = 66,
  GSO_SNDTIMEO_NEW = 67,
};
enum {
  SO_VM_BUFFER_SIZE = 0,
  SO_VM_BUFFER_MIN_SIZE = 1,
  SO_VM_BUFFER_MAX_SIZE = 2,
  SO_VM_CONNECT_TIMEOUT_OLD = 6,
  SO_VM_CONNECT_TIMEOUT_NEW = 8,
};
#define GUEST_SOL_SOCKET 1
#define GUEST_SOL_VSOCK 40 /* AF_VSOCK */

/* net.core.[rw]mem_max, and the floors Linux applies to twice the value. */
#define SOCKBUF_MAX 212992u
#define SNDBUF_MIN 4608
#define RCVBUF_MIN 2304
#define VSOCK_BUF_CAP 0xffffffffull /* virtio's largest buffer */

/* struct timeval / __kernel_sock_timeval: the same 16 bytes on x86-64. */
struct guest_timeval {
  int64_t sec, usec;
};

struct guest_linger {
  int32_t onoff, linger;
};

static struct vsock_sock *sock(struct file *f) { return f->priv; }

static long get_int(const void *val, size_t len, int *out) {
  if (len < sizeof(int))
    return -EINVAL;
  memcpy(out, val, sizeof *out);
  return 0;
}

/* Linux's sock_set_timeout: zero is none, a negative time expires at once. */
static long set_timeout(const void *val, size_t len, bool *set, struct timespec *out) {
  struct guest_timeval tv;
  if (len < sizeof tv)
    return -EINVAL;
  memcpy(&tv, val, sizeof tv);
  if (tv.usec < 0 || tv.usec >= 1000000)
    return -EDOM;
  *set = tv.sec != 0 || tv.usec != 0;
  *out = tv.sec < 0 ? (struct timespec){0} : (struct timespec){tv.sec, tv.usec * 1000};
  return 0;
}

static int clamp_buf(int val, int floor) {
  unsigned v = (unsigned)val < SOCKBUF_MAX ? (unsigned)val : SOCKBUF_MAX;
  return (int)(v * 2) > floor ? (int)(v * 2) : floor;
}

static long set_linger(struct vsock_opts *o, const void *val, size_t len) {
  struct guest_linger l;
  if (len < sizeof l)
    return -EINVAL;
  memcpy(&l, val, sizeof l);
  o->linger_on = l.onoff != 0;
  o->linger_s = l.linger;
  return 0;
}

static long set_flag(bool *flag, const void *val, size_t len) {
  int v;
  long rc = get_int(val, len, &v);
  if (rc == 0)
    *flag = v != 0;
  return rc;
}

static long set_socket_level(struct vsock_opts *o, int name, const void *val, size_t len) {
  int v;
  switch (name) {
  case GSO_REUSEADDR:
    return set_flag(&o->reuseaddr, val, len);
  case GSO_REUSEPORT:
    return set_flag(&o->reuseport, val, len);
  case GSO_KEEPALIVE:
    return set_flag(&o->keepalive, val, len);
  case GSO_SNDBUF:
  case GSO_RCVBUF: {
    long rc = get_int(val, len, &v);
    if (rc == 0 && name == GSO_SNDBUF)
      o->sndbuf = clamp_buf(v, SNDBUF_MIN);
    else if (rc == 0)
      o->rcvbuf = clamp_buf(v, RCVBUF_MIN);
    return rc;
  }
  case GSO_LINGER:
    return set_linger(o, val, len);
  case GSO_RCVTIMEO_OLD:
  case GSO_RCVTIMEO_NEW:
    return set_timeout(val, len, &o->rcvtimeo_set, &o->rcvtimeo);
  case GSO_SNDTIMEO_OLD:
  case GSO_SNDTIMEO_NEW:
    return set_timeout(val, len, &o->sndtimeo_set, &o->sndtimeo);
  }
  return -ENOPROTOOPT; /* SO_TYPE, SO_ERROR... are read-only: Linux says the same */
}

/* Linux's vsock_update_buffer_size: the size within [min, max]. */
static void fit_buffer(struct vsock_opts *o, uint64_t size) {
  if (size > o->buf_max)
    size = o->buf_max;
  if (size < o->buf_min)
    size = o->buf_min;
  o->buf_size = size > VSOCK_BUF_CAP ? VSOCK_BUF_CAP : size;
}

static long set_connect_timeout(struct vsock_opts *o, const void *val, size_t len) {
  struct guest_timeval tv;
  if (len < sizeof tv)
    return -EINVAL;
  memcpy(&tv, val, sizeof tv);
  if (tv.sec < 0 || tv.usec < 0 || tv.usec >= 1000000 || tv.sec > INT32_MAX)
    return -ERANGE;
  o->connect_timeout = (struct timespec){tv.sec, tv.usec * 1000};
  return 0;
}

static long set_vsock_level(struct vsock_opts *o, int name, const void *val, size_t len) {
  if (name == SO_VM_CONNECT_TIMEOUT_OLD || name == SO_VM_CONNECT_TIMEOUT_NEW)
    return set_connect_timeout(o, val, len);
  if (name != SO_VM_BUFFER_SIZE && name != SO_VM_BUFFER_MIN_SIZE && name != SO_VM_BUFFER_MAX_SIZE)
    return -ENOPROTOOPT;
  uint64_t v;
  if (len < sizeof v)
    return -EINVAL;
  memcpy(&v, val, sizeof v);
  if (name == SO_VM_BUFFER_MIN_SIZE)
    o->buf_min = v;
  else if (name == SO_VM_BUFFER_MAX_SIZE)
    o->buf_max = v;
  fit_buffer(o, name == SO_VM_BUFFER_SIZE ? v : o->buf_size);
  return 0;
}

long vsock_setsockopt(struct file *f, int level, int name, const void *val, size_t len) {
  struct vsock_opts *o = &sock(f)->opts;
  if (level == GUEST_SOL_SOCKET)
    return set_socket_level(o, name, val, len);
  if (level == GUEST_SOL_VSOCK)
    return set_vsock_level(o, name, val, len);
  return -ENOPROTOOPT;
}

/* --- reading options back --- */

static int so_error(struct vsock_sock *s) {
  int err = 0;
  socklen_t len = sizeof err;
  if (s->state == VSOCK_CONNECTED && getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    return errno;
  return err;
}

static struct guest_timeval timeval_of(bool set, struct timespec t) {
  return set ? (struct guest_timeval){t.tv_sec, t.tv_nsec / 1000} : (struct guest_timeval){0};
}

/* The option's value into val (up to 16 bytes); its size, or -ENOPROTOOPT. */
static long get_socket_level(struct vsock_sock *s, int name, void *val) {
  const struct vsock_opts *o = &s->opts;
  int v;
  switch (name) {
  case GSO_REUSEADDR:
    v = o->reuseaddr;
    break;
  case GSO_REUSEPORT:
    v = o->reuseport;
    break;
  case GSO_KEEPALIVE:
    v = o->keepalive;
    break;
  case GSO_SNDBUF:
    v = o->sndbuf;
    break;
  case GSO_RCVBUF:
    v = o->rcvbuf;
    break;
  case GSO_TYPE:
    v = SOCK_STREAM;
    break;
  case GSO_DOMAIN:
    v = GUEST_SOL_VSOCK;
    break;
  case GSO_PROTOCOL:
    v = 0;
    break;
  case GSO_ACCEPTCONN:
    v = s->state == VSOCK_LISTENING;
    break;
  case GSO_ERROR:
    v = so_error(s);
    break;
  case GSO_LINGER: {
    struct guest_linger l = {o->linger_on, o->linger_s};
    memcpy(val, &l, sizeof l);
    return sizeof l;
  }
  case GSO_RCVTIMEO_OLD:
  case GSO_RCVTIMEO_NEW:
  case GSO_SNDTIMEO_OLD:
  case GSO_SNDTIMEO_NEW: {
    bool rcv = name == GSO_RCVTIMEO_OLD || name == GSO_RCVTIMEO_NEW;
    struct guest_timeval tv =
        rcv ? timeval_of(o->rcvtimeo_set, o->rcvtimeo) : timeval_of(o->sndtimeo_set, o->sndtimeo);
    memcpy(val, &tv, sizeof tv);
    return sizeof tv;
  }
  default:
    return -ENOPROTOOPT;
  }
  memcpy(val, &v, sizeof v);
  return sizeof v;
}

static long get_vsock_level(const struct vsock_opts *o, int name, void *val) {
  uint64_t v;
  switch (name) {
  case SO_VM_BUFFER_SIZE:
    v = o->buf_size;
    break;
  case SO_VM_BUFFER_MIN_SIZE:
    v = o->buf_min;
    break;
  case SO_VM_BUFFER_MAX_SIZE:
    v = o->buf_max;
    break;
  case SO_VM_CONNECT_TIMEOUT_OLD:
  case SO_VM_CONNECT_TIMEOUT_NEW: {
    struct guest_timeval tv = timeval_of(true, o->connect_timeout);
    memcpy(val, &tv, sizeof tv);
    return sizeof tv;
  }
  default:
    return -ENOPROTOOPT;
  }
  memcpy(val, &v, sizeof v);
  return sizeof v;
}

long vsock_getsockopt(struct file *f, int level, int name, void *val, size_t *len) {
  struct vsock_sock *s = sock(f);
  long size;
  if (level == GUEST_SOL_SOCKET)
    size = get_socket_level(s, name, val);
  else if (level == GUEST_SOL_VSOCK)
    size = get_vsock_level(&s->opts, name, val);
  else
    return -ENOPROTOOPT;
  if (size < 0)
    return size;
  /* Linux truncates SOL_SOCKET values to the caller's length; vsock's own
   * options refuse a short buffer. */
  if (level == GUEST_SOL_VSOCK && *len < (size_t)size)
    return -EINVAL;
  if (*len > (size_t)size)
    *len = (size_t)size;
  return 0;
}

bool vsock_timeout(struct file *f, bool send, struct timespec *out) {
  const struct vsock_opts *o = &sock(f)->opts;
  bool set = send ? o->sndtimeo_set : o->rcvtimeo_set;
  if (set)
    *out = send ? o->sndtimeo : o->rcvtimeo;
  return set;
}
