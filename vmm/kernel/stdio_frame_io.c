/* stdio_frame_io.c - framed stdio's three descriptions (stdio_frame.h) and
 * the sending of whole frames on the connection's host stream socket.
 *
 * fd 0 reads the EVENT stream: frame headers go through the decoder
 * (proto/frame.h), 8 bytes at most at a time, and DATA payload bytes are
 * received straight into the guest's buffers, never past the frame's end;
 * END(EVENT) is end of file; any other frame is -EPROTO (answered with an
 * ERROR frame, after which the connection carries nothing more), a stream
 * cut short -EIO. fds 1 and 2 send what the guest writes as DATA frames of
 * RESPONSE and LOG, straight from its buffers, up to their caps; bytes past
 * a cap are reported written and only counted.
 *
 * Nothing spins and no op blocks: an op that cannot start answers -EAGAIN
 * and names the socket in host_watch, so the system call layer sleeps on
 * it. A DATA frame the socket takes only part of is reported written whole
 * and its tail (at most FRAME_OUT_MAX bytes) sent before anything else, so
 * frames never interleave and never wait on the guest's next write. Control
 * frames and ENDs (the finish, an ERROR) are sent whole, sleeping within a
 * deadline. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fs/wait.h"
#include "kernel/file.h"
#include "kernel/proc.h"
#include "kernel/stdio_frame_impl.h"
#include "kernel/timespec.h"
#include "vm.h"

#define FRAME_IOV_MAX 64 /* host iovecs per sendmsg/recvmsg */

/* st_dev of the three descriptions: an anonymous device, like pipefs's. */
#define FRAME_DEV makedev(0, 0xfffb1)

/* One of the three descriptions. */
struct frame_end {
  struct stdio_frame *st;
  struct frame_out *out; /* NULL for the EVENT reader */
  unsigned ino;
  char path[32];
};

static struct frame_end *end_of(struct file *f) { return f->priv; }

static size_t iov_total(const struct iovec *iov, int iovcnt) {
  size_t total = 0;
  for (int i = 0; i < iovcnt; i++)
    total += iov[i].iov_len;
  return total;
}

/* The revents of fd for events now, without waiting. */
static short poll_now(int fd, short events) {
  struct pollfd p = {.fd = fd, .events = events};
  return poll(&p, 1, 0) > 0 ? p.revents : 0;
}

/* --- sending --- */

/* Sleeps until fd can take more bytes: 0, -EINTR, -ETIMEDOUT. */
static int wait_writable(int fd, const struct frame_wait *w) {
  struct timespec left;
  if (w->deadline) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (ts_is_zero(left = ts_until(*w->deadline, now)))
      return -ETIMEDOUT;
  }
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  int r = fs_wait(&p, 1, w->deadline ? &left : NULL, w->stop);
  return r < 0 ? r : 0;
}

/* Drops k sent bytes from the front of v[0..*n). */
static void consume(struct iovec **v, int *n, size_t k) {
  while (*n > 0 && k >= (*v)->iov_len) {
    k -= (*v)->iov_len;
    (*v)++;
    (*n)--;
  }
  if (*n > 0) {
    (*v)->iov_base = (char *)(*v)->iov_base + k;
    (*v)->iov_len -= k;
  }
}

/* Sends all of v[0..n) (v is used up), sleeping within w's limits. A
 * socket error kills the connection: the guest sees a broken pipe. */
