/* What an epoll wait sleeps on (fs/epoll.h's epoll_host_watch): the host fds
 * must wake the sleep when an item may have something new to report, and
 * must not be ready when nothing can be reported, or the wait spins on the
 * host CPU instead of sleeping: edge-triggered items already reported, and
 * an epoll asked (by poll() or an outer epoll) for anything but input.
 * Items here are a minimal file kind over one end of a host socketpair,
 * readable while the socket holds bytes, whose other end the test writes
 * to and closes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "fs/epoll.h"
#include "kernel/file.h"

/* --- a file over a host socket --- */

static int sock_fd(struct file *f) { return (int)(intptr_t)f->priv; }

static short sock_poll(struct file *f, short events) {
  struct pollfd p = {.fd = sock_fd(f), .events = events};
  return poll(&p, 1, 0) > 0 ? p.revents : 0;
}

static int sock_host_fd(struct file *f) { return sock_fd(f); }

static const struct file_ops sock_ops = {.poll = sock_poll, .host_fd = sock_host_fd};

struct fixture {
  struct file *ep, *item;
  int peer; /* the test's end */
  struct pollfd *fds;
  size_t cap;
};

static int setup(void **state) {
  struct fixture *fx = calloc(1, sizeof *fx);
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  fx->item = file_new(&sock_ops, O_RDWR, (void *)(intptr_t)sv[0]);
  fx->peer = sv[1];
  assert_int_equal(epoll_new(&fx->ep), 0);
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  struct fixture *fx = *state;
  file_unref(fx->ep);
  close(sock_fd(fx->item));
  file_unref(fx->item);
  if (fx->peer >= 0)
    close(fx->peer);
  free(fx->fds);
  free(fx);
  return 0;
}

static void add(struct fixture *fx, struct file *ep, struct file *target, uint32_t events) {
  struct epoll_item_event ev = {.events = events, .data = 1};
  assert_int_equal(epoll_ctl_file(ep, EPOLL_CTL_ADD, 5, target, &ev), 0);
}

static int ignore(void *ctx, const struct epoll_item_event *ev) {
  (void)ctx;
  (void)ev;
  return 0;
}

/* A wait's look: how many items it reports. */
static int look(struct file *ep) { return epoll_report(ep, 8, ignore, NULL); }

/* Whether sleeping on ep's host fds would end at once. */
static bool watch_ready(struct fixture *fx, struct file *ep) {
  long n = epoll_host_watch(ep, &fx->fds, &fx->cap);
  assert_true(n >= 0);
  return poll(fx->fds, (nfds_t)n, 0) > 0;
}

static void peer_write(struct fixture *fx) { assert_int_equal(write(fx->peer, "x", 1), 1); }

static void drain(struct fixture *fx) {
  char buf[64];
  while (read(sock_fd(fx->item), buf, sizeof buf) > 0)
    ;
}

static void level_triggered_data_wakes(void **state) {
  struct fixture *fx = *state;
  add(fx, fx->ep, fx->item, EPOLLIN);
  assert_false(watch_ready(fx, fx->ep));
  peer_write(fx);
  assert_true(watch_ready(fx, fx->ep));
  assert_int_equal(look(fx->ep), 1);
  assert_true(watch_ready(fx, fx->ep)); /* still readable: reported again */
}

/* The bug this file was written for: unread data of an edge-triggered item
 * that was reported kept the host fd ready, and the wait spun. */
static void edge_triggered_reported_data_does_not_wake(void **state) {
  struct fixture *fx = *state;
  add(fx, fx->ep, fx->item, EPOLLIN | EPOLLET);
  peer_write(fx);
  assert_true(watch_ready(fx, fx->ep));
  assert_int_equal(look(fx->ep), 1);
  assert_int_equal(look(fx->ep), 0);
  assert_false(watch_ready(fx, fx->ep));
}

static void edge_triggered_wakes_after_a_drain(void **state) {
  struct fixture *fx = *state;
  add(fx, fx->ep, fx->item, EPOLLIN | EPOLLET);
  peer_write(fx);
  assert_int_equal(look(fx->ep), 1);
  drain(fx);
  assert_int_equal(look(fx->ep), 0); /* the wait's look finds it idle */
  assert_false(watch_ready(fx, fx->ep));
  peer_write(fx);
  assert_true(watch_ready(fx, fx->ep));
  assert_int_equal(look(fx->ep), 1);
}

