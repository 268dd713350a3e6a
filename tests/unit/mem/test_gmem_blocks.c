/* Unit tests of 2 MiB guest pages (GMEM_PAGES_2M): a block's pages keep
 * their own access bits and zeroing, blocks give way to 4 KiB pages when
 * they run out, and the free-page count stays true throughout. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mem/gmem.h"
#include "mem/layout.h"
#include "mem/uaccess.h"

#define BLOCK GMEM_BLOCK_SIZE
#define PAGE GUEST_PAGE_SIZE
#define BASE (2 * BLOCK) /* a block-aligned guest-virtual address */
#define RW (GMEM_ACC_READ | GMEM_ACC_WRITE)

static int setup(void **state) {
  static struct gmem m;
  assert_int_equal(gmem_init_paged(&m, 16ULL << 20, GMEM_PAGES_2M), 0);
  *state = &m;
  return 0;
}

static int teardown(void **state) {
  gmem_fini(*state);
  return 0;
}

static uint64_t pa_of(const struct gmem *m, uint64_t va, unsigned *access) {
  uint64_t pa;
  unsigned unused;
  assert_true(gmem_translate(m, va, &pa, access ? access : &unused));
  return pa;
}

static void a_block_maps_contiguous_physical_memory(void **state) {
  struct gmem *m = *state;
  assert_int_equal(gmem_populate(m, BASE + 3 * PAGE, PAGE, RW, true), 0);
  unsigned access;
  uint64_t pa = pa_of(m, BASE + 3 * PAGE + 5, &access);
  assert_int_equal(access, RW);
  assert_int_equal((pa - 3 * PAGE - 5) % BLOCK, 0); /* the block is 2 MiB-aligned */
  assert_true(pa >= BLOCK && pa < m->size);
  /* The whole block is there, but the untouched pages grant nothing. */
  assert_int_equal(pa_of(m, BASE + BLOCK - 1, &access), pa - 3 * PAGE - 5 + BLOCK - 1);
  assert_int_equal(access, 0);
  assert_int_equal(m->blocks_populated, 1);
  assert_int_equal(m->pages_populated, 1);
}

static void each_page_of_a_block_has_its_own_access(void **state) {
  struct gmem *m = *state;
  char buf[16] = {1};
  assert_int_equal(gmem_populate(m, BASE, PAGE, RW, true), 0);
  assert_int_equal(gmem_populate(m, BASE + PAGE, PAGE, GMEM_ACC_READ, true), 0);
  assert_int_equal(uaccess_copy_to(m, BASE, buf, sizeof buf), 0);
  assert_int_equal(uaccess_copy_from(m, buf, BASE + PAGE, sizeof buf), 0);
  assert_int_equal(uaccess_copy_to(m, BASE + PAGE, buf, sizeof buf), -EFAULT);
  assert_int_equal(uaccess_copy_to(m, BASE + PAGE - 8, buf, sizeof buf), -EFAULT);
  assert_int_equal(uaccess_copy_from(m, buf, BASE + 2 * PAGE, 1), -EFAULT); /* never populated */
  gmem_set_access(m, BASE, PAGE, 0);
  assert_int_equal(uaccess_copy_from(m, buf, BASE, 1), -EFAULT);
  assert_int_equal(uaccess_copy_from(m, buf, BASE + PAGE, 1), 0); /* its neighbour keeps it */
}

static void copies_cross_from_block_to_block(void **state) {
  struct gmem *m = *state;
  char out[64], in[64];
  for (size_t i = 0; i < sizeof out; i++)
    out[i] = (char)(i + 1);
  assert_int_equal(gmem_populate(m, BASE + BLOCK - PAGE, 2 * PAGE, RW, true), 0);
  assert_int_equal(m->blocks_populated, 2);
  assert_int_equal(uaccess_copy_to(m, BASE + BLOCK - 32, out, sizeof out), 0);
  assert_int_equal(uaccess_copy_from(m, in, BASE + BLOCK - 32, sizeof in), 0);
  assert_memory_equal(in, out, sizeof in);
}

static void reused_pages_read_zero(void **state) {
  struct gmem *m = *state;
  uint32_t word = 0xdeadbeef, got;
  assert_int_equal(gmem_populate(m, BASE, 3 * PAGE, RW, true), 0);
  for (int i = 0; i < 3; i++)
    assert_int_equal(uaccess_copy_to(m, BASE + i * PAGE, &word, sizeof word), 0);
  gmem_release(m, BASE, PAGE); /* munmap of one page */
  assert_int_equal(uaccess_copy_from(m, &got, BASE, sizeof got), -EFAULT);
  assert_int_equal(*(uint32_t *)gmem_pa_host(m, pa_of(m, BASE, NULL)), 0);
  gmem_set_access(m, BASE + PAGE, PAGE, 0); /* PROT_NONE: kept, not zeroed */
  assert_int_equal(*(uint32_t *)gmem_pa_host(m, pa_of(m, BASE + PAGE, NULL)), word);
  assert_int_equal(gmem_populate(m, BASE, 2 * PAGE, RW, true), 0); /* mapped anew */
  for (int i = 0; i < 2; i++) {
    assert_int_equal(uaccess_copy_from(m, &got, BASE + i * PAGE, sizeof got), 0);
    assert_int_equal(got, 0);
  }
  assert_int_equal(uaccess_copy_from(m, &got, BASE + 2 * PAGE, sizeof got), 0);
  assert_int_equal(got, word); /* untouched by its neighbours' reuse */
  assert_int_equal(m->pages_populated, 3);
}

