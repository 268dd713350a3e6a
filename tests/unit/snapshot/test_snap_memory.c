/* Unit tests of the MEMORY section (snapshot/snap_memory.c): a restored
 * gmem, in either paging mode, translates as the original did and goes on
 * allocating exactly where it left off; values that do not fit the size,
 * the mode or gmem's invariants are refused, and so are page tables that
 * name memory the allocator never handed out. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mem/gmem.h"
#include "mem/layout.h"
#include "snap_tmpdir.h"
#include "snapshot/memfile.h"
#include "snapshot/snap_parts.h"
#include "vm.h"

#define SIZE (32ULL << 20)
#define PAGE GUEST_PAGE_SIZE
#define BLOCK GMEM_BLOCK_SIZE
#define RW (GMEM_ACC_READ | GMEM_ACC_WRITE)

struct fixture {
  struct snap_tmpdir dir;
  struct vm vm, restored;
  struct snap_buf saved;
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  assert_int_equal(snap_tmpdir_make(&f->dir), 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  gmem_fini(&f->vm.mem);
  gmem_fini(&f->restored.mem);
  free(f->saved.p);
  snap_tmpdir_remove(&f->dir);
  free(f);
  return 0;
}

/* A VM's memory with data pages, a read-only page and (in 2M mode) a block
 * with one page released, saved to the memory file and the section. */
static void save(struct fixture *f, enum gmem_pages pages) {
  struct gmem *m = &f->vm.mem;
  assert_int_equal(gmem_init_paged(m, SIZE, pages), 0);
  assert_int_equal(gmem_map_system_page(m, LAYOUT_STUB_PAGE, true, false), 0);
  assert_int_equal(gmem_populate(m, 0x400000, 5 * PAGE, RW, true), 0);
  assert_int_equal(gmem_populate(m, 0x800000, PAGE, GMEM_ACC_READ, true), 0);
  gmem_release(m, 0x401000, PAGE);
  memset(gmem_pa_host(m, LAYOUT_STUB_PAGE), 0xcc, 16);
  assert_int_equal(memfile_write(m, f->dir.fd), 0);
  assert_int_equal(snap_save_memory(&f->vm, &f->saved), 0);
}

static int load(struct fixture *f, enum gmem_pages pages) {
  assert_int_equal(memfile_map(&f->restored.mem, f->dir.fd, SIZE, pages), 0);
  struct snap_cursor c = {.p = f->saved.p, .len = f->saved.len};
  return snap_load_memory(&f->restored, &c);
}

static void same_translation(const struct gmem *a, const struct gmem *b, uint64_t va) {
  uint64_t pa_a = 0, pa_b = 0;
  unsigned acc_a = 9, acc_b = 9;
  assert_int_equal(gmem_translate(a, va, &pa_a, &acc_a), gmem_translate(b, va, &pa_b, &acc_b));
  assert_int_equal(pa_a, pa_b);
  assert_int_equal(acc_a, acc_b);
}

static void round_trip(struct fixture *f, enum gmem_pages pages) {
  save(f, pages);
  assert_int_equal(load(f, pages), 0);
  struct gmem *m = &f->vm.mem, *r = &f->restored.mem;
  assert_int_equal(r->next_free, m->next_free);
  assert_int_equal(r->table_floor, m->table_floor);
  assert_int_equal(r->pages_populated, m->pages_populated);
  assert_int_equal(r->block_floor, m->block_floor);
  assert_int_equal(r->small_top, m->small_top);
  assert_int_equal(r->blocks_populated, m->blocks_populated);
  assert_int_equal(gmem_free_pages(r), gmem_free_pages(m));
  if (pages == GMEM_PAGES_2M)
    assert_memory_equal(r->block_bits, m->block_bits, SIZE / PAGE);
  for (uint64_t va = 0x3ff000; va < 0x402000 + 5 * PAGE; va += PAGE)
    same_translation(m, r, va);
  same_translation(m, r, 0x800000);
  same_translation(m, r, LAYOUT_STUB_PAGE);
  /* Both go on the same way: the same new pages in the same places. */
  for (uint64_t va = 0x1000000; va < 0x1000000 + 3 * BLOCK; va += BLOCK / 2) {
    assert_int_equal(gmem_populate(m, va, 2 * PAGE, RW, true), 0);
    assert_int_equal(gmem_populate(r, va, 2 * PAGE, RW, true), 0);
    same_translation(m, r, va + PAGE);
  }
  assert_int_equal(r->next_free, m->next_free);
  assert_int_equal(r->pages_populated, m->pages_populated);
  assert_int_equal(r->blocks_populated, m->blocks_populated);
}

