/* epoll as the guest calls it, with real guest memory: creating instances,
 * epoll_ctl's errors in Linux's order, level-triggered, edge-triggered and
 * one-shot items over pipes, maxevents and its round robin, items whose
 * description was closed (dropped at once) or lives on in a dup,
 * timeouts, sleeping on a host fd until the host writes, a stop ending a
 * wait, poll() on an epoll fd, nesting and its limits, the watch cap, and
 * the temporary signal masks of epoll_pwait and ppoll. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fs/epoll.h"
#include "fs/vfs.h"
#include "fs_test.h"
#include "kernel/fdtable.h"
#include "kernel/file.h"
#include "kernel/sigstate.h"
#include "kernel/syscalls.h"
#include "mem/gmem.h"
#include "mem/layout.h"
#include "mem/uaccess.h"
#include "vm.h"

#define BASE 0x400000ULL
#define PAGE GUEST_PAGE_SIZE
#define RW_PAGES 16
#define HOLE (BASE + RW_PAGES * PAGE) /* unmapped */
#define EV_AT BASE                    /* the events array */
#define CTL_AT (BASE + 8 * PAGE)      /* one event for epoll_ctl */
#define MISC_AT (BASE + 9 * PAGE)     /* pipe fds, pollfds, timespecs, masks */

struct guest_event {
  uint32_t events;
  uint64_t data;
} __attribute__((packed));

struct fixture {
  struct vm vm;
};

#define CALL(fn, ...) fn(&fx->vm, (const uint64_t[6]){__VA_ARGS__})

static int setup(void **state) {
  struct fixture *fx = calloc(1, sizeof *fx);
  struct vm *vm = &fx->vm;
  assert_int_equal(gmem_init(&vm->mem, 8ULL << 20), 0);
  assert_int_equal(
      gmem_populate(&vm->mem, BASE, RW_PAGES * PAGE, GMEM_ACC_READ | GMEM_ACC_WRITE, true), 0);
  fdtable_init(&vm->fds);
  vm->vfs = fst_vfs(NULL, &vm->fds, 0, 0);
  sig_state_init(&vm->sig);
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  struct fixture *fx = *state;
  fdtable_fini(&fx->vm.fds);
  vfs_destroy(fx->vm.vfs);
  gmem_fini(&fx->vm.mem);
  free(fx);
  return 0;
}

static int new_epoll(struct fixture *fx) {
  long fd = CALL(sys_epoll_create1, 0);
  assert_true(fd >= 0);
  return (int)fd;
}

/* A pipe's two fds, made through the vfs directly. */
static void new_pipe(struct fixture *fx, int p[2]) {
  struct file *rd, *wr;
  assert_int_equal(vfs_pipe(fx->vm.vfs, 0, &rd, &wr), 0);
  p[0] = fdtable_install(&fx->vm.fds, rd, false, 0);
  p[1] = fdtable_install(&fx->vm.fds, wr, false, 0);
  assert_true(p[0] >= 0 && p[1] >= 0);
}

static struct file *fd_file(struct fixture *fx, int fd) { return fdtable_get(&fx->vm.fds, fd); }

static void pipe_put(struct fixture *fx, int fd, const char *s) {
  struct file *f = fd_file(fx, fd);
  struct iovec iov = {.iov_base = (void *)s, .iov_len = strlen(s)};
  assert_int_equal(f->ops->write(f, &iov, 1), (ssize_t)strlen(s));
}

static void pipe_drain(struct fixture *fx, int fd) {
  struct file *f = fd_file(fx, fd);
  char buf[256];
  struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
  while (f->ops->read(f, &iov, 1) > 0)
    ;
}

static long ctl(struct fixture *fx, int ep, int op, int fd, uint32_t events, uint64_t data) {
  struct guest_event ev = {.events = events, .data = data};
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, CTL_AT, &ev, sizeof ev), 0);
  return CALL(sys_epoll_ctl, (uint64_t)ep, (uint64_t)op, (uint64_t)fd, CTL_AT);
}

static long wait_ms(struct fixture *fx, int ep, int max, int ms) {
  return CALL(sys_epoll_wait, (uint64_t)ep, EV_AT, (uint64_t)max, (uint64_t)(int64_t)ms);
}