static void edge_triggered_hangup_wakes_once(void **state) {
  struct fixture *fx = *state;
  add(fx, fx->ep, fx->item, EPOLLIN | EPOLLET);
  peer_write(fx);
  assert_int_equal(look(fx->ep), 1);
  close(fx->peer); /* new: the hang-up */
  fx->peer = -1;
  assert_true(watch_ready(fx, fx->ep));
  assert_int_equal(look(fx->ep), 1);
  assert_int_equal(look(fx->ep), 0);
  assert_false(watch_ready(fx, fx->ep));
}

static void edge_triggered_writable_waits_for_input(void **state) {
  struct fixture *fx = *state;
  add(fx, fx->ep, fx->item, EPOLLIN | EPOLLOUT | EPOLLET);
  assert_int_equal(look(fx->ep), 1); /* writable */
  assert_false(watch_ready(fx, fx->ep));
  peer_write(fx); /* readable: new */
  assert_true(watch_ready(fx, fx->ep));
  assert_int_equal(look(fx->ep), 1);
  assert_false(watch_ready(fx, fx->ep));
}

static void edge_triggered_epoll_inside_an_epoll(void **state) {
  struct fixture *fx = *state;
  struct file *outer;
  assert_int_equal(epoll_new(&outer), 0);
  add(fx, fx->ep, fx->item, EPOLLIN); /* level-triggered inside */
  add(fx, outer, fx->ep, EPOLLIN | EPOLLET);
  peer_write(fx);
  assert_true(watch_ready(fx, outer));
  assert_int_equal(look(outer), 1);
  assert_int_equal(look(outer), 0);
  assert_false(watch_ready(fx, outer));
  file_unref(outer);
}

/* poll() on an epoll fd, or an epoll item on an epoll, asking for anything
 * but input: epoll_poll never answers it, so a ready item inside must not
 * end the sleep. */
static void epoll_asked_for_output_does_not_wake(void **state) {
  struct fixture *fx = *state;
  add(fx, fx->ep, fx->item, EPOLLIN);
  peer_write(fx);
  struct pollfd p[FILE_WATCH_MAX];
  int n = file_host_watch(fx->ep, POLLOUT | POLLPRI, p, FILE_WATCH_MAX);
  assert_int_equal(fx->ep->ops->poll(fx->ep, POLLOUT) & POLLOUT, 0);
  assert_int_equal(poll(p, (nfds_t)n, 0), 0);
  n = file_host_watch(fx->ep, POLLIN, p, FILE_WATCH_MAX);
  assert_true(poll(p, (nfds_t)n, 0) > 0);
  struct file *outer;
  assert_int_equal(epoll_new(&outer), 0);
  add(fx, outer, fx->ep, EPOLLOUT);
  assert_int_equal(look(outer), 0);
  assert_false(watch_ready(fx, outer));
  file_unref(outer);
}

static void one_shot_reported_does_not_wake(void **state) {
  struct fixture *fx = *state;
  add(fx, fx->ep, fx->item, EPOLLIN | EPOLLONESHOT);
  peer_write(fx);
  assert_int_equal(look(fx->ep), 1);
  assert_false(watch_ready(fx, fx->ep));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(level_triggered_data_wakes, setup, teardown),
      cmocka_unit_test_setup_teardown(edge_triggered_reported_data_does_not_wake, setup, teardown),
      cmocka_unit_test_setup_teardown(edge_triggered_wakes_after_a_drain, setup, teardown),
      cmocka_unit_test_setup_teardown(edge_triggered_hangup_wakes_once, setup, teardown),
      cmocka_unit_test_setup_teardown(edge_triggered_writable_waits_for_input, setup, teardown),
      cmocka_unit_test_setup_teardown(edge_triggered_epoll_inside_an_epoll, setup, teardown),
      cmocka_unit_test_setup_teardown(epoll_asked_for_output_does_not_wake, setup, teardown),
      cmocka_unit_test_setup_teardown(one_shot_reported_does_not_wake, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