static int send_all(struct stdio_frame *st, struct iovec *v, int n, const struct frame_wait *w) {
  while (n > 0) {
    struct msghdr m = {.msg_iov = v, .msg_iovlen = (size_t)n};
    ssize_t k = sendmsg(st->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (k >= 0) {
      consume(&v, &n, (size_t)k);
    } else if (errno == EAGAIN) {
      int r = wait_writable(st->fd, w);
      if (r < 0)
        return r;
    } else if (errno != EINTR) {
      return st->dead = -EPIPE;
    }
  }
  return 0;
}

/* Sends what the socket takes now of the pending tail: 0 once none is
 * left, -EAGAIN, -EPIPE. */
static int pending_send_now(struct stdio_frame *st) {
  while (st->pending_pos < st->pending_len) {
    ssize_t k = send(st->fd, st->pending + st->pending_pos, st->pending_len - st->pending_pos,
                     MSG_DONTWAIT | MSG_NOSIGNAL);
    if (k >= 0)
      st->pending_pos += (size_t)k;
    else if (errno == EAGAIN)
      return -EAGAIN;
    else if (errno != EINTR)
      return st->dead = -EPIPE;
  }
  st->pending_pos = st->pending_len = 0;
  return 0;
}

static int pending_flush(struct stdio_frame *st, const struct frame_wait *w) {
  int r;
  while ((r = pending_send_now(st)) == -EAGAIN)
    if ((r = wait_writable(st->fd, w)) < 0)
      return r;
  return r;
}

int frame_send_whole(struct stdio_frame *st, uint8_t type, uint8_t stream, const void *buf,
                     uint32_t len, const struct frame_wait *w) {
  if (st->dead)
    return st->dead;
  uint8_t hdr[HF_HEADER_SIZE];
  struct hf_header h = {.type = type, .stream = stream, .length = len};
  if (hf_header_encode(&h, hdr) < 0)
    return -EINVAL;
  int r = pending_flush(st, w);
  if (r < 0)
    return r;
  struct iovec v[2] = {{.iov_base = hdr, .iov_len = sizeof hdr},
                       {.iov_base = (void *)buf, .iov_len = len}};
  return send_all(st, v, len ? 2 : 1, w);
}

/* Up to `max` bytes of iov from `off` as at most `room` iovecs in out;
 * returns the bytes covered. */
static size_t gather(const struct iovec *iov, int iovcnt, size_t off, size_t max, struct iovec *out,
                     int room, int *n) {
  size_t got = 0;
  *n = 0;
  for (int i = 0; i < iovcnt && got < max && *n < room; i++) {
    if (off >= iov[i].iov_len) {
      off -= iov[i].iov_len;
      continue;
    }
    size_t take = iov[i].iov_len - off < max - got ? iov[i].iov_len - off : max - got;
    out[(*n)++] = (struct iovec){.iov_base = (char *)iov[i].iov_base + off, .iov_len = take};
    off = 0;
    got += take;
  }
  return got;
}

/* Keeps the bytes of v[0..n) from `from` on as the pending tail. */
static void keep_tail(struct stdio_frame *st, const struct iovec *v, int n, size_t from) {
  size_t len = 0;
  for (int i = 0; i < n; i++) {
    size_t skip = from < v[i].iov_len ? from : v[i].iov_len;
    from -= skip;
    memcpy(st->pending + len, (const char *)v[i].iov_base + skip, v[i].iov_len - skip);
    len += v[i].iov_len - skip;
  }
  st->pending_len = len;
  st->pending_pos = 0;
}

/* A DATA frame of at most `max` (<= FRAME_OUT_MAX) bytes of iov from
 * `off`, fewer when they lie in many small iovecs: sends what the socket
 * takes now and keeps the rest of the frame as the pending tail. Returns
 * the payload bytes framed, -EAGAIN (nothing sent), or -EPIPE. */
static ssize_t frame_start(struct stdio_frame *st, uint8_t stream, const struct iovec *iov,
                           int iovcnt, size_t off, size_t max) {
  struct iovec v[FRAME_IOV_MAX];
  uint8_t hdr[HF_HEADER_SIZE];
  int n;
  size_t len = gather(iov, iovcnt, off, max, v + 1, FRAME_IOV_MAX - 1, &n);
  struct hf_header h = {.type = HF_DATA, .stream = stream, .length = (uint32_t)len};
  if (hf_header_encode(&h, hdr) < 0)
    return -EINVAL;
  v[0] = (struct iovec){.iov_base = hdr, .iov_len = sizeof hdr};
  struct msghdr m = {.msg_iov = v, .msg_iovlen = (size_t)n + 1};
  ssize_t k = sendmsg(st->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (k < 0)
    return errno == EAGAIN || errno == EINTR ? -EAGAIN : (st->dead = -EPIPE);
  if ((size_t)k < sizeof hdr + len)
    keep_tail(st, v, n + 1, (size_t)k);
  return (ssize_t)len;
}

/* --- fds 1 and 2: RESPONSE and LOG --- */

/* A pending tail goes first; frames start only while the socket takes
 * bytes, so a full socket is -EAGAIN with nothing sent, and the system call
 * layer sleeps (or answers O_NONBLOCK). Bytes past the cap are reported
 * written and counted out. */
static ssize_t out_write(struct file *f, const struct iovec *iov, int iovcnt) {
  struct stdio_frame *st = end_of(f)->st;
  struct frame_out *o = end_of(f)->out;
  if (st->dead || st->finished)
    return st->dead ? st->dead : -EPIPE;
  int r = pending_send_now(st);
  if (r < 0)
    return r;
  size_t total = iov_total(iov, iovcnt), room = (size_t)(o->cap - o->sent);
  size_t take = total < room ? total : room, done = 0;
  while (done < take && st->pending_len == 0) {
    size_t max = take - done < FRAME_OUT_MAX ? take - done : FRAME_OUT_MAX;
    ssize_t n = frame_start(st, o->stream, iov, iovcnt, done, max);
    if (n < 0)
      return done ? (ssize_t)done : n;
    o->sent += (size_t)n;
    done += (size_t)n;
  }
  if (done < take)
    return (ssize_t)done; /* the socket is full: a short write */
  if (take < total)
    o->truncated = true;
  return (ssize_t)total;
}

/* Writable, or in error once the host's end is gone (as a pipe whose
 * reader went: POLLERR whatever was asked). */
static short out_poll(struct file *f, short events) {
  struct stdio_frame *st = end_of(f)->st;
  struct frame_out *o = end_of(f)->out;
  if (st->dead || st->finished)
    return POLLOUT | POLLERR; /* a write fails at once */
  short r = poll_now(st->fd, POLLOUT);
  short err = r & (POLLERR | POLLHUP) ? POLLERR : 0;
  if (o->sent >= o->cap)
    return POLLOUT | POLLWRNORM | err; /* a write is counted out at once */
  return (short)((r & POLLOUT ? POLLOUT | POLLWRNORM : 0) | err);
}

/* The socket, for writability only when that was asked: a sleep that asks
 * for nothing out_poll could answer must not end whenever the socket has
 * room. (ppoll still reports its errors and hang-up, which out_poll
 * answers with POLLERR.) */
static int out_host_watch(struct file *f, short events, struct pollfd *out, int max) {
  if (max < 1)
    return 0;
  out[0] = (struct pollfd){.fd = end_of(f)->st->fd, .events = events & (POLLOUT | POLLWRNORM)};
  return 1;
}

/* --- fd 0: EVENT --- */

/* Records a failure of the EVENT stream; a bad frame is answered with an
 * ERROR frame, after which the connection carries nothing more. */
static ssize_t event_fail(struct stdio_frame *st, int err) {
  st->event_error = err;
  if (err == -EPROTO)
    frame_send_error(st, "protocol", "the EVENT stream holds a frame other than DATA or END");
  return err;
}

/* After a feed: 0 to go on, or the stream's error. A complete header must
 * be DATA or END of the EVENT stream. */
static ssize_t event_check(struct stdio_frame *st, const struct hf_event *ev) {
  const struct hf_header *h = &ev->header;
  if (ev->kind == HF_EV_NONE) {
    if (!st->dec.in_payload)
      return 0; /* the header is not whole yet */
    h = &st->dec.cur;
  }
  if (h->stream != HF_STREAM_EVENT || (h->type != HF_DATA && h->type != HF_END))
    return event_fail(st, -EPROTO);
  if (ev->kind == HF_EV_END)
    st->event_done = true;
  return 0;
}

/* Reads what is missing of the next header (never more): 0 to go on. */
static ssize_t read_header(struct stdio_frame *st) {
  uint8_t buf[HF_HEADER_SIZE];
  ssize_t n = recv(st->fd, buf, HF_HEADER_SIZE - st->dec.hdr_have, MSG_DONTWAIT);
  if (n < 0)
    return errno == EAGAIN ? -EAGAIN : errno == EINTR ? 0 : event_fail(st, -EIO);
  if (n == 0)
    return event_fail(st, -EIO); /* the host went away before END(EVENT) */
  struct hf_event ev;
  if (hf_decoder_feed(&st->dec, buf, (size_t)n, &ev) != n)
    return event_fail(st, -EPROTO);
  return event_check(st, &ev);
}

/* The guest's iovecs cut to at most `limit` bytes and FRAME_IOV_MAX pieces. */
static int clip(const struct iovec *iov, int iovcnt, size_t limit, struct iovec *out) {
  int n = 0;
  for (int i = 0; i < iovcnt && limit > 0 && n < FRAME_IOV_MAX; i++) {
    size_t len = iov[i].iov_len < limit ? iov[i].iov_len : limit;
    if (len == 0)
      continue;
    out[n++] = (struct iovec){.iov_base = iov[i].iov_base, .iov_len = len};
    limit -= len;
  }
  return n;
}

/* Receives payload of the current DATA frame straight into the guest's
 * buffers, then tells the decoder they went by. Bytes, 0 to go on, or an
 * error. */
static ssize_t read_payload(struct stdio_frame *st, const struct iovec *iov, int iovcnt) {
  struct iovec v[FRAME_IOV_MAX];
  int n = clip(iov, iovcnt, st->dec.cur.length - st->dec.payload_have, v);
  struct msghdr m = {.msg_iov = v, .msg_iovlen = (size_t)n};
  ssize_t k = recvmsg(st->fd, &m, MSG_DONTWAIT);
  if (k < 0)
    return errno == EAGAIN ? -EAGAIN : errno == EINTR ? 0 : event_fail(st, -EIO);
  if (k == 0)
    return event_fail(st, -EIO);
  size_t left = (size_t)k;
  for (int i = 0; i < n && left > 0; i++) {
    size_t piece = v[i].iov_len < left ? v[i].iov_len : left;
    struct hf_event ev;
    if (hf_decoder_feed(&st->dec, v[i].iov_base, piece, &ev) != (long)piece)
      return event_fail(st, -EPROTO);
    left -= piece;
  }
  return k;
}

static ssize_t event_read(struct file *f, const struct iovec *iov, int iovcnt) {
  struct stdio_frame *st = end_of(f)->st;
  if (iov_total(iov, iovcnt) == 0)
    return 0;
  for (;;) {
    if (st->event_error)
      return st->event_error;
    if (st->event_done)
      return 0;
    ssize_t r = st->dec.in_payload ? read_payload(st, iov, iovcnt) : read_header(st);
    if (r != 0)
      return r;
  }
}

/* Readable when a read would not wait: bytes on the socket (a read may
 * still find them only part of a header: -EAGAIN), the end, or an error. */
static short event_poll(struct file *f, short events) {
  struct stdio_frame *st = end_of(f)->st;
  if (st->event_error || st->event_done || poll_now(st->fd, POLLIN))
    return POLLIN | POLLRDNORM;
  return 0;
}

/* The socket, when readability was asked: event_poll answers nothing
 * else, so for any other events there is nothing to wake for. */
static int event_host_watch(struct file *f, short events, struct pollfd *out, int max) {
  if (max < 1 || !(events & (POLLIN | POLLRDNORM)))
    return 0;
  out[0] = (struct pollfd){.fd = end_of(f)->st->fd, .events = POLLIN};
  return 1;
}

/* --- the descriptions --- */

/* They look like pipes: streams with no position and no terminal. */
static int end_fstat(struct file *f, struct stat *st) {
  memset(st, 0, sizeof *st);
  st->st_dev = FRAME_DEV;
  st->st_ino = end_of(f)->ino;
  st->st_mode = S_IFIFO | 0600;
  st->st_nlink = 1;
  st->st_uid = PROC_GUEST_UID;
  st->st_gid = PROC_GUEST_GID;
  st->st_blksize = 4096;
  return 0;
}

static const char *end_path(struct file *f) { return end_of(f)->path; }

static void end_release(struct file *f) {
  stdio_frame_unref(end_of(f)->st);
  free(f->priv);
}

static const struct file_ops event_ops = {
    .read = event_read,
    .fstat = end_fstat,
    .poll = event_poll,
    .host_watch = event_host_watch,
    .path = end_path,
    .release = end_release,
};

static const struct file_ops out_ops = {
    .write = out_write,
    .fstat = end_fstat,
    .poll = out_poll,
    .host_watch = out_host_watch,
    .path = end_path,
    .release = end_release,
};

static struct file *end_new(struct stdio_frame *st, struct frame_out *out, unsigned ino) {
  struct frame_end *e = calloc(1, sizeof *e);
  struct file *f = e ? file_new(out ? &out_ops : &event_ops, out ? O_WRONLY : O_RDONLY, e) : NULL;
  if (!f) {
    free(e);
    return NULL;
  }
  e->st = st;
  e->out = out;
  e->ino = ino;
  snprintf(e->path, sizeof e->path, "pipe:[%u]", ino);
  st->refs++;
  return f;
}

int frame_files_new(struct stdio_frame *st, struct file *out[3]) {
  out[0] = end_new(st, NULL, 1);
  out[1] = out[0] ? end_new(st, &st->response, 2) : NULL;
  out[2] = out[1] ? end_new(st, &st->log, 3) : NULL;
  if (out[2])
    return 0;
  for (int i = 0; i < 3; i++)
    if (out[i])
      file_unref(out[i]);
  return -ENOMEM;
}