static struct guest_event event_at(struct fixture *fx, int i) {
  struct guest_event ev;
  assert_int_equal(uaccess_copy_from(&fx->vm.mem, &ev, EV_AT + (uint64_t)i * sizeof ev, sizeof ev),
                   0);
  return ev;
}

static void create_and_describe(void **state) {
  struct fixture *fx = *state;
  assert_int_equal(CALL(sys_epoll_create, 0), -EINVAL);
  assert_int_equal(CALL(sys_epoll_create, (uint64_t)-5), -EINVAL);
  assert_int_equal(CALL(sys_epoll_create1, O_NONBLOCK), -EINVAL);
  long a = CALL(sys_epoll_create, 1);
  long b = CALL(sys_epoll_create1, EPOLL_CLOEXEC);
  assert_true(a >= 0 && b >= 0);
  assert_int_equal(fdtable_get_cloexec(&fx->vm.fds, (int)a), 0);
  assert_int_equal(fdtable_get_cloexec(&fx->vm.fds, (int)b), 1);
  struct file *f = fd_file(fx, (int)a);
  assert_true(file_is_epoll(f));
  assert_int_equal(f->flags & O_ACCMODE, O_RDWR);
  struct stat st;
  assert_int_equal(f->ops->fstat(f, &st), 0);
  assert_int_equal(st.st_mode, 0600);
  assert_string_equal(f->ops->path(f), "anon_inode:[eventpoll]");
  assert_null(f->ops->read); /* read(2) on it is EINVAL */
}

static void ctl_errors_in_linux_order(void **state) {
  struct fixture *fx = *state;
  int ep = new_epoll(fx), p[2];
  new_pipe(fx, p);
  struct file *tf;
  assert_int_equal(fst_open(fx->vm.vfs, &fx->vm.fds, "/tmp/f", O_CREAT | O_RDWR, 0644, &tf), 0);
  int reg = fdtable_install(&fx->vm.fds, tf, false, 0);
  /* The event is read first: a bad pointer is EFAULT before anything. */
  assert_int_equal(CALL(sys_epoll_ctl, (uint64_t)ep, EPOLL_CTL_ADD, (uint64_t)p[0], HOLE), -EFAULT);
  assert_int_equal(CALL(sys_epoll_ctl, 999, EPOLL_CTL_ADD, (uint64_t)p[0], CTL_AT), -EBADF);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, 999, EPOLLIN, 0), -EBADF);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, reg, EPOLLIN, 0), -EPERM);
  assert_int_equal(ctl(fx, p[0], EPOLL_CTL_ADD, p[1], EPOLLIN, 0), -EINVAL); /* not an epoll */
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, ep, EPOLLIN, 0), -EINVAL);     /* itself */
  assert_int_equal(ctl(fx, ep, 7, p[0], EPOLLIN, 0), -EINVAL);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 0), -ENOENT);
  assert_int_equal(CALL(sys_epoll_ctl, (uint64_t)ep, EPOLL_CTL_DEL, (uint64_t)p[0], 0), -ENOENT);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 1), 0);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 1), -EEXIST);
  /* DEL needs no event (NULL is fine). */
  assert_int_equal(CALL(sys_epoll_ctl, (uint64_t)ep, EPOLL_CTL_DEL, (uint64_t)p[0], 0), 0);
  assert_int_equal(epoll_item_count(fd_file(fx, ep)), 0);
  /* EPOLLEXCLUSIVE: ADD only, few events, never an epoll; its item can't be MODded. */
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLPRI | EPOLLEXCLUSIVE, 0),
                   -EINVAL);
  int inner = new_epoll(fx);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, inner, EPOLLIN | EPOLLEXCLUSIVE, 0), -EINVAL);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLEXCLUSIVE, 0), 0);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 0), -EINVAL);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_MOD, p[1], EPOLLIN | EPOLLEXCLUSIVE, 0), -EINVAL);
  /* O_PATH descriptors are not descriptors here. */
  struct file *pf;
  assert_int_equal(fst_open(fx->vm.vfs, &fx->vm.fds, "/tmp", O_PATH, 0, &pf), 0);
  int path_fd = fdtable_install(&fx->vm.fds, pf, false, 0);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, path_fd, EPOLLIN, 0), -EBADF);
}

