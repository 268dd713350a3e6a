/* The "CONNECT <port>\n" parser: whole lines, lines in pieces, nothing
 * taken past the newline, and every malformed line refused as early as its
 * bytes show it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net/handshake.h"

static long long feed_all(struct vsock_handshake *h, const char *s, size_t *used) {
  return vsock_handshake_feed(h, s, strlen(s), used);
}

static void whole_line(void **state) {
  (void)state;
  struct vsock_handshake h = {0};
  size_t used;
  assert_int_equal(feed_all(&h, "CONNECT 52\n", &used), 52);
  assert_int_equal(used, 11);
}

static void stops_at_newline(void **state) {
  (void)state;
  struct vsock_handshake h = {0};
  size_t used;
  assert_int_equal(feed_all(&h, "CONNECT 1024\npayload", &used), 1024);
  assert_int_equal(used, 13); /* "payload" is the guest's */
}

static void byte_at_a_time(void **state) {
  (void)state;
  struct vsock_handshake h = {0};
  const char *line = "CONNECT 4294967295\n";
  size_t used;
  for (size_t i = 0; i + 1 < strlen(line); i++) {
    assert_int_equal(vsock_handshake_feed(&h, line + i, 1, &used), -EAGAIN);
    assert_int_equal(used, 1);
  }
  assert_int_equal(vsock_handshake_feed(&h, "\n", 1, &used), 4294967295LL);
}

static void refuses_bad_prefix_early(void **state) {
  (void)state;
  struct vsock_handshake h = {0};
  size_t used;
  assert_int_equal(feed_all(&h, "CONN", &used), -EAGAIN);
  assert_int_equal(feed_all(&h, "X", &used), -EPROTO);
  struct vsock_handshake g = {0};
  assert_int_equal(feed_all(&g, "GET / HTTP/1.1\r\n", &used), -EPROTO);
  assert_true(used <= 1); /* refused at the first wrong byte */
}

static void refuses_bad_ports(void **state) {
  (void)state;
  static const char *const bad[] = {
      "CONNECT \n",           /* no digits */
      "CONNECT 12a\n",        /* not a digit */
      "CONNECT -1\n",         /* no sign */
      "CONNECT  5\n",         /* one space only */
      "CONNECT 5\r\n",        /* no CR */
      "CONNECT 4294967296\n", /* past 32 bits */
      "CONNECT 12345678901\n" /* too many digits */,
      "connect 5\n", /* case matters */
      "\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct vsock_handshake h = {0};
    size_t used;
    assert_int_equal(feed_all(&h, bad[i], &used), -EPROTO);
  }
}

static void leading_zeros_are_digits(void **state) {
  (void)state;
  struct vsock_handshake h = {0};
  size_t used;
  assert_int_equal(feed_all(&h, "CONNECT 0000000052\n", &used), 52);
}

static void room_shrinks(void **state) {
  (void)state;
  struct vsock_handshake h = {0};
  size_t used;
  assert_int_equal(vsock_handshake_room(&h), VSOCK_HANDSHAKE_MAX);
  assert_int_equal(feed_all(&h, "CONNECT 1", &used), -EAGAIN);
  assert_int_equal(vsock_handshake_room(&h), VSOCK_HANDSHAKE_MAX - 9);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(whole_line),        cmocka_unit_test(stops_at_newline),
      cmocka_unit_test(byte_at_a_time),    cmocka_unit_test(refuses_bad_prefix_early),
      cmocka_unit_test(refuses_bad_ports), cmocka_unit_test(leading_zeros_are_digits),
      cmocka_unit_test(room_shrinks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
