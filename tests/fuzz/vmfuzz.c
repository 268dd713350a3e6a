/* vmfuzz.c - a hostile guest for hearth-vmm: from a seed, thousands of raw
 * system calls with random and boundary arguments against the guest-facing
 * code most exposed to it: AF_VSOCK sockets (bind/listen/connect/accept,
 * send/recv and their msghdr forms, options, names, shutdown, FIONREAD,
 * framed stdio), epoll (ctl, wait, pwait, pwait2), execve (paths through
 * symlinks, loops, bad pointers, huge and endless argv/envp), tmpfs symlinks
 * and links, and the blocking-write path of read/write/readv/writev.
 *
 * Pointers come from a pool: NULL, a guard page, buffers straddling into it,
 * a read-only page, kernel and non-canonical addresses, valid scratch;
 * lengths from boundaries (0, 15/16/17, 4096, 2^31, SIZE_MAX...). Nothing may
 * block: every description the fuzzer makes is O_NONBLOCK and every wait has
 * a zero timeout, so the run ends on its own; the VMM must neither crash nor
 * leak (the ASan build checks) nor hang (the driver's --timeout).
 *
 * Once per run it also execs itself (argv "vmfuzz child SEED N"): the new
 * image inherits whatever descriptors, epoll items and sockets are left.
 *
 * Usage: vmfuzz run|spin SEED ITERATIONS ("child" and "spinchild" are the
 * re-executed image). "spin" adds short waits that report, without
 * failing, any that cost the VMM CPU instead of sleeping. Prints "vmfuzz ok
 * SEED" on the stdout it started with (kept at OUT_FD across everything)
 * and exits 0. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../../guest-init/proto/hearth_abi.h"

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

#define OUT_FD 500 /* the console, out of reach of the random calls */
#define PAGE 4096ul
#define SCRATCH_PAGES 16
#define POOL_MAX 48
#define BIG_STRINGS (2300u << 10) /* past execve's 2 MiB total */
#define EXEC_ARGS_MAX 70000       /* past execve's count cap */

static uint64_t state;
static uint8_t *scratch; /* SCRATCH_PAGES RW, then a guard page, then a read-only page */
static uint8_t *guard, *rodata;
static char *big;     /* BIG_STRINGS of 'A', NUL every 4000 bytes, unterminated at its end */
static uint64_t *vec; /* EXEC_ARGS_MAX + 1 pointers */
/* What the fuzzer made each pooled descriptor as (it may have changed
 * since: dup3 over it, a connect): picks prefer the kind a call wants. */
enum kind { K_SOCK, K_CONN, K_LISTEN, K_EPOLL, K_FILE, K_PIPE, K_OTHER, K_ANY };
static struct {
  int fd;
  enum kind kind;
} pool[POOL_MAX];
static int npool;
static int framed; /* fds 0-2 became framed stdio */

static uint64_t rnd(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}
static uint64_t pick(uint64_t n) { return rnd() % n; }
static int chance(int percent) { return (int)pick(100) < percent; }

/* --- arguments --- */

static uint64_t any_len(void) {
  static const uint64_t v[] = {
      0,       1,          2,          3,          4,   7,     8,          12,        15,   16,
      17,      64,         127,        128,        129, 4095,  4096,       4097,      8192, 1 << 16,
      1 << 20, 0x7ffff000, 0x7fffffff, 0x80000000, ~0u, ~0ull, ~0ull >> 1, 1ull << 40};
  return chance(10) ? rnd() : v[pick(sizeof v / sizeof v[0])];
}

/* A buffer address; len says how much the caller hopes is there. */
static uint64_t any_ptr(uint64_t len) {
  uint64_t in = len < SCRATCH_PAGES * PAGE ? len : 0;
  switch (pick(14)) {
  case 0:
    return 0;
  case 1:
    return 1;
  case 2:
    return (uint64_t)guard;
  case 3:
    return (uint64_t)guard - 1 - pick(in + 1); /* straddles into the guard */
  case 4:
    return (uint64_t)rodata;
  case 5:
    return 0xffff800000000000ull;
  case 6:
    return ~0ull - pick(64);
  case 7:
    return 0x0000800000000000ull - pick(64);
  case 8:
    return rnd();
  default:
    return (uint64_t)scratch + pick(SCRATCH_PAGES * PAGE - in);
  }
}