static void level_triggered_pipe(void **state) {
  struct fixture *fx = *state;
  int ep = new_epoll(fx), p[2];
  new_pipe(fx, p);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x1122334455667788ULL), 0);
  assert_int_equal(wait_ms(fx, ep, 8, 0), 0);
  pipe_put(fx, p[1], "abc");
  for (int round = 0; round < 2; round++) { /* reported as long as it stays ready */
    assert_int_equal(wait_ms(fx, ep, 8, 0), 1);
    struct guest_event ev = event_at(fx, 0);
    assert_int_equal(ev.events, EPOLLIN);
    assert_int_equal(ev.data, 0x1122334455667788ULL);
  }
  pipe_drain(fx, p[0]);
  assert_int_equal(wait_ms(fx, ep, 8, 0), 0);
  /* The write end: EPOLLOUT while there is room. */
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, p[1], EPOLLOUT, 2), 0);
  assert_int_equal(wait_ms(fx, ep, 8, 0), 1);
  assert_int_equal(event_at(fx, 0).events, EPOLLOUT);
  assert_int_equal(event_at(fx, 0).data, 2);
  /* The last writer gone (its item goes with its fd, no DEL needed): the
   * read end reports EPOLLHUP, which is always asked. */
  assert_int_equal(fdtable_close(&fx->vm.fds, p[1]), 0);
  assert_int_equal(wait_ms(fx, ep, 8, 0), 1);
  assert_int_equal(event_at(fx, 0).events, EPOLLHUP);
}

static void edge_triggered_pipe(void **state) {
  struct fixture *fx = *state;
  int ep = new_epoll(fx), p[2];
  new_pipe(fx, p);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLET, 7), 0);
  assert_int_equal(wait_ms(fx, ep, 8, 0), 0);
  pipe_put(fx, p[1], "x");
  assert_int_equal(wait_ms(fx, ep, 8, 0), 1);
  assert_int_equal(event_at(fx, 0).events, EPOLLIN);
  assert_int_equal(wait_ms(fx, ep, 8, 0), 0); /* still readable, no new edge */
  pipe_drain(fx, p[0]);
  assert_int_equal(wait_ms(fx, ep, 8, 0), 0);
  pipe_put(fx, p[1], "y");
  assert_int_equal(wait_ms(fx, ep, 8, 0), 1); /* new readiness after a look found none */
  /* MOD re-arms: what is ready now is reported again. */
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLET, 8), 0);
  assert_int_equal(wait_ms(fx, ep, 8, 0), 1);
  assert_int_equal(event_at(fx, 0).data, 8);
  /* A new kind of readiness is an edge: the writer closing adds EPOLLHUP. */
  assert_int_equal(fdtable_close(&fx->vm.fds, p[1]), 0);
  assert_int_equal(wait_ms(fx, ep, 8, 0), 1);
  assert_int_equal(event_at(fx, 0).events, EPOLLIN | EPOLLHUP);
}

static void oneshot_until_mod(void **state) {
  struct fixture *fx = *state;
  int ep = new_epoll(fx), p[2];
  new_pipe(fx, p);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLONESHOT, 1), 0);
  pipe_put(fx, p[1], "x");
  assert_int_equal(wait_ms(fx, ep, 8, 0), 1);
  assert_int_equal(wait_ms(fx, ep, 8, 0), 0); /* disabled, though still readable */
  assert_int_equal(fdtable_close(&fx->vm.fds, p[1]), 0);
  assert_int_equal(wait_ms(fx, ep, 8, 0), 0); /* not even EPOLLHUP */
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLONESHOT, 2), 0);
  assert_int_equal(wait_ms(fx, ep, 8, 0), 1);
  assert_int_equal(event_at(fx, 0).data, 2);
  assert_int_equal(wait_ms(fx, ep, 8, 0), 0);
  /* A disabled item is still registered: ADD again is EEXIST. */
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0), -EEXIST);
}

