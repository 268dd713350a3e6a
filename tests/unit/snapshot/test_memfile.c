/* Unit tests of the memory file (snapshot/memfile.c): guest memory written
 * sparse (a mostly empty memory takes little disk), mapped back equal,
 * private to the restored VM (its writes never reach the file), and a
 * restored memory still hands out zeroed pages; a file of the wrong size is
 * refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "mem/gmem.h"
#include "mem/layout.h"
#include "mem/uaccess.h"
#include "snap_tmpdir.h"
#include "snapshot/memfile.h"
#include "snapshot/snapfile.h"

#define SIZE (64ULL << 20)
#define PAGE GUEST_PAGE_SIZE
#define VA 0x400000ULL
#define RW (GMEM_ACC_READ | GMEM_ACC_WRITE)
#define PAGES 16 /* written with a pattern */

static int setup(void **state) {
  static struct snap_tmpdir d;
  assert_int_equal(snap_tmpdir_make(&d), 0);
  *state = &d;
  return 0;
}

static int teardown(void **state) {
  snap_tmpdir_remove(*state);
  return 0;
}

static uint8_t pattern(uint64_t i) { return (uint8_t)(i * 31 + 1); }

/* A guest memory with PAGES pages of a pattern at VA, and the page after them populated but zero.
 */
static void fill(struct gmem *m, enum gmem_pages pages) {
  assert_int_equal(gmem_init_paged(m, SIZE, pages), 0);
  assert_int_equal(gmem_populate(m, VA, (PAGES + 1) * PAGE, RW, true), 0);
  uint8_t buf[PAGE];
  for (uint64_t p = 0; p < PAGES; p++) {
    for (uint64_t i = 0; i < PAGE; i++)
      buf[i] = pattern(p * PAGE + i);
    assert_int_equal(uaccess_copy_to(m, VA + p * PAGE, buf, PAGE), 0);
  }
}

static void check_pattern(const struct gmem *m) {
  uint8_t buf[PAGE];
  for (uint64_t p = 0; p < PAGES; p++) {
    assert_int_equal(uaccess_copy_from(m, buf, VA + p * PAGE, PAGE), 0);
    for (uint64_t i = 0; i < PAGE; i++)
      if (buf[i] != pattern(p * PAGE + i))
        fail_msg("page %llu byte %llu differs", (unsigned long long)p, (unsigned long long)i);
  }
}

static void round_trip(struct snap_tmpdir *d, enum gmem_pages pages) {
  struct gmem m, r;
  fill(&m, pages);
  assert_int_equal(memfile_write(&m, d->fd), 0);
  assert_int_equal(snap_tmpdir_count(d), 1); /* no temp file left behind */
  struct stat st;
  assert_int_equal(fstatat(d->fd, SNAP_MEMORY_FILE, &st, 0), 0);
  assert_int_equal(st.st_size, SIZE);
  /* The pattern, the page tables and the system pages: well under 1 MiB. */
  if ((uint64_t)st.st_blocks * 512 >= (1ULL << 20))
    fail_msg("%llu bytes on disk for a mostly empty memory",
             (unsigned long long)st.st_blocks * 512);
  assert_int_equal(memfile_map(&r, d->fd, SIZE, pages), 0);
  assert_true(r.file_backed);
  assert_int_equal(r.size, SIZE);
  assert_int_equal(r.block_bits != NULL, pages == GMEM_PAGES_2M);
  assert_memory_equal(r.host, m.host, SIZE);
  gmem_fini(&r);
  gmem_fini(&m);
}

static void memory_round_trips_sparse_4k(void **state) { round_trip(*state, GMEM_PAGES_4K); }

static void memory_round_trips_sparse_2m(void **state) { round_trip(*state, GMEM_PAGES_2M); }

/* The allocator's state is the MEMORY section's business; a test copies it. */
static void restore_allocator(struct gmem *r, const struct gmem *m) {
  r->next_free = m->next_free;
  r->table_floor = m->table_floor;
  r->pages_populated = m->pages_populated;
  r->block_floor = m->block_floor;
  r->small_top = m->small_top;
  r->blocks_populated = m->blocks_populated;
  if (m->block_bits)
    memcpy(r->block_bits, m->block_bits, m->size / PAGE);
}

static void writes_to_a_restored_memory_stay_private(void **state) {
  struct snap_tmpdir *d = *state;
  struct gmem m, r, r2;
  fill(&m, GMEM_PAGES_4K);
  assert_int_equal(memfile_write(&m, d->fd), 0);
  assert_int_equal(memfile_map(&r, d->fd, SIZE, GMEM_PAGES_4K), 0);
  assert_int_equal(memfile_map(&r2, d->fd, SIZE, GMEM_PAGES_4K), 0);
  restore_allocator(&r, &m);
  uint8_t junk[PAGE];
  memset(junk, 0x5a, sizeof junk);
  assert_int_equal(uaccess_copy_to(&r, VA + PAGE, junk, sizeof junk), 0);
  memset(r.host + m.next_free, 0x77, PAGE); /* a page that is a hole in the file */
  check_pattern(&r2);                       /* another VM restored from the file sees none of it */
  assert_true(gmem_page_is_zero(&r2, m.next_free));
  int fd = openat(d->fd, SNAP_MEMORY_FILE, O_RDONLY);
  uint8_t back[PAGE];
  uint64_t pa;
  unsigned acc;
  assert_true(gmem_translate(&m, VA + PAGE, &pa, &acc));
  assert_int_equal(pread(fd, back, PAGE, (off_t)pa), PAGE);
  assert_memory_equal(back, m.host + pa, PAGE);
  close(fd);
  gmem_fini(&r2);
  gmem_fini(&r);
  gmem_fini(&m);
}

