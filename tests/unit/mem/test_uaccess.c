/* Unit tests of the checked guest-memory accessor and the page tables
 * behind it: every way a guest pointer can be bad must be -EFAULT. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "mem/gmem.h"
#include "mem/layout.h"
#include "mem/uaccess.h"

#define BASE 0x400000ULL
#define PAGE GUEST_PAGE_SIZE

static int setup(void **state) {
  static struct gmem m;
  assert_int_equal(gmem_init(&m, 4ULL << 20), 0);
  /* [BASE, BASE+2 pages) read-write, next page read-only, then a hole. */
  assert_int_equal(gmem_populate(&m, BASE, 2 * PAGE, GMEM_ACC_READ | GMEM_ACC_WRITE, true), 0);
  assert_int_equal(gmem_populate(&m, BASE + 2 * PAGE, PAGE, GMEM_ACC_READ, true), 0);
  *state = &m;
  return 0;
}

static int teardown(void **state) {
  gmem_fini(*state);
  return 0;
}

static void copies_round_trip_across_pages(void **state) {
  struct gmem *m = *state;
  char out[100], in[100];
  for (int i = 0; i < 100; i++)
    out[i] = (char)i;
  assert_int_equal(uaccess_copy_to(m, BASE + PAGE - 50, out, sizeof out), 0);
  assert_int_equal(uaccess_copy_from(m, in, BASE + PAGE - 50, sizeof in), 0);
  assert_memory_equal(in, out, sizeof in);
}

static void unmapped_and_overflowing_pointers_fault(void **state) {
  struct gmem *m = *state;
  char buf[16];
  assert_int_equal(uaccess_copy_from(m, buf, 0, 1), -EFAULT);                    /* NULL */
  assert_int_equal(uaccess_copy_from(m, buf, BASE + 3 * PAGE, 1), -EFAULT);      /* hole */
  assert_int_equal(uaccess_copy_from(m, buf, BASE + 3 * PAGE - 8, 16), -EFAULT); /* runs off */
  assert_int_equal(uaccess_copy_from(m, buf, UINT64_MAX - 4, 16), -EFAULT);      /* wraps */
  assert_int_equal(uaccess_copy_from(m, buf, 0xffff800000000000ULL, 1), -EFAULT);
  assert_int_equal(uaccess_copy_from(m, buf, LAYOUT_GDT_PAGE, 8), -EFAULT); /* system page */
  assert_int_equal(uaccess_copy_from(m, buf, LAYOUT_STUB_PAGE, 2), -EFAULT);
  assert_null(uaccess_ptr(m, BASE + 3 * PAGE - 8, 16, false));
}

static void read_only_pages_refuse_writes(void **state) {
  struct gmem *m = *state;
  char buf[8] = {0};
  assert_int_equal(uaccess_copy_from(m, buf, BASE + 2 * PAGE, sizeof buf), 0);
  assert_int_equal(uaccess_copy_to(m, BASE + 2 * PAGE, buf, sizeof buf), -EFAULT);
  assert_int_equal(uaccess_copy_to(m, BASE + 2 * PAGE - 4, buf, sizeof buf), -EFAULT);
  assert_null(uaccess_ptr(m, BASE + 2 * PAGE, 8, true));
  assert_non_null(uaccess_ptr(m, BASE + 2 * PAGE, 8, false));
}

static void released_pages_fault_and_read_zero_when_reused(void **state) {
  struct gmem *m = *state;
  char buf[8] = "secret!";
  assert_int_equal(uaccess_copy_to(m, BASE, buf, sizeof buf), 0);
  gmem_release(m, BASE, PAGE);
  assert_int_equal(uaccess_copy_from(m, buf, BASE, sizeof buf), -EFAULT);
  assert_int_equal(gmem_populate(m, BASE, PAGE, GMEM_ACC_READ | GMEM_ACC_WRITE, true), 0);
  assert_int_equal(uaccess_copy_from(m, buf, BASE, sizeof buf), 0);
  assert_memory_equal(buf, "\0\0\0\0\0\0\0\0", 8);
}

