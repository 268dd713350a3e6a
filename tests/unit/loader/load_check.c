/* load_check.c - checks of a loaded program shared by the loader's
 * load_program tests (see load_check.h). */
#include "load_check.h"

#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "loader/elf.h"
#include "loader_test.h"
#include "mem/layout.h"
#include "mem/uaccess.h"
#include "vm.h"

static uint64_t guest_word(struct vm *vm, uint64_t gva) {
  uint64_t v;
  assert_int_equal(uaccess_copy_from(&vm->mem, &v, gva, 8), 0);
  return v;
}

/* Checks that the guest holds the NUL-terminated string `want` at gva. */
static void expect_guest_str(struct vm *vm, uint64_t gva, const char *want) {
  size_t n = strlen(want) + 1;
  char *got = malloc(n);
  assert_non_null(got);
  assert_int_equal(uaccess_copy_from(&vm->mem, got, gva, n), 0);
  assert_memory_equal(got, want, n);
  free(got);
}

static uint64_t auxv_value(struct vm *vm, uint64_t at, uint64_t type) {
  for (;; at += 16) {
    uint64_t t = guest_word(vm, at);
    if (t == type)
      return guest_word(vm, at + 8);
    if (t == AT_NULL)
      fail_msg("auxv entry %llu missing", (unsigned long long)type);
  }
}

static int segment_prot(uint32_t f) {
  return (f & PF_R ? PROT_READ : 0) | (f & PF_W ? PROT_WRITE : 0) | (f & PF_X ? PROT_EXEC : 0);
}

static void check_pages(struct vm *vm, uint64_t start, uint64_t end, int want_prot,
                        enum vma_kind want_kind, load_check_mapping_fn mapping) {
  for (uint64_t page = start; page < end; page += GUEST_PAGE_SIZE) {
    int prot;
    enum vma_kind kind;
    if (!mapping(vm, page, &prot, &kind))
      fail_msg("page %#llx not mapped", (unsigned long long)page);
    assert_int_equal(prot, want_prot);
    assert_int_equal(kind, want_kind);
  }
}

/* One segment against the file; returns the sites rewritten in it. */
static uint64_t check_segment(struct vm *vm, const uint8_t *file, const struct elf_segment *s,
                              uint64_t bias, load_check_mapping_fn mapping) {
  uint64_t va = s->vaddr + bias, start = va & GUEST_PAGE_MASK;
  uint64_t end = (va + s->memsz + GUEST_PAGE_SIZE - 1) & GUEST_PAGE_MASK;
  check_pages(vm, start, end, segment_prot(s->flags), VMA_IMAGE, mapping);
  uint8_t *mem = malloc(end - start);
  assert_non_null(mem);
  assert_int_equal(uaccess_copy_from(&vm->mem, mem, start, end - start), 0);
  const uint8_t *in = mem + (va - start), *src = file + s->offset;
  uint64_t rewritten = 0;
  for (uint64_t k = 0; k < s->filesz; k++) {
    if (in[k] == src[k])
      continue;
    assert_true(k + 1 < s->filesz && src[k] == 0x0f && src[k + 1] == 0x05);
    assert_true(in[k] == 0xe6 && in[k + 1] == PORT_SYSCALL && (s->flags & PF_X));
    rewritten++;
    k++;
  }
  for (uint64_t k = (va - start) + s->filesz; k < end - start; k++)
    if (mem[k] != 0)
      fail_msg("byte %#llx past p_filesz is not zero", (unsigned long long)(start + k));
  free(mem);
  return rewritten;
}

static void check_vectors(struct vm *vm, uint64_t sp) {
  char *const *argv = vm->cfg->argv, *const *env = vm->cfg->env;
  uint64_t argc = 0, envc = 0;
  while (argv[argc])
    argc++;
  while (env && env[envc])
    envc++;
  assert_int_equal(guest_word(vm, sp), argc);
  for (uint64_t i = 0; i < argc; i++)
    expect_guest_str(vm, guest_word(vm, sp + 8 + 8 * i), argv[i]);
  assert_int_equal(guest_word(vm, sp + 8 + 8 * argc), 0);
  uint64_t envp = sp + 16 + 8 * argc;
  for (uint64_t i = 0; i < envc; i++)
    expect_guest_str(vm, guest_word(vm, envp + 8 * i), env[i]);
  assert_int_equal(guest_word(vm, envp + 8 * envc), 0);
}