/* Whether [p, p + n) lies in the writable scratch pages. */
static bool in_scratch(uint64_t p, uint64_t n) {
  return p >= (uint64_t)scratch && p < (uint64_t)guard && n <= (uint64_t)guard - p;
}

/* A pooled descriptor of kind k (any when none), or -1 when the pool is
 * empty. */
static int pool_pick(enum kind k) {
  int n = 0, at[POOL_MAX];
  for (int i = 0; i < npool; i++)
    if (k == K_ANY || pool[i].kind == k)
      at[n++] = i;
  if (n)
    return pool[at[pick((uint64_t)n)]].fd;
  return npool ? pool[pick((uint64_t)npool)].fd : -1;
}

/* Mostly one of kind k, sometimes another of ours, sometimes a number. */
static int fd_of(enum kind k) {
  static const int odd[] = {-1, -100, 0, 1, 2, 3, 63, 1023, 1024, 65535, 0x7fffffff};
  if (chance(75))
    return pool_pick(k);
  if (chance(60))
    return pool_pick(K_ANY);
  return chance(80) ? odd[pick(sizeof odd / sizeof odd[0])] : (int)rnd();
}

static int any_fd(void) { return fd_of(K_ANY); }

/* A descriptor safe to read or write: one of ours (all O_NONBLOCK), or one
 * that cannot block (a bad number). */
static int io_fd(enum kind k) { return chance(95) ? pool_pick(k) : -1; }

static void randomize(void *p, size_t n) {
  uint8_t *b = p;
  for (size_t i = 0; i < n; i++)
    b[i] = (uint8_t)rnd();
}

static long sc(long nr, uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, uint64_t f) {
  long r = syscall(nr, a, b, c, d, e, f);
  return r < 0 ? -errno : r;
}

/* --- the descriptor pool --- */

static void pool_drop(int fd) {
  for (int i = 0; i < npool; i++)
    if (pool[i].fd == fd) {
      pool[i] = pool[--npool];
      return;
    }
}

static void pool_add(long fd, enum kind k) {
  if (fd < 0 || fd == OUT_FD)
    return;
  fcntl((int)fd, F_SETFL, fcntl((int)fd, F_GETFL) | O_NONBLOCK);
  pool_drop((int)fd);
  if (npool == POOL_MAX) {
    int victim = pool[pick(POOL_MAX)].fd;
    pool_drop(victim);
    close(victim);
  }
  pool[npool].fd = (int)fd;
  pool[npool++].kind = k;
}

/* --- addresses and sockets --- */

static uint32_t any_port(void) {
  static const uint32_t v[] = {52, 1024, 1025, 1026, 7, 0, 0xffffffffu, 0xfffffffeu};
  return chance(90) ? v[pick(sizeof v / sizeof v[0])] : (uint32_t)rnd();
}

static uint32_t any_cid(void) {
  static const uint32_t v[] = {1, 2, 3, 3, 3, 0xffffffffu, 0, 4};
  return chance(90) ? v[pick(sizeof v / sizeof v[0])] : (uint32_t)rnd();
}

/* A sockaddr_vm in scratch, usually well-formed; its address. */
static uint64_t any_addr(uint64_t *len) {
  uint64_t at = (uint64_t)scratch + 8 * pick(64);
  struct hearth_sockaddr_vm a = {.svm_family = chance(90) ? AF_VSOCK : (uint16_t)rnd(),
                                 .svm_port = any_port(),
                                 .svm_cid = any_cid(),
                                 .svm_flags = chance(90) ? 0 : (uint8_t)rnd()};
  memcpy((void *)at, &a, sizeof a);
  *len = chance(70) ? sizeof a : any_len();
  return chance(90) ? at : any_ptr(16);
}

static void op_socket(void) {
  uint64_t type = chance(85) ? SOCK_STREAM | (rnd() & (SOCK_NONBLOCK | SOCK_CLOEXEC)) : rnd();
  pool_add(
      sc(SYS_socket, chance(90) ? AF_VSOCK : rnd() % 64, type, chance(90) ? 0 : rnd(), 0, 0, 0),
      K_SOCK);
}