static void strings_are_bounded(void **state) {
  struct gmem *m = *state;
  char s[16];
  assert_int_equal(uaccess_copy_to(m, BASE + PAGE - 3, "abcdef", 7), 0);
  assert_int_equal(uaccess_strncpy_from(m, s, BASE + PAGE - 3, sizeof s), 6);
  assert_string_equal(s, "abcdef");
  assert_int_equal(uaccess_copy_to(m, BASE, "0123456789abcdefghij", 20), 0);
  assert_int_equal(uaccess_strncpy_from(m, s, BASE, sizeof s), -ENAMETOOLONG);
  /* A string running into unmapped memory faults. The last mapped page is
   * read-only to the guest, so fill it through the host side. */
  uint64_t pa;
  unsigned access;
  assert_true(gmem_translate(m, BASE + 2 * PAGE, &pa, &access));
  memset(gmem_pa_host(m, pa), 'x', PAGE);
  char big[2 * PAGE];
  assert_int_equal(uaccess_strncpy_from(m, big, BASE + 2 * PAGE, sizeof big), -EFAULT);
}

static void iov_merges_and_stops_at_a_fault(void **state) {
  struct gmem *m = *state;
  struct iovec iov[4];
  size_t covered;
  int n = uaccess_iov(m, BASE + 10, 3 * PAGE, true, iov, 4, &covered);
  assert_true(n >= 1);
  assert_int_equal(covered, 2 * PAGE - 10); /* the read-only page ends it */
  n = uaccess_iov(m, BASE + 10, 3 * PAGE, false, iov, 4, &covered);
  assert_int_equal(covered, 3 * PAGE - 10);
  size_t total = 0;
  for (int i = 0; i < n; i++)
    total += iov[i].iov_len;
  assert_int_equal(total, covered);
  assert_int_equal(uaccess_iov(m, BASE + 3 * PAGE, 10, false, iov, 4, &covered), -EFAULT);
}

static void memory_runs_out_cleanly(void **state) {
  (void)state;
  struct gmem small;
  assert_int_equal(gmem_init(&small, 4ULL << 20), 0);
  assert_int_equal(gmem_populate(&small, BASE, 8ULL << 20, GMEM_ACC_READ, true), -ENOMEM);
  assert_true(gmem_free_pages(&small) < 4);
  gmem_fini(&small);
  assert_int_equal(gmem_init(&small, 3ULL << 20), -EINVAL);
}

static double seconds_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* munmap, mprotect and MADV_DONTNEED of a huge reservation (Go and Python
 * reserve terabytes PROT_NONE) touch the page tables over the whole range:
 * walking it page by page took minutes for the user space's 2^35 pages,
 * during which --timeout could not stop the VM. Ranges without page tables
 * are skipped whole, and the pages that are there are still found. */
static void huge_ranges_skip_missing_tables(void **state) {
  struct gmem *m = *state;
  const uint64_t all = LAYOUT_USER_TOP - LAYOUT_MMAP_MIN;
  char c = 7;
  assert_int_equal(uaccess_copy_to(m, BASE + PAGE + 5, &c, 1), 0);
  double start = seconds_now();
  gmem_set_access(m, LAYOUT_MMAP_MIN, all, GMEM_ACC_READ);
  assert_int_equal(uaccess_copy_to(m, BASE, &c, 1), -EFAULT);
  c = 0;
  assert_int_equal(uaccess_copy_from(m, &c, BASE + PAGE + 5, 1), 0);
  assert_int_equal(c, 7);
  gmem_release(m, LAYOUT_MMAP_MIN, all);
  assert_int_equal(uaccess_copy_from(m, &c, BASE + 2 * PAGE, 1), -EFAULT);
  assert_true(seconds_now() - start < 1.0);
  assert_int_equal(gmem_populate(m, BASE, 3 * PAGE, GMEM_ACC_READ, false), 0);
  assert_int_equal(uaccess_copy_from(m, &c, BASE + PAGE + 5, 1), 0);
  assert_int_equal(c, 0); /* released: zeroed */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(copies_round_trip_across_pages, setup, teardown),
      cmocka_unit_test_setup_teardown(unmapped_and_overflowing_pointers_fault, setup, teardown),
      cmocka_unit_test_setup_teardown(read_only_pages_refuse_writes, setup, teardown),
      cmocka_unit_test_setup_teardown(released_pages_fault_and_read_zero_when_reused, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(strings_are_bounded, setup, teardown),
      cmocka_unit_test_setup_teardown(iov_merges_and_stops_at_a_fault, setup, teardown),
      cmocka_unit_test(memory_runs_out_cleanly),
      cmocka_unit_test_setup_teardown(huge_ranges_skip_missing_tables, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
