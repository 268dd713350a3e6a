/* Unit tests of the site rewriter (vmm/loader/rewrite.c) over a fake
 * guest memory standing in for vmm/mem/uaccess.c: sites that still read
 * `syscall` become `out 0x90, al`, anything else is left untouched, and
 * --no-rewrite leaves everything alone. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "loader/rewrite.h"
#include "mem/layout.h"
#include "mem/uaccess.h"
#include "vm.h"

#define BASE 0x400000ULL
#define SIZE 0x2000u
#define READ_ONLY_FROM (BASE + 0x1000) /* the second page refuses writes */

static uint8_t guest[SIZE];

static bool fake_range(uint64_t gva, size_t len) {
  return gva >= BASE && len <= SIZE && gva - BASE <= SIZE - len;
}

int uaccess_copy_from(const struct gmem *m, void *dst, uint64_t gva, size_t len) {
  if (!fake_range(gva, len))
    return -EFAULT;
  memcpy(dst, guest + (gva - BASE), len);
  return 0;
}

int uaccess_copy_to(const struct gmem *m, uint64_t gva, const void *src, size_t len) {
  if (!fake_range(gva, len) || gva + len > READ_ONLY_FROM)
    return -EFAULT;
  memcpy(guest + (gva - BASE), src, len);
  return 0;
}

static void rewrites_syscalls_and_nothing_else(void **state) {
  struct vm_config cfg = {.no_rewrite = false};
  struct vm vm = {.cfg = &cfg};
  memset(guest, 0x90, sizeof guest);
  static const uint8_t syscall_insn[2] = {0x0f, 0x05};
  memcpy(guest + 0x10, syscall_insn, 2);
  memcpy(guest + 0x20, syscall_insn, 2);
  memcpy(guest + 0xfff, syscall_insn, 2);  /* straddles into the read-only page */
  memcpy(guest + 0x1100, syscall_insn, 2); /* read-only page */
  guest[0x30] = 0x0f;                      /* 0f 90: not a syscall */
  uint64_t bias = 0x100000;
  uint64_t sites[] = {BASE + 0x10 - bias,  BASE + 0x20 - bias,   BASE + 0x30 - bias,
                      BASE + 0xfff - bias, BASE + 0x1100 - bias, 0x10 /* unmapped */};
  vm.stats.sites_rewritten = 5;
  assert_int_equal(rewrite_sites(&vm, sites, 6, bias), 2);
  assert_int_equal(vm.stats.sites_rewritten, 7);
  assert_int_equal(guest[0x10], 0xe6);
  assert_int_equal(guest[0x11], PORT_SYSCALL);
  assert_int_equal(guest[0x20], 0xe6);
  assert_int_equal(guest[0x21], PORT_SYSCALL);
  assert_int_equal(guest[0x30], 0x0f);
  assert_int_equal(guest[0x31], 0x90);
  assert_memory_equal(guest + 0xfff, syscall_insn, 2);
  assert_memory_equal(guest + 0x1100, syscall_insn, 2);
  assert_int_equal(guest[0x12], 0x90);
  /* A second pass finds nothing left to do. */
  assert_int_equal(rewrite_sites(&vm, sites, 2, bias), 0);
}

static void no_rewrite_leaves_memory_alone(void **state) {
  struct vm_config cfg = {.no_rewrite = true};
  struct vm vm = {.cfg = &cfg};
  memset(guest, 0, sizeof guest);
  guest[0] = 0x0f;
  guest[1] = 0x05;
  uint64_t sites[] = {BASE};
  assert_int_equal(rewrite_sites(&vm, sites, 1, 0), 0);
  assert_int_equal(vm.stats.sites_rewritten, 0);
  assert_int_equal(guest[0], 0x0f);
  assert_int_equal(guest[1], 0x05);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rewrites_syscalls_and_nothing_else),
      cmocka_unit_test(no_rewrite_leaves_memory_alone),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