static void op_bind_connect(void) {
  uint64_t len, at = any_addr(&len);
  sc(chance(50) ? SYS_bind : SYS_connect, (uint64_t)fd_of(K_SOCK), at, len, 0, 0, 0);
}

static void op_listen(void) {
  static const int64_t v[] = {0, 1, 5, 128, 129, -1, 0x7fffffff};
  sc(SYS_listen, (uint64_t)fd_of(K_SOCK), (uint64_t)v[pick(7)], 0, 0, 0, 0);
}

static void op_accept(void) {
  uint64_t lenp = any_ptr(4);
  if (chance(50) && in_scratch(lenp, 4))
    *(int32_t *)lenp = (int32_t)any_len();
  uint64_t flags = chance(80) ? rnd() & (SOCK_NONBLOCK | SOCK_CLOEXEC) : rnd();
  pool_add(sc(chance(50) ? SYS_accept4 : SYS_accept, (uint64_t)fd_of(K_LISTEN),
              chance(30) ? 0 : any_ptr(16), lenp, flags, 0, 0),
           K_CONN);
}

/* A working local connection: listener, client and server all pooled. */
static void op_pair(void) {
  int l = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int c = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct hearth_sockaddr_vm a = {.svm_family = AF_VSOCK,
                                 .svm_port = 2000 + (uint32_t)pick(8),
                                 .svm_cid = HEARTH_VMADDR_CID_ANY};
  bind(l, (void *)&a, sizeof a);
  listen(l, (int)pick(4));
  a.svm_cid = chance(50) ? 3 : 1;
  connect(c, (void *)&a, sizeof a);
  pool_add(l, K_LISTEN);
  pool_add(c, K_CONN);
  pool_add(accept4(l, NULL, NULL, SOCK_NONBLOCK), K_CONN);
  if (chance(30))
    write(c, scratch, pick(PAGE));
}

/* send/recv flags: the ones a stream socket takes, now and then others. */
static uint64_t msg_flags(void) {
  static const uint64_t v[] = {
      0,       MSG_PEEK,     MSG_WAITALL, MSG_NOSIGNAL, MSG_TRUNC, MSG_PEEK | MSG_WAITALL,
      MSG_OOB, MSG_ERRQUEUE, MSG_MORE};
  return (chance(90) ? v[pick(sizeof v / sizeof v[0])] : rnd()) | MSG_DONTWAIT;
}

static void op_sendrecv(void) {
  uint64_t len = chance(60) ? pick(3 * PAGE) : any_len(), buf = any_ptr(len), flags = msg_flags();
  uint64_t alen, addr = chance(70) ? 0 : any_addr(&alen);
  if (chance(50))
    sc(SYS_sendto, (uint64_t)io_fd(K_CONN), buf, len, flags, addr, addr ? alen : 0);
  else
    sc(SYS_recvfrom, (uint64_t)io_fd(K_CONN), buf, len, flags, addr ? addr : 0,
       addr ? any_ptr(4) : 0);
}

/* A msghdr in scratch with random iovecs; its address. */
static uint64_t any_msghdr(void) {
  uint64_t *iov = (uint64_t *)(scratch + 4 * PAGE);
  size_t n = pick(16) == 0 ? 1024 : pick(40);
  for (size_t i = 0; i < n && (uint8_t *)(iov + 2 * i + 2) <= scratch + 12 * PAGE; i++) {
    uint64_t len = chance(60) ? pick(5000) : any_len();
    iov[2 * i] = any_ptr(len);
    iov[2 * i + 1] = len;
  }
  uint64_t *m = (uint64_t *)(scratch + 3 * PAGE);
  uint64_t alen;
  m[0] = chance(70) ? 0 : any_addr(&alen);
  m[1] = chance(70) ? 16 : any_len();
  m[2] = chance(90) ? (uint64_t)iov : any_ptr(16);
  static const uint64_t counts[] = {0, 1, 2, 3, 16, 39, 1024, 1025, 0x7fffffff, ~0ull};
  m[3] = chance(70) ? n : counts[pick(10)];
  m[4] = chance(70) ? 0 : any_ptr(64);
  m[5] = chance(70) ? 0 : any_len();
  m[6] = rnd();
  return chance(95) ? (uint64_t)m : any_ptr(56);
}

