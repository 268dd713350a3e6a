/* Unit tests of the guest mapping list: splitting, merging, gaps, limits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "kernel/file.h"
#include "mem/vma.h"

/* vma.c's file references, counted on a stand-in description (tests that
 * map no file never call these). */
struct file *file_ref(struct file *f) {
  f->refs++;
  return f;
}
void file_unref(struct file *f) {
  assert_true(f->refs > 0); /* a reference dropped twice */
  f->refs--;
}

#define K 0x1000ULL

static struct vma anon(uint64_t s, uint64_t e, int prot) {
  return (struct vma){.start = s, .end = e, .prot = prot, .flags = MAP_PRIVATE, .kind = VMA_ANON};
}

static void insert_merges_neighbours(void **state) {
  (void)state;
  struct vma_space s;
  vma_space_init(&s);
  struct vma a = anon(10 * K, 20 * K, PROT_READ), b = anon(30 * K, 40 * K, PROT_READ),
             c = anon(20 * K, 30 * K, PROT_READ);
  assert_int_equal(vma_insert(&s, &a), 0);
  assert_int_equal(vma_insert(&s, &b), 0);
  assert_int_equal(s.n, 2);
  assert_int_equal(vma_insert(&s, &c), 0);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.v[0].start, 10 * K);
  assert_int_equal(s.v[0].end, 40 * K);
  vma_space_fini(&s);
}

static void remove_splits_and_protect_splits(void **state) {
  (void)state;
  struct vma_space s;
  vma_space_init(&s);
  struct vma a = anon(10 * K, 40 * K, PROT_READ | PROT_WRITE);
  assert_int_equal(vma_insert(&s, &a), 0);
  assert_int_equal(vma_remove(&s, 20 * K, 25 * K), 0);
  assert_int_equal(s.n, 2);
  assert_null(vma_find(&s, 22 * K));
  assert_non_null(vma_find(&s, 19 * K));
  assert_false(vma_covered(&s, 15 * K, 30 * K));
  assert_true(vma_covered(&s, 25 * K, 40 * K));
  assert_int_equal(vma_protect(&s, 30 * K, 35 * K, PROT_READ), 0);
  assert_int_equal(s.n, 4);
  assert_int_equal(vma_find(&s, 31 * K)->prot, PROT_READ);
  assert_int_equal(vma_find(&s, 36 * K)->prot, PROT_READ | PROT_WRITE);
  assert_int_equal(vma_protect(&s, 15 * K, 30 * K, PROT_READ), -ENOMEM); /* hole */
  vma_space_fini(&s);
}

static void free_gaps_are_found_top_down(void **state) {
  (void)state;
  struct vma_space s;
  vma_space_init(&s);
  struct vma a = anon(10 * K, 20 * K, PROT_READ), b = anon(22 * K, 30 * K, PROT_READ);
  assert_int_equal(vma_insert(&s, &a), 0);
  assert_int_equal(vma_insert(&s, &b), 0);
  assert_int_equal(vma_find_free_topdown(&s, 5 * K, K, 40 * K), 35 * K);
  assert_int_equal(vma_find_free_topdown(&s, 10 * K, K, 40 * K), 30 * K);
  assert_int_equal(vma_find_free_topdown(&s, 2 * K, K, 30 * K), 20 * K);
  assert_int_equal(vma_find_free_topdown(&s, 9 * K, K, 30 * K), K);
  assert_int_equal(vma_find_free_topdown(&s, 10 * K, K, 30 * K), 0);
  assert_int_equal(vma_find_free_topdown(&s, 2 * K, 21 * K, 25 * K), 0);
  vma_space_fini(&s);
}

