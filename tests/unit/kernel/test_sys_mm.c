/* Unit tests of the memory system calls (sys_mm.c over mm.c, vma.c and the
 * page tables) as a hostile guest makes them: MADV_DONTNEED really drops
 * contents whatever the protection, keeps the mapping as it was, and ranges
 * that wrap around are refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "fake_vm.h"
#include "kernel/syscalls.h"
#include "mem/layout.h"
#include "mem/uaccess.h"
#include "mem/vma.h"

#define PAGE GUEST_PAGE_SIZE

static int setup(void **state) {
  struct vm *vm = test_vm_new();
  vma_space_init(&vm->vmas);
  vm->mm.mmap_top = LAYOUT_STACK_TOP - LAYOUT_STACK_GAP;
  *state = vm;
  return 0;
}

static int teardown(void **state) {
  struct vm *vm = *state;
  vma_space_fini(&vm->vmas);
  test_vm_free(vm);
  return 0;
}

static long call(struct vm *vm, sys_fn *fn, uint64_t a0, uint64_t a1, uint64_t a2) {
  const uint64_t a[6] = {a0, a1, a2, 0, (uint64_t)-1, 0};
  return fn(vm, a);
}

static uint64_t map_anon(struct vm *vm, uint64_t len, int prot) {
  const uint64_t a[6] = {0, len, (uint64_t)prot, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0};
  long addr = sys_mmap(vm, a);
  assert_true(addr > 0);
  return (uint64_t)addr;
}

static void poke(struct vm *vm, uint64_t gva, char c) {
  assert_int_equal(uaccess_copy_to(&vm->mem, gva, &c, 1), 0);
}

static char peek(struct vm *vm, uint64_t gva) {
  char c;
  assert_int_equal(uaccess_copy_from(&vm->mem, &c, gva, 1), 0);
  return c;
}

/* Linux zaps the pages of a private anonymous mapping whatever its
 * protection: made accessible again, they read zero. Skipping PROT_NONE
 * ranges returned 0 and left the old bytes there. */
static void dontneed_drops_protected_pages_too(void **state) {
  struct vm *vm = *state;
  uint64_t p = map_anon(vm, 2 * PAGE, PROT_READ | PROT_WRITE);
  poke(vm, p, 42);
  poke(vm, p + PAGE, 43);
  assert_int_equal(call(vm, sys_mprotect, p, 2 * PAGE, PROT_NONE), 0);
  assert_int_equal(call(vm, sys_madvise, p, 2 * PAGE, MADV_DONTNEED), 0);
  assert_int_equal(call(vm, sys_mprotect, p, 2 * PAGE, PROT_READ | PROT_WRITE), 0);
  assert_int_equal(peek(vm, p), 0);
  assert_int_equal(peek(vm, p + PAGE), 0);
}

/* MADV_DONTNEED changes contents, not mappings: advising the middle of a
 * mapping must not split it (a malloc that advises freed runs over and over
 * would otherwise fill the mapping table towards its cap). */
static void dontneed_keeps_the_mapping_whole(void **state) {
  struct vm *vm = *state;
  uint64_t p = map_anon(vm, 8 * PAGE, PROT_READ | PROT_WRITE);
  size_t before = vm->vmas.n;
  poke(vm, p + 3 * PAGE, 9);
  poke(vm, p + 5 * PAGE, 7);
  assert_int_equal(call(vm, sys_madvise, p + 2 * PAGE, 2 * PAGE, MADV_DONTNEED), 0);
  assert_int_equal(vm->vmas.n, before);
  assert_int_equal(peek(vm, p + 3 * PAGE), 0);
  assert_int_equal(peek(vm, p + 5 * PAGE), 7);
  poke(vm, p + 3 * PAGE, 1); /* still writable */
  assert_int_equal(call(vm, sys_madvise, p + 2 * PAGE, 2 * PAGE, MADV_FREE), 0);
  assert_int_equal(vm->vmas.n, before);
}

/* start + len past the end of the address space is -EINVAL for every
 * advice, as on Linux; it was taken as an empty range and answered 0. */
static void wrapping_ranges_are_invalid(void **state) {
  struct vm *vm = *state;
  const uint64_t top = 0xfffffffffffff000ULL;
  assert_int_equal(call(vm, sys_madvise, top, 2 * PAGE, MADV_NORMAL), -EINVAL);
  assert_int_equal(call(vm, sys_madvise, top, 2 * PAGE, MADV_DONTNEED), -EINVAL);
  assert_int_equal(call(vm, sys_madvise, top, 0, MADV_NORMAL), 0); /* len 0: nothing to do */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(dontneed_drops_protected_pages_too, setup, teardown),
      cmocka_unit_test_setup_teardown(dontneed_keeps_the_mapping_whole, setup, teardown),
      cmocka_unit_test_setup_teardown(wrapping_ranges_are_invalid, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