static void op_msg(void) {
  sc(chance(50) ? SYS_sendmsg : SYS_recvmsg, (uint64_t)io_fd(K_CONN), any_msghdr(), msg_flags(), 0,
     0, 0);
}

static void op_sockopt(void) {
  static const uint64_t sol[] = {2, 3, 4, 7, 8, 9, 13, 15, 20, 21, 30, 38, 39, 66, 67, 1, 40};
  static const uint64_t vsk[] = {0, 1, 2, 6, 8, 3, 4};
  bool at_socket = chance(50);
  uint64_t level = chance(90) ? (at_socket ? SOL_SOCKET : AF_VSOCK) : rnd();
  uint64_t name =
      chance(90) ? (at_socket ? sol[pick(sizeof sol / sizeof sol[0])] : vsk[pick(7)]) : rnd();
  uint64_t lenp = (uint64_t)scratch + 8 * pick(64), len = chance(70) ? 4 * pick(6) : any_len();
  uint64_t val = any_ptr(len < 64 ? len : 64);
  if (in_scratch(val, 16) && chance(50))
    memset((void *)val, 0, 16); /* zero timeouts and sizes: nothing made to wait */
  if (chance(50)) {
    *(int32_t *)lenp = (int32_t)len;
    sc(SYS_getsockopt, (uint64_t)fd_of(K_CONN), level, name, val, chance(90) ? lenp : any_ptr(4),
       0);
  } else {
    sc(SYS_setsockopt, (uint64_t)fd_of(K_SOCK), level, name, val, len, 0);
  }
}

static void op_names(void) {
  uint64_t lenp = (uint64_t)scratch + 8 * pick(64);
  *(int32_t *)lenp = (int32_t)any_len();
  sc(chance(50) ? SYS_getsockname : SYS_getpeername, (uint64_t)fd_of(K_CONN), any_ptr(16),
     chance(80) ? lenp : any_ptr(4), 0, 0, 0);
  if (chance(20))
    sc(SYS_shutdown, (uint64_t)fd_of(K_CONN), chance(80) ? pick(3) : rnd(), 0, 0, 0, 0);
}

static void op_ioctl(void) {
  static const uint64_t cmds[] = {FIONREAD, 0x5411 /* TIOCOUTQ */, FIONBIO, FIOCLEX,
                                  HEARTH_IOC_FRAME_STDIO};
  uint64_t cmd = chance(90) ? cmds[pick(5)] : rnd();
  uint64_t arg = any_ptr(32);
  if (cmd == FIONBIO) { /* never back to blocking: 1, or a pointer that faults */
    arg = chance(80) ? (uint64_t)scratch : (uint64_t)guard;
    if (arg == (uint64_t)scratch)
      *(int *)arg = 1;
  }
  if (cmd == HEARTH_IOC_FRAME_STDIO && in_scratch(arg, 32)) {
    uint64_t req[4] = {any_len(), any_len(), chance(80) ? 0 : rnd(), 0};
    memcpy((void *)arg, req, sizeof req);
  }
  int fd = fd_of(K_CONN);
  long r = sc(SYS_ioctl, (uint64_t)fd, cmd, arg, 0, 0, 0);
  if (cmd == HEARTH_IOC_FRAME_STDIO && r == 0) {
    framed = 1; /* fds 0-2 are the invocation now: into the pool, non-blocking */
    for (int i = 0; i < 3; i++)
      pool_add(i, K_PIPE);
  }
}

/* --- epoll --- */

static void op_epoll_create(void) {
  pool_add(chance(50)
               ? sc(SYS_epoll_create1, chance(80) ? rnd() & EPOLL_CLOEXEC : rnd(), 0, 0, 0, 0, 0)
               : sc(SYS_epoll_create, chance(80) ? 1 + pick(10) : rnd(), 0, 0, 0, 0, 0),
           K_EPOLL);
}