static void check_auxv(struct vm *vm, uint64_t aux, const struct elf_info *info,
                       const uint8_t *file, uint64_t bias) {
  assert_int_equal(auxv_value(vm, aux, AT_ENTRY), info->entry + bias);
  assert_int_equal(auxv_value(vm, aux, AT_PHNUM), info->phnum);
  assert_int_equal(auxv_value(vm, aux, AT_PHENT), 56);
  assert_int_equal(auxv_value(vm, aux, AT_PAGESZ), 4096);
  assert_int_equal(auxv_value(vm, aux, AT_BASE), 0);
  uint8_t phdrs[ELF_MAX_PHNUM * 56];
  uint64_t phdr = auxv_value(vm, aux, AT_PHDR);
  assert_int_equal(uaccess_copy_from(&vm->mem, phdrs, phdr, info->phnum * 56u), 0);
  assert_memory_equal(phdrs, file + info->phoff, info->phnum * 56u);
  uint8_t rnd[16];
  assert_int_equal(uaccess_copy_from(&vm->mem, rnd, auxv_value(vm, aux, AT_RANDOM), 16), 0);
  assert_memory_equal(rnd, vm->proc.random, 16);
  expect_guest_str(vm, auxv_value(vm, aux, AT_EXECFN), vm->cfg->argv[0]);
  expect_guest_str(vm, auxv_value(vm, aux, AT_PLATFORM), "x86_64");
}

static void check_layout(struct vm *vm, const struct elf_info *info, uint64_t bias, uint64_t sp,
                         load_check_mapping_fn mapping) {
  uint64_t stack_size = vm->mm.stack_top - vm->mm.stack_bottom;
  uint64_t want = vm->mem.size / 8 < (8ULL << 20) ? vm->mem.size / 8 : 8ULL << 20;
  assert_int_equal(stack_size, want);
  assert_true(vm->mm.stack_top <= LAYOUT_STACK_TOP && vm->mm.stack_top % GUEST_PAGE_SIZE == 0);
  check_pages(vm, vm->mm.stack_bottom, vm->mm.stack_top, PROT_READ | PROT_WRITE, VMA_STACK,
              mapping);
  assert_int_equal(vm->mm.mmap_top, vm->mm.stack_bottom - LAYOUT_STACK_GAP);
  assert_int_equal(sp % 16, 0);
  assert_true(sp > vm->mm.stack_bottom && sp < vm->mm.stack_top);
  uint64_t end = info->hi + bias;
  assert_int_equal(vm->mm.brk_start % GUEST_PAGE_SIZE, 0);
  assert_int_equal(vm->mm.brk, vm->mm.brk_start);
  assert_true(vm->mm.brk_start >= end && vm->mm.brk_start < end + (32ULL << 20));
  assert_true(vm->mm.brk_limit > vm->mm.brk_start && vm->mm.brk_limit <= vm->mm.mmap_top);
  int prot;
  enum vma_kind kind;
  assert_false(mapping(vm, vm->mm.brk_start, &prot, &kind));
}

uint64_t load_check_program(struct vm *vm, const struct load_result *lr, const char *host,
                            load_check_mapping_fn mapping) {
  size_t len = 0;
  uint8_t *file = lt_read_file(host, &len);
  struct elf_info info;
  const char *why;
  assert_non_null(file);
  assert_int_equal(elf_parse(file, len, len, &info, &why), 0);
  uint64_t bias = vm->mm.load_bias;
  assert_int_equal(bias % GUEST_PAGE_SIZE, 0);
  assert_int_equal(lr->entry, info.entry + bias);
  uint64_t rewritten = 0;
  for (size_t i = 0; i < info.nload; i++)
    rewritten += check_segment(vm, file, &info.load[i], bias, mapping);
  assert_int_equal(rewritten, vm->stats.sites_rewritten);
  check_vectors(vm, lr->sp);
  uint64_t argc = guest_word(vm, lr->sp), envc = 0;
  while (vm->cfg->env && vm->cfg->env[envc])
    envc++;
  check_auxv(vm, lr->sp + 8 * (argc + envc + 3), &info, file, bias);
  check_layout(vm, &info, bias, lr->sp, mapping);
  free(file);
  return rewritten;
}
