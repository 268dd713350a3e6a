/* Unit tests of load_program over the real guest memory, page tables and
 * mappings (vmm/mem: gmem, uaccess, mm, vma), with only the file system
 * faked (fake_vfs.c): the loaded program is checked byte by byte through
 * the real checked accessor (load_check.c), and the protections it asked
 * for are really enforced. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "fake_vfs.h"
#include "load_check.h"
#include "loader/load.h"
#include "loader/sitecache.h"
#include "loader_test.h"
#include "mem/gmem.h"
#include "mem/layout.h"
#include "mem/mm.h"
#include "mem/uaccess.h"
#include "mem/vma.h"
#include "vm.h"

static struct vm test_vm;
static struct vm_config test_cfg;
static char *test_argv[] = {NULL, "arg", NULL};
static char *test_env[] = {"PATH=/bin", NULL};

static struct vm *fresh_vm(const char *prog, uint64_t mem_bytes, bool no_rewrite) {
  memset(&test_vm, 0, sizeof test_vm);
  test_argv[0] = (char *)prog;
  test_cfg = (struct vm_config){
      .mem_bytes = mem_bytes, .argv = test_argv, .env = test_env, .no_rewrite = no_rewrite};
  test_vm.cfg = &test_cfg;
  assert_int_equal(gmem_init(&test_vm.mem, mem_bytes), 0);
  vma_space_init(&test_vm.vmas);
  return &test_vm;
}

static void free_vm(void) {
  sitecache_destroy(test_vm.sitecache);
  test_vm.sitecache = NULL;
  vma_space_fini(&test_vm.vmas);
  gmem_fini(&test_vm.mem);
}

static bool real_mapping(struct vm *vm, uint64_t addr, int *prot, enum vma_kind *kind) {
  const struct vma *m = vma_find(&vm->vmas, addr);
  if (m) {
    *prot = m->prot;
    *kind = m->kind;
  }
  return m != NULL;
}

static int setup(void **state) {
  fake_vfs_setup();
  return 0;
}

static int teardown(void **state) {
  fake_vfs_teardown();
  return 0;
}

static void loads_and_protects_a_static_program(void **state) {
  struct vm *vm = fresh_vm("/bin/hello", 128ULL << 20, false);
  struct load_result lr;
  assert_int_equal(load_program(vm, &lr), 0);
  assert_true(load_check_program(vm, &lr, loader_test_progs[0], real_mapping) > 10);
  uint8_t byte = 0xcc;
  assert_int_equal(uaccess_copy_to(&vm->mem, lr.entry, &byte, 1), -EFAULT); /* code: r-x */
  assert_int_equal(uaccess_copy_from(&vm->mem, &byte, lr.entry, 1), 0);
  assert_int_equal(uaccess_copy_to(&vm->mem, lr.sp - 8, &byte, 1), 0); /* stack: rw- */
  assert_int_equal(uaccess_copy_from(&vm->mem, &byte, vm->mm.brk_start, 1), -EFAULT);
  free_vm();
}

static void loads_a_static_pie_without_rewriting(void **state) {
  struct vm *vm = fresh_vm("/bin/pie", 128ULL << 20, true);
  struct load_result lr;
  assert_int_equal(load_program(vm, &lr), 0);
  assert_int_equal(load_check_program(vm, &lr, loader_test_progs[1], real_mapping), 0);
  assert_true(vm->mm.load_bias >= LAYOUT_PIE_BASE);
  free_vm();
}

static void fits_in_the_smallest_guest(void **state) {
  struct vm *vm = fresh_vm("/bin/hello", 4ULL << 20, false);
  struct load_result lr;
  assert_int_equal(load_program(vm, &lr), 0);
  load_check_program(vm, &lr, loader_test_progs[0], real_mapping); /* stack: 512 KiB */
  free_vm();
}

static void reports_exhausted_guest_memory(void **state) {
  struct vm *vm = fresh_vm("/bin/hello", 4ULL << 20, false);
  /* Something already holds most of the memory. */
  assert_int_equal(mm_map_fixed(vm, 0x10000000, 3ULL << 20, PROT_READ, MAP_PRIVATE, VMA_ANON), 0);
  struct load_result lr;
  assert_int_equal(load_program(vm, &lr), -ENOMEM);
  free_vm();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(loads_and_protects_a_static_program, setup, teardown),
      cmocka_unit_test_setup_teardown(loads_a_static_pie_without_rewriting, setup, teardown),
      cmocka_unit_test_setup_teardown(fits_in_the_smallest_guest, setup, teardown),
      cmocka_unit_test_setup_teardown(reports_exhausted_guest_memory, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