static void maxevents_limits_and_round_robin(void **state) {
  struct fixture *fx = *state;
  int ep = new_epoll(fx);
  assert_int_equal(wait_ms(fx, ep, 0, 0), -EINVAL);
  assert_int_equal(wait_ms(fx, ep, -1, 0), -EINVAL);
  assert_int_equal(wait_ms(fx, ep, (int)(INT_MAX / 12) + 1, 0), -EINVAL);
  assert_int_equal(wait_ms(fx, 999, 1, 0), -EBADF);
  int p[3][2];
  for (int i = 0; i < 3; i++) {
    new_pipe(fx, p[i]);
    assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, p[i][0], EPOLLIN, (uint64_t)i), 0);
    pipe_put(fx, p[i][1], "x");
  }
  assert_int_equal(wait_ms(fx, p[0][0], 1, 0), -EINVAL); /* not an epoll */
  int seen = 0;
  for (int k = 0; k < 3; k++) {
    assert_int_equal(wait_ms(fx, ep, 1, 0), 1);
    seen |= 1 << event_at(fx, 0).data;
  }
  assert_int_equal(seen, 7); /* one at a time, each in turn */
  assert_int_equal(wait_ms(fx, ep, 3, 0), 3);
  /* The largest maxevents Linux allows is fine. */
  assert_int_equal(wait_ms(fx, ep, (int)(INT_MAX / 12), 0), 3);
}

/* A fault on the events array delivers nothing: a one-shot item stays armed. */
static void faulting_events_array(void **state) {
  struct fixture *fx = *state;
  int ep = new_epoll(fx), p[2];
  new_pipe(fx, p);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLONESHOT, 1), 0);
  pipe_put(fx, p[1], "x");
  assert_int_equal(CALL(sys_epoll_wait, (uint64_t)ep, HOLE, 4, 0), -EFAULT);
  assert_int_equal(wait_ms(fx, ep, 8, 0), 1);
}

/* The write end's answer to a one-byte write: -EPIPE once no reader is left. */
static ssize_t pipe_try_write(struct fixture *fx, int fd) {
  struct file *f = fd_file(fx, fd);
  struct iovec iov = {.iov_base = "w", .iov_len = 1};
  return f->ops->write(f, &iov, 1);
}

/* Closing the last fd of an item's description drops the item at once, as
 * Linux does: the pipe's other end sees no reader before any epoll call,
 * and the fd can be registered again. */
static void closed_fd_drops_the_item(void **state) {
  struct fixture *fx = *state;
  int ep = new_epoll(fx), p[2];
  new_pipe(fx, p);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 1), 0);
  pipe_put(fx, p[1], "x");
  assert_int_equal(fdtable_close(&fx->vm.fds, p[0]), 0);
  struct file *wr = fd_file(fx, p[1]);
  assert_int_equal(wr->ops->poll(wr, POLLOUT) & POLLERR, POLLERR); /* no reader left */
  assert_int_equal(pipe_try_write(fx, p[1]), -EPIPE);
  assert_int_equal(epoll_item_count(fd_file(fx, ep)), 0);
  assert_int_equal(wait_ms(fx, ep, 8, 0), 0);
  int q[2];
  new_pipe(fx, q);
  assert_int_equal(q[0], p[0]); /* the same fd number, another description */
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, q[0], EPOLLIN, 2), 0);
  assert_int_equal(wait_ms(fx, ep, 8, 0), 0);
  pipe_put(fx, q[1], "y");
  assert_int_equal(wait_ms(fx, ep, 8, 0), 1);
  assert_int_equal(event_at(fx, 0).data, 2);
  /* An fd made to name another description (dup2) drops the item too. */
  assert_int_equal(fdtable_install_at(&fx->vm.fds, q[0], file_ref(wr), false), q[0]);
  assert_int_equal(epoll_item_count(fd_file(fx, ep)), 0);
  assert_int_equal(pipe_try_write(fx, q[1]), -EPIPE);
}

/* An item lives as long as its description: while a dup of its fd is
 * open it is still reported (with its own data) though its fd is closed,
 * and only the last close, or a close-on-exec, ends it. */