static void op_epoll_ctl(void) {
  uint64_t ev = chance(80) ? (uint64_t)scratch + 12 * pick(64) : any_ptr(12);
  if (in_scratch(ev, 12)) { /* EPOLLIN..RDHUP, now and then ET, ONESHOT, WAKEUP, EXCLUSIVE */
    uint32_t e = (uint32_t)(rnd() & 0x203f);
    if (chance(30))
      e |= (uint32_t)(rnd() & 0xf0000000u);
    *(uint32_t *)ev = chance(95) ? e : (uint32_t)rnd();
  }
  uint64_t op = chance(95) ? 1 + pick(3) : rnd();
  sc(SYS_epoll_ctl, (uint64_t)fd_of(K_EPOLL), op,
     (uint64_t)(chance(20) ? fd_of(K_EPOLL) : any_fd()), ev, 0, 0);
}

static void op_epoll_wait(void) {
  static const int64_t maxes[] = {1, 2, 3, 64, 0, -1, 0x7fffffff, 0x15555555, 0x15555556};
  int64_t max = maxes[pick(9)];
  uint64_t len = max > 0 && max < 64 ? (uint64_t)max * 12 : 64 * 12;
  uint64_t events = chance(70) ? (uint64_t)scratch + pick(PAGE) : any_ptr(len);
  uint64_t mask = chance(50) ? 0 : any_ptr(8), masklen = chance(80) ? 8 : any_len();
  uint64_t *ts = (uint64_t *)(scratch + 2 * PAGE);
  ts[0] = 0;
  ts[1] = chance(90) ? 0 : rnd(); /* an invalid nanosecond count is refused */
  switch (pick(3)) {
  case 0:
    sc(SYS_epoll_wait, (uint64_t)fd_of(K_EPOLL), events, (uint64_t)max, 0, 0, 0);
    break;
  case 1:
    sc(SYS_epoll_pwait, (uint64_t)fd_of(K_EPOLL), events, (uint64_t)max, 0, mask, masklen);
    break;
  default:
    sc(SYS_epoll_pwait2, (uint64_t)fd_of(K_EPOLL), events, (uint64_t)max,
       chance(90) ? (uint64_t)ts : (uint64_t)guard, mask, masklen);
  }
}

/* --- files, links, exec --- */

static const char *const names[] = {"/tmp/f0", "/tmp/f1", "/tmp/d0",    "/tmp/d0/f2", "/tmp/l0",
                                    "/tmp/l1", "/tmp/l2", "/tmp/d0/l3", "/tmp/nope/x"};
#define NNAMES (sizeof names / sizeof names[0])

static const char *any_target(void) {
  static char long_target[4100];
  static const char *const t[] = {"/tmp/f0",     "f1",           "../tmp/f0", "/tmp/l1",
                                  "l0",          "l2",           "/",         "/..",
                                  "../../../..", "/etc/passwd",  "/dev/zero", "/proc/self/fd/3",
                                  "d0/../f0",    "/tmp/d0/l3/x", ".",         "./l0/"};
  if (chance(5)) { /* 4095 or 4096 bytes: the last is too long */
    size_t n = 4095 + pick(2);
    memset(long_target, 'a', n);
    long_target[n] = '\0';
    return long_target;
  }
  return t[pick(sizeof t / sizeof t[0])];
}

/* A path argument: a known name, a target-like string, or a bad pointer. */
static uint64_t any_path(void) {
  if (chance(60))
    return (uint64_t)names[pick(NNAMES)];
  if (chance(75))
    return (uint64_t)any_target();
  return any_ptr(16);
}

static void op_link(void) {
  switch (pick(6)) {
  case 0:
  case 1:
    sc(SYS_symlinkat, chance(90) ? (uint64_t)any_target() : any_ptr(8), (uint64_t)AT_FDCWD,
       any_path(), 0, 0, 0);
    break;
  case 2:
    sc(SYS_readlinkat, (uint64_t)(chance(80) ? AT_FDCWD : any_fd()), any_path(), any_ptr(256),
       any_len(), 0, 0);
    break;
  case 3:
    sc(SYS_linkat, (uint64_t)AT_FDCWD, any_path(), (uint64_t)AT_FDCWD, any_path(),
       chance(80) ? rnd() & 0x1400 : rnd(), 0);
    break;
  case 4:
    sc(chance(50) ? SYS_unlink : SYS_rmdir, any_path(), 0, 0, 0, 0, 0);
    break;
  default:
    sc(chance(50) ? SYS_mkdir : SYS_rename, any_path(), chance(50) ? 0755 : any_path(), 0, 0, 0, 0);
  }
}

