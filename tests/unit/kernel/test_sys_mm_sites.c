/* Unit tests of how the memory system calls hand executable file mappings
 * to the syscall-site rewriter (sys_mm.c over the real mm, vma and page
 * tables; fake_sitecache.c records the calls): mmap with PROT_EXEC and
 * mprotect adding PROT_EXEC pass exactly the file range each mapping shows,
 * while it is writable, and the final protection applies afterwards;
 * nothing else is passed on. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fake_sitecache.h"
#include "fake_vm.h"
#include "kernel/fdtable.h"
#include "kernel/file.h"
#include "kernel/syscalls.h"
#include "mem/layout.h"
#include "mem/uaccess.h"
#include "mem/vma.h"

#define PAGE GUEST_PAGE_SIZE
#define FILE_PAGES 4

static uint8_t file_bytes[FILE_PAGES * PAGE];
static struct vm_config test_cfg;

static ssize_t bytes_pread(struct file *f, const struct iovec *iov, int cnt, off_t off) {
  (void)f;
  ssize_t done = 0;
  for (int i = 0; i < cnt && (size_t)off < sizeof file_bytes; i++) {
    size_t n = sizeof file_bytes - (size_t)off;
    n = n < iov[i].iov_len ? n : iov[i].iov_len;
    memcpy(iov[i].iov_base, file_bytes + off, n);
    off += (off_t)n;
    done += (ssize_t)n;
  }
  return done;
}

static int bytes_fstat(struct file *f, struct stat *st) {
  (void)f;
  memset(st, 0, sizeof *st);
  st->st_mode = S_IFREG | 0755;
  st->st_size = sizeof file_bytes;
  return 0;
}

static const struct file_ops bytes_ops = {.pread = bytes_pread, .fstat = bytes_fstat};

struct fixture {
  struct vm *vm;
  struct file *file;
  int fd;
};

static int setup(void **state) {
  static struct fixture fx;
  fx.vm = test_vm_new();
  test_cfg = (struct vm_config){0};
  fx.vm->cfg = &test_cfg;
  vma_space_init(&fx.vm->vmas);
  fdtable_init(&fx.vm->fds);
  fx.vm->mm.mmap_top = LAYOUT_STACK_TOP - LAYOUT_STACK_GAP;
  for (size_t i = 0; i < sizeof file_bytes; i++)
    file_bytes[i] = (uint8_t)(i / PAGE + 1);
  fx.file = file_new(&bytes_ops, O_RDONLY, NULL);
  assert_non_null(fx.file);
  fx.fd = fdtable_install(&fx.vm->fds, file_ref(fx.file), false, 0);
  assert_true(fx.fd >= 0);
  fake_sitecache_ncalls = 0;
  *state = &fx;
  return 0;
}

static int teardown(void **state) {
  struct fixture *fx = *state;
  vma_space_fini(&fx->vm->vmas);
  fdtable_fini(&fx->vm->fds);
  file_unref(fx->file);
  test_vm_free(fx->vm);
  return 0;
}

static uint64_t map_file(struct fixture *fx, uint64_t len, int prot, uint64_t off) {
  const uint64_t a[6] = {0, len, (uint64_t)prot, MAP_PRIVATE, (uint64_t)fx->fd, off};
  long addr = sys_mmap(fx->vm, a);
  assert_true(addr > 0);
  return (uint64_t)addr;
}

static long guest_mprotect(struct fixture *fx, uint64_t addr, uint64_t len, int prot) {
  const uint64_t a[6] = {addr, len, (uint64_t)prot, 0, 0, 0};
  return sys_mprotect(fx->vm, a);
}

static bool writable_now(struct fixture *fx, uint64_t addr) {
  return uaccess_ptr(&fx->vm->mem, addr, 1, true) != NULL;
}

static void assert_call(struct fixture *fx, size_t i, uint64_t addr, uint64_t len,
                        uint64_t file_off) {
  const struct fake_sitecache_call *c = &fake_sitecache_calls[i];
  assert_ptr_equal(c->file, fx->file);
  assert_int_equal(c->addr, addr);
  assert_int_equal(c->len, len);
  assert_int_equal(c->file_off, file_off);
  assert_true(c->writable);
}

static void mmap_exec_passes_its_file_range_while_writable(void **state) {
  struct fixture *fx = *state;
  uint64_t p = map_file(fx, 2 * PAGE, PROT_READ | PROT_EXEC, PAGE);
  assert_int_equal(fake_sitecache_ncalls, 1);
  assert_call(fx, 0, p, 2 * PAGE, PAGE);
  assert_false(writable_now(fx, p)); /* then PROT_READ|PROT_EXEC applied */
  assert_false(writable_now(fx, p + PAGE));
  uint8_t b;
  assert_int_equal(uaccess_copy_from(&fx->vm->mem, &b, p + PAGE, 1), 0);
  assert_int_equal(b, 3); /* file page 2 */
}