static void the_mapping_count_is_bounded(void **state) {
  (void)state;
  struct vma_space s;
  vma_space_init(&s);
  struct vma wide = anon(1 * K, 5 * K, PROT_READ); /* one 4-page mapping first */
  assert_int_equal(vma_insert(&s, &wide), 0);
  for (uint64_t i = 1; i < VMA_MAX_COUNT; i++) {
    struct vma m = anon((2 * i + 10) * K, (2 * i + 11) * K, PROT_READ);
    assert_int_equal(vma_insert(&s, &m), 0);
  }
  assert_int_equal(s.n, VMA_MAX_COUNT);
  struct vma one_more = anon(1000000 * K, 1000001 * K, PROT_READ);
  assert_int_equal(vma_insert(&s, &one_more), -ENOMEM);
  /* Splitting the wide mapping would need one more slot. */
  assert_int_equal(vma_remove(&s, 2 * K, 3 * K), -ENOMEM);
  assert_int_equal(vma_protect(&s, 2 * K, 3 * K, PROT_NONE), -ENOMEM);
  assert_int_equal(s.n, VMA_MAX_COUNT);
  /* Removing a whole mapping needs none. */
  assert_int_equal(vma_remove(&s, 1 * K, 5 * K), 0);
  assert_int_equal(s.n, VMA_MAX_COUNT - 1);
  vma_space_fini(&s);
}

/* Fills s with one-page mappings (gaps between them) from `from` until it
 * holds `count` mappings. */
static void fill_to(struct vma_space *s, uint64_t from, size_t count) {
  for (uint64_t at = from; s->n < count; at += 2 * K) {
    struct vma m = anon(at, at + K, PROT_READ);
    assert_int_equal(vma_insert(s, &m), 0);
  }
}

/* munmap across a file mapping, one slot short of the cap for its second
 * split: it fails, and the file mapping and its reference are untouched
 * (dropping the reference before the failed split left the mapping in the
 * list to be dropped again: a use after free of the description). */
static void a_failed_split_keeps_file_references(void **state) {
  (void)state;
  struct vma_space s;
  vma_space_init(&s);
  struct file f = {.refs = 1};
  struct vma a = anon(1 * K, 5 * K, PROT_READ), b = anon(8 * K, 12 * K, PROT_WRITE);
  struct vma fm = {.start = 6 * K,
                   .end = 7 * K,
                   .prot = PROT_READ,
                   .flags = MAP_PRIVATE,
                   .kind = VMA_FILE,
                   .file = &f};
  assert_int_equal(vma_insert(&s, &a), 0);
  assert_int_equal(vma_insert(&s, &fm), 0);
  assert_int_equal(vma_insert(&s, &b), 0);
  assert_int_equal(f.refs, 2);
  fill_to(&s, 100 * K, VMA_MAX_COUNT - 1);
  /* Splitting a at 2K takes the last slot; splitting b at 10K finds none. */
  assert_int_equal(vma_remove(&s, 2 * K, 10 * K), -ENOMEM);
  assert_int_equal(f.refs, 2);
  const struct vma *still = vma_find(&s, 6 * K);
  assert_non_null(still);
  assert_ptr_equal(still->file, &f);
  assert_int_equal(vma_protect(&s, 2 * K, 10 * K, PROT_NONE), -ENOMEM);
  assert_int_equal(vma_find(&s, 6 * K)->prot, PROT_READ); /* nothing half-changed */
  /* With room, the same removal drops the reference once. */
  assert_int_equal(vma_remove(&s, 100 * K, 102 * K), 0);
  assert_int_equal(vma_remove(&s, 2 * K, 10 * K), 0);
  assert_int_equal(f.refs, 1);
  assert_null(vma_find(&s, 6 * K));
  vma_space_fini(&s);
  assert_int_equal(f.refs, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(insert_merges_neighbours),
      cmocka_unit_test(remove_splits_and_protect_splits),
      cmocka_unit_test(free_gaps_are_found_top_down),
      cmocka_unit_test(the_mapping_count_is_bounded),
      cmocka_unit_test(a_failed_split_keeps_file_references),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