static void an_item_lives_as_long_as_its_description(void **state) {
  struct fixture *fx = *state;
  int ep = new_epoll(fx), p[2];
  new_pipe(fx, p);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 7), 0);
  int dup = fdtable_install(&fx->vm.fds, file_ref(fd_file(fx, p[0])), true, 0);
  assert_true(dup >= 0);
  assert_int_equal(fdtable_close(&fx->vm.fds, p[0]), 0);
  pipe_put(fx, p[1], "x");
  assert_int_equal(wait_ms(fx, ep, 8, 0), 1);
  assert_int_equal(event_at(fx, 0).data, 7);
  /* The item is keyed by its own fd: the dup's names nothing. */
  assert_int_equal(CALL(sys_epoll_ctl, (uint64_t)ep, EPOLL_CTL_DEL, (uint64_t)dup, 0), -ENOENT);
  assert_int_equal(CALL(sys_epoll_ctl, (uint64_t)ep, EPOLL_CTL_DEL, (uint64_t)p[0], 0), -EBADF);
  assert_int_equal(pipe_try_write(fx, p[1]), 1);
  fdtable_close_on_exec(&fx->vm.fds); /* the dup was close-on-exec */
  assert_int_equal(epoll_item_count(fd_file(fx, ep)), 0);
  assert_int_equal(pipe_try_write(fx, p[1]), -EPIPE);
  /* An instance closed first leaves the description it watched alone. */
  int q[2];
  new_pipe(fx, q);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, q[0], EPOLLIN, 8), 0);
  assert_int_equal(fdtable_close(&fx->vm.fds, ep), 0);
  assert_null(fd_file(fx, q[0])->observers);
  assert_int_equal(pipe_try_write(fx, q[1]), 1);
}

static void timeouts(void **state) {
  struct fixture *fx = *state;
  int ep = new_epoll(fx), p[2];
  new_pipe(fx, p);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 1), 0);
  assert_int_equal(wait_ms(fx, ep, 8, 20), 0);
  struct {
    int64_t sec, nsec;
  } ts = {0, 20 * 1000 * 1000};
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, MISC_AT, &ts, sizeof ts), 0);
  assert_int_equal(CALL(sys_epoll_pwait2, (uint64_t)ep, EV_AT, 8, MISC_AT, 0, 8), 0);
  ts.nsec = 1000 * 1000 * 1000;
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, MISC_AT, &ts, sizeof ts), 0);
  assert_int_equal(CALL(sys_epoll_pwait2, (uint64_t)ep, EV_AT, 8, MISC_AT, 0, 8), -EINVAL);
  assert_int_equal(CALL(sys_epoll_pwait2, (uint64_t)ep, EV_AT, 8, HOLE, 0, 8), -EFAULT);
  pipe_put(fx, p[1], "x");
  assert_int_equal(CALL(sys_epoll_pwait2, (uint64_t)ep, EV_AT, 8, 0, 0, 8), 1); /* NULL: none */
}

struct delayed_write {
  int fd;
  int ms;
};

static void *write_later(void *arg) {
  struct delayed_write *d = arg;
  usleep((useconds_t)d->ms * 1000);
  assert_int_equal(write(d->fd, "x", 1), 1);
  return NULL;
}

/* Nothing ready: the wait sleeps on the item's host fd until the host
 * writes, with no timeout. */
static void wait_sleeps_on_host_fds(void **state) {
  struct fixture *fx = *state;
  int sp[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
  struct file *in = vfs_host_stdio(sp[0], O_RDONLY);
  int fd = fdtable_install(&fx->vm.fds, in, false, 0);
  int ep = new_epoll(fx), p[2];
  new_pipe(fx, p); /* an item with no host fd alongside */
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 1), 0);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, fd, EPOLLIN, 2), 0);
  struct delayed_write d = {.fd = sp[1], .ms = 50};
  pthread_t t;
  pthread_create(&t, NULL, write_later, &d);
  assert_int_equal(wait_ms(fx, ep, 8, -1), 1);
  pthread_join(t, NULL);
  assert_int_equal(event_at(fx, 0).events, EPOLLIN);
  assert_int_equal(event_at(fx, 0).data, 2);
  /* poll() on the epoll fd sleeps on the same host fds. */
  char c;
  assert_int_equal(read(sp[0], &c, 1), 1);
  struct pollfd pfd = {.fd = ep, .events = POLLIN};
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, MISC_AT, &pfd, sizeof pfd), 0);
  pthread_create(&t, NULL, write_later, &d);
  assert_int_equal(CALL(sys_poll, MISC_AT, 1, (uint64_t)-1), 1);
  pthread_join(t, NULL);
  assert_int_equal(uaccess_copy_from(&fx->vm.mem, &pfd, MISC_AT, sizeof pfd), 0);
  assert_int_equal(pfd.revents, POLLIN);
  assert_int_equal(fdtable_close(&fx->vm.fds, fd), 0);
  close(sp[0]);
  close(sp[1]);
}