static void op_open(void) {
  uint64_t flags = (chance(80) ? rnd() & (O_CREAT | O_TRUNC | O_NOFOLLOW | O_DIRECTORY | O_RDWR |
                                          O_WRONLY | O_APPEND | O_PATH | O_EXCL)
                               : rnd()) |
                   O_NONBLOCK;
  pool_add(sc(SYS_openat, (uint64_t)(chance(90) ? AT_FDCWD : any_fd()), any_path(), flags,
              chance(50) ? 0755 : rnd() & 07777, 0, 0),
           K_FILE);
}

/* A vector of pointers for execve: empty, a few strings, thousands, one
 * past the count cap, strings past the byte cap, or one running into the
 * guard page. */
static uint64_t any_vector(void) {
  if (chance(10))
    return chance(50) ? 0 : any_ptr(8);
  size_t n = chance(80) ? pick(8) : chance(50) ? 65536 + pick(3) : 600 + pick(100);
  for (size_t i = 0; i < n; i++) {
    uint64_t p = (uint64_t) "x";
    if (chance(3))
      p = (uint64_t)big + 4000 * pick(BIG_STRINGS / 4000); /* 3999 bytes */
    else if (chance(1))
      p = any_ptr(1);
    vec[i] = p;
  }
  if (n > 0 && chance(5))
    vec[n - 1] = (uint64_t)big + BIG_STRINGS - pick(200) - 1; /* runs into the guard */
  vec[n] = chance(98) ? 0 : (uint64_t)guard;
  return (uint64_t)vec;
}

static void op_exec(void) {
  static const char *const paths[] = {
      "/tmp/f0", "/tmp/f1",   "/tmp/d0",         "/tmp/l0",      "/tmp/l1", "/tmp/l2",   "/tmp",
      "/",       "/dev/null", "/proc/self/fd/3", "/nonexistent", "",        "/tmp/d0/l3"};
  uint64_t path = chance(90) ? (uint64_t)paths[pick(sizeof paths / sizeof paths[0])] : any_ptr(8);
  long r = sc(SYS_execve, path, any_vector(), any_vector(), 0, 0, 0);
  if (r >= 0) { /* every path is something the VMM must refuse to run */
    dprintf(OUT_FD, "vmfuzz: execve succeeded\n");
    _exit(3);
  }
}

static void op_files(void) {
  int f = open(names[pick(2)], O_RDWR | O_CREAT | O_NONBLOCK, 0644);
  if (f >= 0) {
    write(f, scratch, pick(3 * PAGE));
    fchmod(f, chance(50) ? 0755 : 0644);
    pool_add(f, K_FILE);
  }
  if (chance(30)) {
    int p[2];
    if (pipe2(p, O_NONBLOCK) == 0) {
      pool_add(p[0], K_PIPE);
      pool_add(p[1], K_PIPE);
    }
  }
}

/* --- data through any descriptor --- */

static void op_rw(void) {
  uint64_t len = chance(70) ? pick(3 * PAGE) : any_len(), buf = any_ptr(len);
  int fd = io_fd(chance(50) ? K_CONN : K_ANY);
  switch (pick(4)) {
  case 0:
    sc(SYS_read, (uint64_t)fd, buf, len, 0, 0, 0);
    break;
  case 1:
    sc(SYS_write, (uint64_t)fd, buf, len, 0, 0, 0);
    break;
  default: {
    uint64_t *m = (uint64_t *)any_msghdr();
    if (in_scratch((uint64_t)m, 32))
      sc(pick(2) ? SYS_readv : SYS_writev, (uint64_t)fd, m[2], m[3], 0, 0, 0);
  }
  }
}

