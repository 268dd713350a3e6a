/* The descriptor table: lowest free descriptor, EMFILE at the limit, dup2
 * replacing (and releasing) what was there, close-on-exec bits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "kernel/fdtable.h"
#include "kernel/file.h"

static int released;

static void count_release(struct file *f) { released++; }

static const struct file_ops counting_ops = {.release = count_release};

static struct file *new_file(void) {
  struct file *f = file_new(&counting_ops, 0, NULL);
  assert_non_null(f);
  return f;
}

static void lowest_free_descriptor(void **state) {
  struct fdtable t;
  fdtable_init(&t);
  released = 0;
  assert_int_equal(fdtable_install(&t, new_file(), false, 0), 0);
  assert_int_equal(fdtable_install(&t, new_file(), false, 0), 1);
  assert_int_equal(fdtable_install(&t, new_file(), false, 0), 2);
  assert_int_equal(fdtable_close(&t, 1), 0);
  assert_int_equal(released, 1);
  assert_int_equal(fdtable_close(&t, 1), -EBADF);
  assert_int_equal(fdtable_install(&t, new_file(), false, 0), 1);
  assert_int_equal(fdtable_install(&t, new_file(), false, 10), 10);
  assert_int_equal(fdtable_install(&t, new_file(), false, 0), 3);
  assert_int_equal(fdtable_count(&t), 5);
  assert_int_equal(fdtable_end(&t), 11);
  assert_null(fdtable_get(&t, 4));
  assert_null(fdtable_get(&t, -1));
  assert_null(fdtable_get(&t, 100000));
  assert_non_null(fdtable_get(&t, 10));
  fdtable_fini(&t);
  assert_int_equal(released, 6);
}

static void emfile_at_the_limit(void **state) {
  struct fdtable t;
  fdtable_init(&t);
  t.limit = 8;
  for (int i = 0; i < 8; i++)
    assert_int_equal(fdtable_install(&t, new_file(), false, 0), i);
  struct file *f = new_file();
  assert_int_equal(fdtable_install(&t, f, false, 0), -EMFILE);
  assert_int_equal(fdtable_install_at(&t, 8, f, false), -EBADF);
  file_unref(f);                   /* not taken over on failure */
  t.limit = FDTABLE_HARD_MAX + 10; /* never past the hard maximum */
  f = new_file();
  assert_int_equal(fdtable_install(&t, f, false, FDTABLE_HARD_MAX), -EMFILE);
  assert_int_equal(fdtable_install(&t, f, false, FDTABLE_HARD_MAX - 1), FDTABLE_HARD_MAX - 1);
  fdtable_fini(&t);
}

static void dup2_replaces(void **state) {
  struct fdtable t;
  fdtable_init(&t);
  released = 0;
  struct file *a = new_file(), *b = new_file();
  assert_int_equal(fdtable_install(&t, a, false, 0), 0);
  assert_int_equal(fdtable_install_at(&t, 5, b, true), 5);
  assert_int_equal(fdtable_install_at(&t, 5, file_ref(a), false), 5);
  assert_int_equal(released, 1); /* b */
  assert_ptr_equal(fdtable_get(&t, 5), a);
  assert_int_equal(a->refs, 2);
  assert_int_equal(fdtable_get_cloexec(&t, 5), 0);
  assert_int_equal(fdtable_count(&t), 2);
  assert_int_equal(fdtable_close(&t, 0), 0);
  assert_int_equal(released, 1); /* a still open as 5 */
  fdtable_fini(&t);
  assert_int_equal(released, 2);
}

static void cloexec_bits(void **state) {
  struct fdtable t;
  fdtable_init(&t);
  assert_int_equal(fdtable_install(&t, new_file(), true, 0), 0);
  assert_int_equal(fdtable_install(&t, new_file(), false, 0), 1);
  assert_int_equal(fdtable_get_cloexec(&t, 0), 1);
  assert_int_equal(fdtable_get_cloexec(&t, 1), 0);
  assert_int_equal(fdtable_set_cloexec(&t, 1, true), 0);
  assert_int_equal(fdtable_get_cloexec(&t, 1), 1);
  assert_int_equal(fdtable_set_cloexec(&t, 2, true), -EBADF);
  assert_int_equal(fdtable_get_cloexec(&t, 2), -EBADF);
  fdtable_fini(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lowest_free_descriptor),
      cmocka_unit_test(emfile_at_the_limit),
      cmocka_unit_test(dup2_replaces),
      cmocka_unit_test(cloexec_bits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