static struct fixture *alarm_fx;
static void on_alarm(int sig) { alarm_fx->vm.vcpu_wanted = 1; }

/* A wait nothing in the host can end lasts until the VM is stopped. */
static void stop_ends_a_wait(void **state) {
  struct fixture *fx = *state;
  int ep = new_epoll(fx), p[2];
  new_pipe(fx, p);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 1), 0);
  alarm_fx = fx;
  struct sigaction sa = {.sa_handler = on_alarm};
  sigaction(SIGALRM, &sa, NULL);
  alarm(1);
  assert_int_equal(wait_ms(fx, ep, 8, -1), -EINTR);
  assert_int_equal(wait_ms(fx, ep, 8, -1), -EINTR); /* once stopped, at once */
  signal(SIGALRM, SIG_DFL);
}

static void poll_on_an_epoll_fd(void **state) {
  struct fixture *fx = *state;
  int ep = new_epoll(fx), p[2];
  new_pipe(fx, p);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLET, 1), 0);
  struct pollfd pfd = {.fd = ep, .events = POLLIN};
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, MISC_AT, &pfd, sizeof pfd), 0);
  assert_int_equal(CALL(sys_poll, MISC_AT, 1, 0), 0);
  pipe_put(fx, p[1], "x");
  for (int i = 0; i < 2; i++) { /* polling consumes nothing, not even an edge */
    assert_int_equal(CALL(sys_poll, MISC_AT, 1, 0), 1);
    assert_int_equal(uaccess_copy_from(&fx->vm.mem, &pfd, MISC_AT, sizeof pfd), 0);
    assert_int_equal(pfd.revents, POLLIN);
  }
  assert_int_equal(wait_ms(fx, ep, 8, 0), 1);
  assert_int_equal(CALL(sys_poll, MISC_AT, 1, 0), 0); /* the edge was reported */
}

static void nesting_one_level(void **state) {
  struct fixture *fx = *state;
  int outer = new_epoll(fx), inner = new_epoll(fx), third = new_epoll(fx), p[2];
  new_pipe(fx, p);
  assert_int_equal(ctl(fx, inner, EPOLL_CTL_ADD, p[0], EPOLLIN, 1), 0);
  assert_int_equal(ctl(fx, outer, EPOLL_CTL_ADD, inner, EPOLLIN, 2), 0);
  assert_int_equal(wait_ms(fx, outer, 8, 0), 0);
  pipe_put(fx, p[1], "x");
  assert_int_equal(wait_ms(fx, outer, 8, 0), 1);
  assert_int_equal(event_at(fx, 0).events, EPOLLIN);
  assert_int_equal(event_at(fx, 0).data, 2);
  /* A loop, and a second level either way, are ELOOP. */
  assert_int_equal(ctl(fx, inner, EPOLL_CTL_ADD, outer, EPOLLIN, 0), -ELOOP);
  assert_int_equal(ctl(fx, third, EPOLL_CTL_ADD, outer, EPOLLIN, 0), -ELOOP);
  assert_int_equal(ctl(fx, inner, EPOLL_CTL_ADD, third, EPOLLIN, 0), -ELOOP);
  /* Once the inner one leaves, the outer one may go inside another. */
  assert_int_equal(CALL(sys_epoll_ctl, (uint64_t)outer, EPOLL_CTL_DEL, (uint64_t)inner, 0), 0);
  assert_int_equal(ctl(fx, third, EPOLL_CTL_ADD, outer, EPOLLIN, 0), 0);
  /* Closing every fd of an epoll still inside another releases it later. */
  assert_int_equal(fdtable_close(&fx->vm.fds, outer), 0);
  assert_int_equal(epoll_item_count(fd_file(fx, third)), 0);
}

