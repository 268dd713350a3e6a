/* The vsock port table: explicit claims, EADDRINUSE, "any" ports from
 * 1024 up skipping taken ones and wrapping, and release by owner only. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net/ports.h"

static int a, b, c; /* owners */

static void claim_and_conflict(void **state) {
  (void)state;
  struct vsock_ports t;
  vsock_ports_init(&t);
  assert_int_equal(vsock_ports_claim(&t, 52, &a), 0);
  assert_int_equal(vsock_ports_claim(&t, 52, &b), -EADDRINUSE);
  assert_ptr_equal(vsock_ports_owner(&t, 52), &a);
  assert_null(vsock_ports_owner(&t, 53));
  assert_int_equal(vsock_ports_claim(&t, VSOCK_PORT_ANY, &b), -EINVAL);
  vsock_ports_fini(&t);
}

static void release_by_owner_only(void **state) {
  (void)state;
  struct vsock_ports t;
  vsock_ports_init(&t);
  assert_int_equal(vsock_ports_claim(&t, 7, &a), 0);
  vsock_ports_release(&t, 7, &b);
  assert_ptr_equal(vsock_ports_owner(&t, 7), &a);
  vsock_ports_release(&t, 7, &a);
  assert_null(vsock_ports_owner(&t, 7));
  assert_int_equal(vsock_ports_claim(&t, 7, &b), 0);
  vsock_ports_fini(&t);
}

static void any_skips_taken(void **state) {
  (void)state;
  struct vsock_ports t;
  vsock_ports_init(&t);
  assert_int_equal(vsock_ports_claim(&t, 1024, &a), 0);
  assert_int_equal(vsock_ports_claim(&t, 1025, &b), 0);
  assert_int_equal(vsock_ports_claim_any(&t, &c), 1026);
  assert_int_equal(vsock_ports_claim_any(&t, &c), 1027);
  assert_ptr_equal(vsock_ports_owner(&t, 1026), &c);
  vsock_ports_fini(&t);
}

static void any_wraps(void **state) {
  (void)state;
  struct vsock_ports t;
  vsock_ports_init(&t);
  t.next = VSOCK_PORT_ANY - 1;
  assert_int_equal(vsock_ports_claim_any(&t, &a), VSOCK_PORT_ANY - 1);
  assert_int_equal(vsock_ports_claim_any(&t, &b), VSOCK_EPHEMERAL_FIRST);
  vsock_ports_fini(&t);
}

static void many_distinct(void **state) {
  (void)state;
  struct vsock_ports t;
  vsock_ports_init(&t);
  for (int i = 0; i < 3000; i++) {
    long long p = vsock_ports_claim_any(&t, &a);
    assert_true(p >= VSOCK_EPHEMERAL_FIRST);
    if (i % 3 == 0) /* holes the next rounds must not hand out twice */
      vsock_ports_release(&t, (uint32_t)p, &a);
  }
  assert_int_equal(t.n, 2000);
  for (size_t i = 0; i < t.n; i++)
    for (size_t j = i + 1; j < t.n; j++)
      assert_int_not_equal(t.v[i].port, t.v[j].port);
  vsock_ports_fini(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(claim_and_conflict), cmocka_unit_test(release_by_owner_only),
      cmocka_unit_test(any_skips_taken),    cmocka_unit_test(any_wraps),
      cmocka_unit_test(many_distinct),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