static void memory_round_trips_4k(void **state) { round_trip(*state, GMEM_PAGES_4K); }

static void memory_round_trips_2m(void **state) {
  struct fixture *f = *state;
  round_trip(f, GMEM_PAGES_2M);
  assert_true(f->restored.mem.blocks_populated > 0);
}

/* The saved section with the u64 at `field` (0: size, 1: next_free, ...
 * 7: nbits) replaced. */
static void set_field(struct fixture *f, unsigned field, uint64_t v) {
  uint8_t *p = f->saved.p + 4 + 8 * field;
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_field(const struct fixture *f, unsigned field) {
  const uint8_t *p = f->saved.p + 4 + 8 * field;
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

enum { F_SIZE, F_NEXT_FREE, F_TABLE_FLOOR, F_PAGES, F_BLOCK_FLOOR, F_SMALL_TOP, F_BLOCKS, F_NBITS };

/* Each edit alone makes the load fail, and leaves the restored gmem as it was. */
static void refused_with(struct fixture *f, enum gmem_pages pages, unsigned field, uint64_t v) {
  uint64_t old = get_field(f, field);
  set_field(f, field, v);
  struct snap_cursor c = {.p = f->saved.p, .len = f->saved.len};
  struct gmem before = f->restored.mem;
  if (snap_load_memory(&f->restored, &c) != -EBADMSG)
    fail_msg("field %u = %#llx accepted", field, (unsigned long long)v);
  assert_memory_equal(&before, &f->restored.mem, sizeof before);
  set_field(f, field, old);
  (void)pages;
}

static void prepare_refusals(struct fixture *f, enum gmem_pages pages) {
  save(f, pages);
  assert_int_equal(memfile_map(&f->restored.mem, f->dir.fd, SIZE, pages), 0);
}

static void inconsistent_values_are_refused_4k(void **state) {
  struct fixture *f = *state;
  prepare_refusals(f, GMEM_PAGES_4K);
  const struct gmem *m = &f->vm.mem;
  refused_with(f, GMEM_PAGES_4K, F_SIZE, SIZE * 2);
  refused_with(f, GMEM_PAGES_4K, F_NEXT_FREE, m->next_free + 1);         /* unaligned */
  refused_with(f, GMEM_PAGES_4K, F_NEXT_FREE, m->table_floor + PAGE);    /* past the tables */
  refused_with(f, GMEM_PAGES_4K, F_NEXT_FREE, LAYOUT_FIRST_FREE - PAGE); /* system pages */
  refused_with(f, GMEM_PAGES_4K, F_NEXT_FREE, UINT64_MAX - PAGE + 1);
  refused_with(f, GMEM_PAGES_4K, F_TABLE_FLOOR, SIZE + PAGE); /* past the end */
  refused_with(f, GMEM_PAGES_4K, F_TABLE_FLOOR, m->table_floor + 8);
  refused_with(f, GMEM_PAGES_4K, F_TABLE_FLOOR, m->table_floor + PAGE); /* misses a table */
  refused_with(f, GMEM_PAGES_4K, F_PAGES, SIZE / PAGE);
  refused_with(f, GMEM_PAGES_4K, F_BLOCK_FLOOR, SIZE - BLOCK); /* no blocks in 4K mode */
  refused_with(f, GMEM_PAGES_4K, F_SMALL_TOP, BLOCK);
  refused_with(f, GMEM_PAGES_4K, F_BLOCKS, 1);
  refused_with(f, GMEM_PAGES_4K, F_NBITS, 1);
  refused_with(f, GMEM_PAGES_4K, F_NBITS, UINT64_MAX);
  /* The data pages' end lowered below a page the tables name. */
  refused_with(f, GMEM_PAGES_4K, F_NEXT_FREE, m->next_free - PAGE);
  struct snap_cursor c = {.p = f->saved.p, .len = f->saved.len};
  assert_int_equal(snap_load_memory(&f->restored, &c), 0); /* every edit undone */
}

static void inconsistent_values_are_refused_2m(void **state) {
  struct fixture *f = *state;
  prepare_refusals(f, GMEM_PAGES_2M);
  const struct gmem *m = &f->vm.mem;
  refused_with(f, GMEM_PAGES_2M, F_TABLE_FLOOR, SIZE - PAGE); /* tables are data pages here */
  refused_with(f, GMEM_PAGES_2M, F_BLOCK_FLOOR, m->block_floor + PAGE);
  refused_with(f, GMEM_PAGES_2M, F_BLOCK_FLOOR, m->block_floor - BLOCK); /* counts disagree */
  refused_with(f, GMEM_PAGES_2M, F_BLOCKS, m->blocks_populated + 1);
  refused_with(f, GMEM_PAGES_2M, F_SMALL_TOP, 0);
  refused_with(f, GMEM_PAGES_2M, F_SMALL_TOP, m->small_top + PAGE);
  refused_with(f, GMEM_PAGES_2M, F_SMALL_TOP, m->block_floor + BLOCK);
  refused_with(f, GMEM_PAGES_2M, F_NEXT_FREE, m->small_top + PAGE);
  refused_with(f, GMEM_PAGES_2M, F_PAGES, UINT64_MAX);
  refused_with(f, GMEM_PAGES_2M, F_NBITS, get_field(f, F_NBITS) - 1);
  refused_with(f, GMEM_PAGES_2M, F_NBITS, UINT64_MAX);
  /* A block's bits byte with a bit gmem never sets. */
  uint8_t *bits = f->saved.p + f->saved.len - get_field(f, F_NBITS);
  bits[3] |= 0x80;
  struct snap_cursor c = {.p = f->saved.p, .len = f->saved.len};
  assert_int_equal(snap_load_memory(&f->restored, &c), -EBADMSG);
  bits[3] &= 0x7f;
  c = (struct snap_cursor){.p = f->saved.p, .len = f->saved.len};
  assert_int_equal(snap_load_memory(&f->restored, &c), 0);
}

static void another_mode_or_a_malformed_section_is_refused(void **state) {
  struct fixture *f = *state;
  save(f, GMEM_PAGES_2M);
  /* 2M values into a memory mapped for 4K paging. */
  assert_int_equal(memfile_map(&f->restored.mem, f->dir.fd, SIZE, GMEM_PAGES_4K), 0);
  struct snap_cursor c = {.p = f->saved.p, .len = f->saved.len};
  assert_int_equal(snap_load_memory(&f->restored, &c), -EBADMSG);
  gmem_fini(&f->restored.mem);
  assert_int_equal(memfile_map(&f->restored.mem, f->dir.fd, SIZE, GMEM_PAGES_2M), 0);
  for (size_t n = 0; n < f->saved.len; n++) { /* truncated anywhere */
    c = (struct snap_cursor){.p = f->saved.p, .len = n};
    assert_int_equal(snap_load_memory(&f->restored, &c), -EBADMSG);
  }
  snap_put_u8(&f->saved, 0); /* a byte too many */
  c = (struct snap_cursor){.p = f->saved.p, .len = f->saved.len};
  assert_int_equal(snap_load_memory(&f->restored, &c), -EBADMSG);
}

/* A page-table entry in the memory file naming memory past the end, or a
 * table the allocator never handed out: refused before any walk uses it. */
static void page_tables_outside_memory_are_refused(void **state) {
  struct fixture *f = *state;
  save(f, GMEM_PAGES_4K);
  assert_int_equal(memfile_map(&f->restored.mem, f->dir.fd, SIZE, GMEM_PAGES_4K), 0);
  uint64_t *pml4 = gmem_pa_host(&f->restored.mem, LAYOUT_PML4_PAGE);
  uint64_t good = pml4[0];
  const uint64_t wrong[] = {(SIZE + PAGE) | 7, (1ULL << 40) | 7, 0x5000 | 7, good | 0x80};
  for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
    pml4[0] = wrong[i];
    struct snap_cursor c = {.p = f->saved.p, .len = f->saved.len};
    if (snap_load_memory(&f->restored, &c) != -EBADMSG)
      fail_msg("PML4 entry %#llx accepted", (unsigned long long)wrong[i]);
  }
  pml4[1] = good; /* two entries naming one table */
  pml4[0] = good;
  struct snap_cursor c = {.p = f->saved.p, .len = f->saved.len};
  assert_int_equal(snap_load_memory(&f->restored, &c), -EBADMSG);
  pml4[1] = 0;
  c = (struct snap_cursor){.p = f->saved.p, .len = f->saved.len};
  assert_int_equal(snap_load_memory(&f->restored, &c), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(memory_round_trips_4k, setup, teardown),
      cmocka_unit_test_setup_teardown(memory_round_trips_2m, setup, teardown),
      cmocka_unit_test_setup_teardown(inconsistent_values_are_refused_4k, setup, teardown),
      cmocka_unit_test_setup_teardown(inconsistent_values_are_refused_2m, setup, teardown),
      cmocka_unit_test_setup_teardown(another_mode_or_a_malformed_section_is_refused, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(page_tables_outside_memory_are_refused, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