/* Items of all instances together stop at EPOLL_MAX_WATCHES (-ENOSPC). */
static void watch_cap(void **state) {
  struct fixture *fx = *state;
  enum { PIPES = 450, EPOLLS = 74 };
  static int fds[2 * PIPES], eps[EPOLLS];
  for (int i = 0; i < PIPES; i++)
    new_pipe(fx, &fds[2 * i]);
  for (int e = 0; e < EPOLLS; e++)
    eps[e] = new_epoll(fx);
  long added = 0, refused = 0;
  for (int e = 0; e < EPOLLS; e++)
    for (int i = 0; i < 2 * PIPES; i++) {
      long r = ctl(fx, eps[e], EPOLL_CTL_ADD, fds[i], EPOLLIN | EPOLLOUT, 0);
      added += r == 0;
      refused += r == -ENOSPC;
    }
  assert_int_equal(added, EPOLL_MAX_WATCHES);
  assert_int_equal(added + refused, EPOLLS * 2 * PIPES);
  /* Closing an instance gives its items back. */
  assert_int_equal(fdtable_close(&fx->vm.fds, eps[0]), 0);
  assert_int_equal(ctl(fx, eps[EPOLLS - 1], EPOLL_CTL_ADD, fds[2 * PIPES - 1], EPOLLIN, 0), 0);
}

static void set_mask(struct fixture *fx, uint64_t gva, uint64_t mask) {
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, gva, &mask, sizeof mask), 0);
}

/* SIGUSR1 blocked and pending, with a handler: a temporary mask that lets
 * it through ends the wait with EINTR and makes it deliverable. */
static void pending_usr1(struct fixture *fx) {
  struct guest_sigaction act = {.handler = 0x401000};
  assert_int_equal(sig_action_change(&fx->vm.sig, SIGUSR1, &act, NULL), 0);
  fx->vm.sig.blocked = sig_bit(SIGUSR1);
  struct sig_info info = {.signo = SIGUSR1};
  assert_int_equal(sig_enqueue(&fx->vm.sig, &info, SIG_QUEUE_MAX), 0);
}

static void epoll_pwait_signal_mask(void **state) {
  struct fixture *fx = *state;
  int ep = new_epoll(fx), p[2];
  new_pipe(fx, p);
  assert_int_equal(ctl(fx, ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 1), 0);
  pending_usr1(fx);
  set_mask(fx, MISC_AT, sig_bit(SIGUSR1));
  assert_int_equal(CALL(sys_epoll_pwait, (uint64_t)ep, EV_AT, 8, 10, MISC_AT, 4), -EINVAL);
  assert_int_equal(CALL(sys_epoll_pwait, (uint64_t)ep, EV_AT, 8, 10, HOLE, 8), -EFAULT);
  /* A mask that keeps it blocked: an ordinary timed-out wait, after which
   * the caller's own mask is back. */
  set_mask(fx, MISC_AT, sig_bit(SIGUSR1) | sig_bit(SIGHUP));
  assert_int_equal(CALL(sys_epoll_pwait, (uint64_t)ep, EV_AT, 8, 10, MISC_AT, 8), 0);
  assert_int_equal(fx->vm.sig.blocked, sig_bit(SIGUSR1));
  assert_false(fx->vm.sig.restore_mask);
  /* Ready events come first; a zero timeout returns before signals count. */
  set_mask(fx, MISC_AT, sig_bit(SIGHUP));
  assert_int_equal(CALL(sys_epoll_pwait, (uint64_t)ep, EV_AT, 8, 0, MISC_AT, 8), 0);
  pipe_put(fx, p[1], "x");
  assert_int_equal(CALL(sys_epoll_pwait, (uint64_t)ep, EV_AT, 8, (uint64_t)-1, MISC_AT, 8), 1);
  assert_int_equal(fx->vm.sig.blocked, sig_bit(SIGUSR1));
  pipe_drain(fx, p[0]);
  /* -EINTR: the temporary mask stays in force for the delivery as the call
   * returns, the caller's saved for the handler's frame. */
  assert_int_equal(CALL(sys_epoll_pwait, (uint64_t)ep, EV_AT, 8, (uint64_t)-1, MISC_AT, 8), -EINTR);
  assert_int_equal(fx->vm.sig.blocked, sig_bit(SIGHUP));
  assert_true(fx->vm.sig.restore_mask);
  assert_int_equal(fx->vm.sig.saved_mask, sig_bit(SIGUSR1));
  assert_true(fx->vm.sig.pending & sig_bit(SIGUSR1));
  fx->vm.sig.restore_mask = false; /* what the frame (not built here) does */
  /* epoll_pwait2 takes the same mask. */
  pending_usr1(fx);
  assert_int_equal(CALL(sys_epoll_pwait2, (uint64_t)ep, EV_AT, 8, 0, MISC_AT, 8), -EINTR);
}