static void a_whole_released_block_reads_zero(void **state) {
  struct gmem *m = *state;
  assert_int_equal(gmem_populate(m, BASE, BLOCK, RW, true), 0);
  uint8_t *host = gmem_pa_host(m, pa_of(m, BASE, NULL));
  memset(host, 0x5a, BLOCK);
  gmem_release(m, BASE, BLOCK);
  for (uint64_t off = 0; off < BLOCK; off += PAGE / 2)
    assert_int_equal(host[off], 0);
  assert_int_equal(gmem_populate(m, BASE, BLOCK, RW, true), 0);
  assert_int_equal(m->blocks_populated, 1); /* the block stays the VM's */
}

/* 8 MiB: the first 2 MiB for small pages, three blocks. */
static void blocks_give_way_to_small_pages(void **state) {
  (void)state;
  struct gmem m;
  assert_int_equal(gmem_init_paged(&m, 8ULL << 20, GMEM_PAGES_2M), 0);
  for (uint64_t i = 0; i < 3; i++)
    assert_int_equal(gmem_populate(&m, BASE + i * BLOCK, PAGE, RW, true), 0);
  assert_int_equal(m.blocks_populated, 3);
  uint64_t va = BASE + 3 * BLOCK; /* no block left for this one */
  assert_int_equal(gmem_populate(&m, va, 2 * PAGE, RW, true), 0);
  assert_int_equal(m.blocks_populated, 3);
  uint64_t pa = pa_of(&m, va, NULL);
  assert_true(pa >= LAYOUT_FIRST_FREE && pa < BLOCK);
  uint64_t unused;
  unsigned access;
  assert_false(gmem_translate(&m, va + 2 * PAGE, &unused, &access)); /* 4 KiB PTEs only */
  uint32_t word = 7, got = 0;
  assert_int_equal(uaccess_copy_to(&m, va + PAGE - 2, &word, sizeof word), 0);
  assert_int_equal(uaccess_copy_from(&m, &got, va + PAGE - 2, sizeof got), 0);
  assert_int_equal(got, word);
  gmem_fini(&m);
}

static void free_pages_count_what_is_left(void **state) {
  (void)state;
  struct gmem m;
  assert_int_equal(gmem_init_paged(&m, 8ULL << 20, GMEM_PAGES_2M), 0);
  uint64_t total = ((8ULL << 20) - LAYOUT_FIRST_FREE) / PAGE;
  assert_int_equal(gmem_free_pages(&m), total);
  /* A PDPT, a PD and a whole block, however little of it is touched. */
  assert_int_equal(gmem_populate(&m, BASE, PAGE, RW, true), 0);
  assert_int_equal(gmem_free_pages(&m), total - 2 - BLOCK / PAGE);
  assert_int_equal(gmem_populate(&m, BASE + PAGE, PAGE, RW, true), 0);
  assert_int_equal(gmem_free_pages(&m), total - 2 - BLOCK / PAGE);
  for (uint64_t i = 1; i < 3; i++)
    assert_int_equal(gmem_populate(&m, BASE + i * BLOCK, PAGE, RW, true), 0);
  /* Blocks gone: a page table and then one 4 KiB page per populate, until
   * exactly the counted pages are used up. */
  uint64_t left = gmem_free_pages(&m), used = 0, va = BASE + 3 * BLOCK;
  assert_int_equal(left, total - 2 - 3 * BLOCK / PAGE);
  while (gmem_populate(&m, va + used * PAGE, PAGE, RW, true) == 0)
    used++;
  assert_int_equal(used + 1, left); /* + its page table */
  assert_int_equal(gmem_free_pages(&m), 0);
  assert_int_equal(gmem_populate(&m, va + used * PAGE, PAGE, RW, true), -ENOMEM);
  gmem_fini(&m);
}

static void only_known_modes_are_accepted(void **state) {
  (void)state;
  struct gmem m;
  assert_int_equal(gmem_init_paged(&m, 8ULL << 20, (enum gmem_pages)7), -EINVAL);
  assert_int_equal(gmem_init_paged(&m, 3ULL << 20, GMEM_PAGES_2M), -EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(a_block_maps_contiguous_physical_memory, setup, teardown),
      cmocka_unit_test_setup_teardown(each_page_of_a_block_has_its_own_access, setup, teardown),
      cmocka_unit_test_setup_teardown(copies_cross_from_block_to_block, setup, teardown),
      cmocka_unit_test_setup_teardown(reused_pages_read_zero, setup, teardown),
      cmocka_unit_test_setup_teardown(a_whole_released_block_reads_zero, setup, teardown),
      cmocka_unit_test(blocks_give_way_to_small_pages),
      cmocka_unit_test(free_pages_count_what_is_left),
      cmocka_unit_test(only_known_modes_are_accepted),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