/* Not the console (fds 0-2 until framed): writes to copies would flood it. */
static int dup_source(void) {
  int fd = any_fd();
  return fd >= 0 && fd <= 2 && !framed ? -1 : fd;
}

static void op_fds(void) {
  switch (pick(4)) {
  case 0:
  case 1: {
    int fd = any_fd();
    if (fd != OUT_FD && sc(SYS_close, (uint64_t)fd, 0, 0, 0, 0, 0) == 0)
      pool_drop(fd);
    break;
  }
  case 2:
    pool_add(sc(SYS_dup, (uint64_t)dup_source(), 0, 0, 0, 0, 0), K_OTHER);
    break;
  default:
    pool_add(
        sc(SYS_dup3, (uint64_t)dup_source(), 3 + pick(60), chance(50) ? O_CLOEXEC : 0, 0, 0, 0),
        K_OTHER);
  }
}

static void op_poll(void) {
  uint64_t *p = (uint64_t *)(scratch + 5 * PAGE);
  size_t n = pick(8);
  for (size_t i = 0; i < n; i++)
    p[i] = (uint32_t)any_fd() | (rnd() & 0xffff) << 32;
  uint64_t *ts = (uint64_t *)(scratch + 2 * PAGE);
  ts[0] = ts[1] = 0;
  sc(SYS_ppoll, chance(95) ? (uint64_t)p : any_ptr(8), chance(95) ? n : any_len(), (uint64_t)ts, 0,
     0, 0);
}

/* A blocking write to the host peer at CID 2 port 7 (the driver's, which
 * reads a little and hangs up): write(2)'s loop that waits until every
 * byte is taken, through buffers that may run into a guard page. Without
 * a peer the connect fails and nothing blocks. */
static void op_blocking_write(void) {
  int s = socket(AF_VSOCK, SOCK_STREAM, 0);
  struct hearth_sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_port = 7, .svm_cid = 2};
  if (s >= 0 && connect(s, (void *)&a, sizeof a) == 0) {
    uint64_t len = 1 + pick(chance(50) ? PAGE : BIG_STRINGS);
    uint64_t at = (uint64_t)big + BIG_STRINGS - len + (chance(20) ? pick(64) : 0);
    if (chance(50)) {
      sc(SYS_write, (uint64_t)s, at, len, 0, 0, 0);
    } else {
      uint64_t iov[8][2], n = 1 + pick(8);
      for (uint64_t i = 0; i < n; i++) {
        iov[i][0] = i == n - 1 ? at : (uint64_t)big + pick(PAGE);
        iov[i][1] = i == n - 1 ? len : pick(2 * PAGE);
      }
      sc(SYS_writev, (uint64_t)s, (uint64_t)iov, n, 0, 0, 0);
    }
  }
  if (s >= 0)
    close(s);
}

/* --- spin watch (mode "spin" only: it measures time, so it reports and
 * never fails a run) --- */

static bool spin_mode;