static void ppoll_signal_mask(void **state) {
  struct fixture *fx = *state;
  int p[2];
  new_pipe(fx, p);
  struct pollfd pfd = {.fd = p[0], .events = POLLIN};
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, MISC_AT, &pfd, sizeof pfd), 0);
  struct {
    int64_t sec, nsec;
  } zero = {0, 0};
  assert_int_equal(uaccess_copy_to(&fx->vm.mem, MISC_AT + 64, &zero, sizeof zero), 0);
  pending_usr1(fx);
  set_mask(fx, MISC_AT + 128, 0);
  /* Unlike epoll, poll looks at signals even with a zero timeout. */
  assert_int_equal(CALL(sys_ppoll, MISC_AT, 1, MISC_AT + 64, MISC_AT + 128, 8), -EINTR);
  assert_int_equal(fx->vm.sig.blocked, 0);
  assert_true(fx->vm.sig.restore_mask);
  assert_int_equal(fx->vm.sig.saved_mask, sig_bit(SIGUSR1));
  fx->vm.sig.restore_mask = false;
  /* A pending signal that would be ignored restarts the call unseen: it
   * is thrown away and the call goes on (here: times out). */
  sig_discard(&fx->vm.sig, SIGUSR1); /* as if delivered */
  fx->vm.sig.blocked = sig_bit(SIGURG);
  struct sig_info urg = {.signo = SIGURG};
  assert_int_equal(sig_enqueue(&fx->vm.sig, &urg, SIG_QUEUE_MAX), 0);
  assert_int_equal(CALL(sys_ppoll, MISC_AT, 1, MISC_AT + 64, MISC_AT + 128, 8), 0);
  assert_false(fx->vm.sig.pending & sig_bit(SIGURG));
  assert_int_equal(fx->vm.sig.blocked, sig_bit(SIGURG));
  assert_false(fx->vm.sig.restore_mask);
  /* Errors put the caller's mask back too. */
  assert_int_equal(CALL(sys_ppoll, HOLE, 1, MISC_AT + 64, MISC_AT + 128, 8), -EFAULT);
  assert_int_equal(fx->vm.sig.blocked, sig_bit(SIGURG));
  assert_false(fx->vm.sig.restore_mask);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(create_and_describe, setup, teardown),
      cmocka_unit_test_setup_teardown(ctl_errors_in_linux_order, setup, teardown),
      cmocka_unit_test_setup_teardown(level_triggered_pipe, setup, teardown),
      cmocka_unit_test_setup_teardown(edge_triggered_pipe, setup, teardown),
      cmocka_unit_test_setup_teardown(oneshot_until_mod, setup, teardown),
      cmocka_unit_test_setup_teardown(maxevents_limits_and_round_robin, setup, teardown),
      cmocka_unit_test_setup_teardown(faulting_events_array, setup, teardown),
      cmocka_unit_test_setup_teardown(closed_fd_drops_the_item, setup, teardown),
      cmocka_unit_test_setup_teardown(an_item_lives_as_long_as_its_description, setup, teardown),
      cmocka_unit_test_setup_teardown(timeouts, setup, teardown),
      cmocka_unit_test_setup_teardown(wait_sleeps_on_host_fds, setup, teardown),
      cmocka_unit_test_setup_teardown(stop_ends_a_wait, setup, teardown),
      cmocka_unit_test_setup_teardown(poll_on_an_epoll_fd, setup, teardown),
      cmocka_unit_test_setup_teardown(nesting_one_level, setup, teardown),
      cmocka_unit_test_setup_teardown(watch_cap, setup, teardown),
      cmocka_unit_test_setup_teardown(epoll_pwait_signal_mask, setup, teardown),
      cmocka_unit_test_setup_teardown(ppoll_signal_mask, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