/* A file mapping reads back as the file after MADV_DONTNEED: a restored
 * memory must still zero what it releases and hand out zeroed pages. */
static void zeroes_what_it_releases(struct snap_tmpdir *d, enum gmem_pages pages) {
  struct gmem m, r;
  fill(&m, pages);
  assert_int_equal(memfile_write(&m, d->fd), 0);
  assert_int_equal(memfile_map(&r, d->fd, SIZE, pages), 0);
  restore_allocator(&r, &m);
  gmem_release(&r, VA, PAGES * PAGE);
  uint64_t pa;
  unsigned acc;
  for (uint64_t p = 0; p < PAGES; p++) {
    assert_true(gmem_translate(&r, VA + p * PAGE, &pa, &acc));
    assert_int_equal(acc, 0);
    assert_true(gmem_page_is_zero(&r, pa));
  }
  assert_int_equal(gmem_populate(&r, VA, PAGE, RW, true), 0);
  assert_true(gmem_translate(&r, VA, &pa, &acc));
  assert_true(gmem_page_is_zero(&r, pa));
  /* Allocation goes on where the original left off. */
  uint64_t next;
  assert_int_equal(gmem_alloc_page(&r, &next), 0);
  assert_int_equal(next, m.next_free);
  gmem_fini(&r);
  gmem_fini(&m);
}

static void a_restored_memory_zeroes_what_it_releases_4k(void **state) {
  zeroes_what_it_releases(*state, GMEM_PAGES_4K);
}

static void a_restored_memory_zeroes_what_it_releases_2m(void **state) {
  zeroes_what_it_releases(*state, GMEM_PAGES_2M);
}

/* A new snapshot into the directory a running VM was restored from
 * replaces the file by rename: the VM keeps reading the old contents (its
 * inode lives on in the mapping), a new restore reads the new. */
static void a_new_snapshot_leaves_running_vms_alone(void **state) {
  struct snap_tmpdir *d = *state;
  struct gmem m, r, r2;
  fill(&m, GMEM_PAGES_4K);
  assert_int_equal(memfile_write(&m, d->fd), 0);
  assert_int_equal(memfile_map(&r, d->fd, SIZE, GMEM_PAGES_4K), 0);
  restore_allocator(&r, &m);
  uint8_t mark[8] = "changed", back[8];
  assert_int_equal(uaccess_copy_to(&m, VA + 3 * PAGE, mark, sizeof mark), 0);
  assert_int_equal(memfile_write(&m, d->fd), 0);
  assert_int_equal(snap_tmpdir_count(d), 1);
  check_pattern(&r);
  assert_int_equal(memfile_map(&r2, d->fd, SIZE, GMEM_PAGES_4K), 0);
  restore_allocator(&r2, &m);
  assert_int_equal(uaccess_copy_from(&r2, back, VA + 3 * PAGE, sizeof back), 0);
  assert_memory_equal(back, mark, sizeof mark);
  gmem_fini(&r2);
  gmem_fini(&r);
  gmem_fini(&m);
}

static void a_file_of_another_size_is_refused(void **state) {
  struct snap_tmpdir *d = *state;
  struct gmem m, r;
  fill(&m, GMEM_PAGES_4K);
  assert_int_equal(memfile_write(&m, d->fd), 0);
  assert_int_equal(memfile_map(&r, d->fd, SIZE * 2, GMEM_PAGES_4K), -EBADMSG);
  int fd = openat(d->fd, SNAP_MEMORY_FILE, O_WRONLY);
  assert_int_equal(ftruncate(fd, (off_t)SIZE - PAGE), 0);
  close(fd);
  assert_int_equal(memfile_map(&r, d->fd, SIZE, GMEM_PAGES_4K), -EBADMSG);
  assert_int_equal(memfile_map(&r, d->fd, SIZE - PAGE, GMEM_PAGES_4K), -EINVAL); /* not 2 MiB */
  gmem_fini(&m);
}

static void a_missing_file_is_refused(void **state) {
  struct snap_tmpdir *d = *state;
  struct gmem r;
  assert_int_equal(memfile_map(&r, d->fd, SIZE, GMEM_PAGES_4K), -ENOENT);
  assert_int_equal(mkdirat(d->fd, SNAP_MEMORY_FILE, 0700), 0);
  assert_int_equal(memfile_map(&r, d->fd, SIZE, GMEM_PAGES_4K), -EBADMSG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(memory_round_trips_sparse_4k, setup, teardown),
      cmocka_unit_test_setup_teardown(memory_round_trips_sparse_2m, setup, teardown),
      cmocka_unit_test_setup_teardown(writes_to_a_restored_memory_stay_private, setup, teardown),
      cmocka_unit_test_setup_teardown(a_restored_memory_zeroes_what_it_releases_4k, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(a_restored_memory_zeroes_what_it_releases_2m, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(a_new_snapshot_leaves_running_vms_alone, setup, teardown),
      cmocka_unit_test_setup_teardown(a_file_of_another_size_is_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(a_missing_file_is_refused, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