static void other_mappings_are_left_alone(void **state) {
  struct fixture *fx = *state;
  map_file(fx, PAGE, PROT_READ, 0);
  map_file(fx, PAGE, PROT_READ | PROT_WRITE, 0);
  const uint64_t anon[6] = {
      0, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0};
  long a = sys_mmap(fx->vm, anon);
  assert_true(a > 0);
  assert_int_equal(guest_mprotect(fx, (uint64_t)a, PAGE, PROT_READ | PROT_EXEC), 0);
  assert_int_equal(fake_sitecache_ncalls, 0);
}

static void mprotect_passes_the_pieces_gaining_exec(void **state) {
  struct fixture *fx = *state;
  uint64_t p = map_file(fx, 3 * PAGE, PROT_READ, PAGE);
  assert_int_equal(guest_mprotect(fx, p + PAGE, PAGE, PROT_READ | PROT_EXEC), 0);
  assert_int_equal(fake_sitecache_ncalls, 1);
  assert_call(fx, 0, p + PAGE, PAGE, 2 * PAGE);
  assert_false(writable_now(fx, p + PAGE));
  /* The middle is executable already: only the two other pieces gain. */
  assert_int_equal(guest_mprotect(fx, p, 3 * PAGE, PROT_READ | PROT_EXEC), 0);
  assert_int_equal(fake_sitecache_ncalls, 3);
  assert_call(fx, 1, p, PAGE, PAGE);
  assert_call(fx, 2, p + 2 * PAGE, PAGE, 3 * PAGE);
  for (uint64_t at = p; at < p + 3 * PAGE; at += PAGE)
    assert_false(writable_now(fx, at));
  const struct vma *m = vma_find(&fx->vm->vmas, p + 2 * PAGE);
  assert_non_null(m);
  assert_int_equal(m->prot, PROT_READ | PROT_EXEC);
}

static void mprotect_from_prot_none(void **state) {
  struct fixture *fx = *state;
  uint64_t p = map_file(fx, PAGE, PROT_NONE, 0);
  assert_int_equal(guest_mprotect(fx, p, PAGE, PROT_READ | PROT_EXEC), 0);
  assert_int_equal(fake_sitecache_ncalls, 1);
  assert_call(fx, 0, p, PAGE, 0);
  uint8_t b;
  assert_int_equal(uaccess_copy_from(&fx->vm->mem, &b, p, 1), 0);
  assert_int_equal(b, 1);
  assert_false(writable_now(fx, p));
}

/* A range with a hole fails as before, and no piece is left writable. */
static void mprotect_over_a_hole_changes_nothing(void **state) {
  struct fixture *fx = *state;
  uint64_t p = map_file(fx, 3 * PAGE, PROT_READ, 0);
  const uint64_t un[6] = {p + PAGE, PAGE, 0, 0, 0, 0};
  assert_int_equal(sys_munmap(fx->vm, un), 0);
  assert_int_equal(guest_mprotect(fx, p, 3 * PAGE, PROT_READ | PROT_EXEC), -ENOMEM);
  assert_int_equal(fake_sitecache_ncalls, 0);
  assert_false(writable_now(fx, p));
}

static void no_rewrite_skips_mprotect(void **state) {
  struct fixture *fx = *state;
  test_cfg.no_rewrite = true;
  uint64_t p = map_file(fx, PAGE, PROT_READ, 0);
  assert_int_equal(guest_mprotect(fx, p, PAGE, PROT_READ | PROT_EXEC), 0);
  assert_int_equal(fake_sitecache_ncalls, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(mmap_exec_passes_its_file_range_while_writable, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(other_mappings_are_left_alone, setup, teardown),
      cmocka_unit_test_setup_teardown(mprotect_passes_the_pieces_gaining_exec, setup, teardown),
      cmocka_unit_test_setup_teardown(mprotect_from_prot_none, setup, teardown),
      cmocka_unit_test_setup_teardown(mprotect_over_a_hole_changes_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(no_rewrite_skips_mprotect, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