static double clock_s(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A 10 ms wait on some of our descriptors that finds nothing must cost the
 * VMM (whose thread's CPU time CLOCK_PROCESS_CPUTIME_ID reads) next to no
 * CPU: a wait that spins instead of sleeping is reported. */
static void op_wait_spin(void) {
  static const short evs[] = {POLLIN, POLLOUT, POLLIN | POLLOUT, 0, POLLRDHUP, POLLPRI};
  if (!spin_mode)
    return;
  struct pollfd p[4];
  int n = 1 + (int)pick(4);
  for (int i = 0; i < n; i++)
    p[i] = (struct pollfd){.fd = pool_pick(K_ANY), .events = evs[pick(6)]};
  struct epoll_event ev[8];
  bool use_epoll = chance(50);
  int ep = use_epoll ? pool_pick(K_EPOLL) : -1;
  double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
  int r = use_epoll ? epoll_wait(ep, ev, 8, 10) : poll(p, (nfds_t)n, 10);
  double wall = clock_s(CLOCK_MONOTONIC) - w0, cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
  if (r == 0 && wall > 0.005 && cpu > 0.5 * wall) {
    dprintf(OUT_FD, "vmfuzz: SPIN %s cpu %.3f of %.3f s:", use_epoll ? "epoll_wait" : "poll", cpu,
            wall);
    for (int i = 0; !use_epoll && i < n; i++)
      dprintf(OUT_FD, " fd %d events %#x", p[i].fd, (unsigned)p[i].events);
    dprintf(OUT_FD, "\n");
  }
}

/* --- the run --- */

typedef void op_fn(void);
static op_fn *const ops[] = {
    op_socket,        op_socket,     op_bind_connect, op_bind_connect, op_listen,    op_accept,
    op_pair,          op_pair,       op_sendrecv,     op_sendrecv,     op_msg,       op_msg,
    op_sockopt,       op_names,      op_ioctl,        op_epoll_create, op_epoll_ctl, op_epoll_ctl,
    op_epoll_wait,    op_epoll_wait, op_link,         op_link,         op_open,      op_exec,
    op_files,         op_rw,         op_rw,           op_fds,          op_poll,      op_wait_spin,
    op_blocking_write};
#define NOPS (sizeof ops / sizeof ops[0])

static void setup_memory(void) {
  uint8_t *m = mmap(NULL, (SCRATCH_PAGES + 2) * PAGE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char *b =
      mmap(NULL, BIG_STRINGS + PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  vec = calloc(EXEC_ARGS_MAX + 1, sizeof *vec);
  if (m == MAP_FAILED || b == MAP_FAILED || !vec) {
    dprintf(OUT_FD, "vmfuzz: out of memory\n");
    _exit(2);
  }
  scratch = m;
  guard = m + SCRATCH_PAGES * PAGE;
  rodata = guard + PAGE;
  randomize(scratch, SCRATCH_PAGES * PAGE);
  mprotect(guard, PAGE, PROT_NONE);
  mprotect(rodata, PAGE, PROT_READ);
  big = b;
  memset(big, 'A', BIG_STRINGS);
  for (size_t i = 3999; i < BIG_STRINGS; i += 4000)
    big[i] = '\0';
  mprotect(big + BIG_STRINGS, PAGE, PROT_NONE);
}

/* Execs this program again to go on with what is left of the run. */
static void exec_self(uint64_t seed, long left) {
  char s[32], n[32];
  snprintf(s, sizeof s, "%llu", (unsigned long long)seed);
  snprintf(n, sizeof n, "%ld", left);
  char *argv[] = {"/vmfuzz", spin_mode ? "spinchild" : "child", s, n, NULL};
  char *envp[] = {"VMFUZZ=1", NULL};
  execve("/vmfuzz", argv, envp);
  dprintf(OUT_FD, "vmfuzz: exec of itself failed: %s\n", strerror(errno));
  _exit(4);
}

int main(int argc, char **argv) {
  if (argc != 4 || (strcmp(argv[1], "run") && strcmp(argv[1], "spin") && strcmp(argv[1], "child") &&
                    strcmp(argv[1], "spinchild"))) {
    fprintf(stderr, "usage: vmfuzz run|spin|child|spinchild SEED ITERATIONS\n");
    return 2;
  }
  bool child = !strcmp(argv[1], "child") || !strcmp(argv[1], "spinchild");
  spin_mode = !strcmp(argv[1], "spin") || !strcmp(argv[1], "spinchild");
  uint64_t seed = strtoull(argv[2], NULL, 0);
  long iterations = strtol(argv[3], NULL, 0);
  if (!child && fcntl(1, F_DUPFD, OUT_FD) != OUT_FD)
    return 2;
  state = seed * 0x9e3779b97f4a7c15ull + (child ? 17 : 1);
  if (!state)
    state = 1;
  signal(SIGPIPE, SIG_IGN);
  setup_memory();
  long exec_at = child ? -1 : (long)pick((uint64_t)iterations + 1);
  for (long i = 0; i < iterations; i++) {
    if (i == exec_at)
      exec_self(seed, iterations - i);
    ops[pick(NOPS)]();
    if (chance(2))
      randomize(scratch, SCRATCH_PAGES * PAGE);
  }
  dprintf(OUT_FD, "vmfuzz ok %llu%s\n", (unsigned long long)seed, framed ? " (framed)" : "");
  return 0;
}
