/* Unit tests of the file-offset site lists (vmm/loader/filesites.c): on
 * real files — the static test programs, a shared library of our own and
 * the host's libc and ld.so — every site is a `syscall` in objdump's
 * listing once its offset is mapped back to an address, nearly all of
 * objdump's are found, and a constant holding 0f 05 is not; files that are
 * not usable ELF objects are refused. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "loader/elf.h"
#include "loader/filesites.h"
#include "loader_test.h"

static const char *const so_paths[] = {LOADER_TEST_SOS};
static const char *const so_sites[] = {LOADER_TEST_SO_SITES};
#define NSOS (sizeof so_paths / sizeof so_paths[0])

/* The link-time address of file offset `off` in an executable segment. */
static bool exec_vaddr(const struct elf_info *info, uint64_t off, uint64_t *vaddr) {
  for (size_t i = 0; i < info->nload; i++) {
    const struct elf_segment *s = &info->load[i];
    if ((s->flags & PF_X) && off >= s->offset && off - s->offset + 2 <= s->filesz) {
      *vaddr = s->vaddr + (off - s->offset);
      return true;
    }
  }
  return false;
}

static bool listed(const uint64_t *v, long n, uint64_t a) {
  for (long k = 0; k < n; k++)
    if (v[k] == a)
      return true;
  return false;
}

/* Checks the list of `file` against objdump's (`sites_base`.sites); true
 * when it holds at least nine in ten of objdump's syscalls. */
static bool check_against_objdump(const char *name, const uint8_t *file, size_t len,
                                  const char *sites_base, const struct file_sites *s) {
  struct elf_info info;
  const char *why;
  assert_int_equal(elf_parse_mapped(file, len, len, &info, &why), 0);
  uint64_t *expect = NULL;
  long ne = lt_read_objdump_sites(sites_base, &expect);
  assert_true(ne >= 2);
  for (size_t i = 0; i < s->n; i++) {
    uint64_t vaddr;
    assert_true(i == 0 || s->v[i] > s->v[i - 1]);
    assert_true(s->v[i] + 2 <= len);
    assert_true(file[s->v[i]] == 0x0f && file[s->v[i] + 1] == 0x05);
    if (!exec_vaddr(&info, s->v[i], &vaddr))
      fail_msg("%s: offset %#llx is in no executable segment", name, (unsigned long long)s->v[i]);
    if (!listed(expect, ne, vaddr))
      fail_msg("%s: site %#llx (offset %#llx) is not a syscall in objdump's listing", name,
               (unsigned long long)vaddr, (unsigned long long)s->v[i]);
  }
  print_message("%s: %zu of objdump's %ld syscalls\n", name, s->n, ne);
  free(expect);
  return s->n * 10 >= (size_t)ne * 9;
}

static void find_in(const char *path, const char *sites_base, bool expect_most) {
  size_t len = 0;
  uint8_t *file = lt_read_file(path, &len);
  assert_non_null(file);
  struct file_sites s;
  struct filesites_report rep;
  const char *why = NULL;
  assert_int_equal(filesites_find(file, len, &s, &rep, &why), 0);
  assert_true(rep.funcs > 0);
  bool most = check_against_objdump(path, file, len, sites_base, &s);
  if (expect_most && !most)
    fail_msg("%s: only %zu sites found", path, s.n);
  file_sites_free(&s);
  free(file);
}

static void programs_match_objdump(void **state) {
  for (size_t p = 0; p < LOADER_TEST_NPROGS; p++)
    find_in(loader_test_progs[p], loader_test_progs[p], !lt_is_musl(loader_test_progs[p]));
}

/* Shared objects have e_entry 0 and text at an offset other than its
 * address: the list must still be file offsets. */
static void shared_objects_match_objdump(void **state) {
  assert_true(NSOS >= 1);
  for (size_t i = 0; i < NSOS; i++)
    find_in(so_paths[i], so_sites[i], true);
}

static void our_library_exactly(void **state) {
  size_t len = 0;
  uint8_t *file = lt_read_file(so_paths[0], &len);
  assert_non_null(file);
  struct elf_info info;
  const char *why = NULL;
  assert_int_equal(elf_parse(file, len, len, &info, &why), -ENOEXEC); /* no entry point */
  assert_int_equal(elf_parse_mapped(file, len, len, &info, &why), 0);
  for (size_t i = 0; i < info.nload; i++) /* so offsets and addresses cannot be mixed up */
    assert_int_not_equal(info.load[i].vaddr, info.load[i].offset);
  struct file_sites s;
  assert_int_equal(filesites_find(file, len, &s, NULL, NULL), 0);
  assert_int_equal(s.n, 2); /* lib_getpid and lib_write; not lib_constant's immediate */
  size_t byte_pairs = 0;
  for (size_t i = 0; i + 1 < len; i++)
    byte_pairs += file[i] == 0x0f && file[i + 1] == 0x05;
  assert_true(byte_pairs > s.n);
  file_sites_free(&s);
  free(file);
}

static void refuses_what_is_not_a_mappable_elf(void **state) {
  static const uint8_t script[] = "#!/bin/sh\necho hi\n";
  struct file_sites s = {.n = 7};
  const char *why = NULL;
  assert_int_equal(filesites_find(script, sizeof script, &s, NULL, &why), -ENOEXEC);
  assert_non_null(why);
  assert_int_equal(s.n, 0);
  assert_null(s.v);
  size_t len = 0;
  uint8_t *file = lt_read_file(so_paths[0], &len);
  assert_non_null(file);
  /* Cut short: its program headers or segments lie past the end. */
  assert_int_equal(filesites_find(file, 256, &s, NULL, &why), -ENOEXEC);
  assert_int_equal(filesites_find(file, len / 2, &s, NULL, &why), -ENOEXEC);
  file[EI_CLASS] = ELFCLASS32;
  assert_int_equal(filesites_find(file, len, &s, NULL, &why), -ENOEXEC);
  free(file);
}

static void copies_lists(void **state) {
  uint64_t v[] = {3, 9, 27};
  struct file_sites src = {.v = v, .n = 3}, dst, none = {0};
  assert_int_equal(file_sites_copy(&dst, &src), 0);
  assert_int_equal(dst.n, 3);
  assert_ptr_not_equal(dst.v, v);
  assert_memory_equal(dst.v, v, sizeof v);
  file_sites_free(&dst);
  assert_int_equal(file_sites_copy(&dst, &none), 0);
  assert_int_equal(dst.n, 0);
  file_sites_free(&dst);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(programs_match_objdump),
      cmocka_unit_test(shared_objects_match_objdump),
      cmocka_unit_test(our_library_exactly),
      cmocka_unit_test(refuses_what_is_not_a_mappable_elf),
      cmocka_unit_test(copies_lists),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
