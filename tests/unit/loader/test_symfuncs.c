/* Unit tests of function ranges taken from .symtab: only defined, sized
 * functions count, FDE starts are not added twice, bounds hold. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loader/ehframe.h"
#include "loader/symfuncs.h"

static Elf64_Sym sym(unsigned char type, uint16_t shndx, uint64_t value, uint64_t size) {
  return (Elf64_Sym){.st_info = ELF64_ST_INFO(STB_GLOBAL, type),
                     .st_shndx = shndx,
                     .st_value = value,
                     .st_size = size};
}

static void only_defined_sized_functions_are_taken(void **state) {
  (void)state;
  Elf64_Sym syms[] = {
      sym(STT_NOTYPE, SHN_UNDEF, 0, 0),    /* the null symbol */
      sym(STT_FUNC, 1, 0x1000, 0x40),      /* taken */
      sym(STT_OBJECT, 2, 0x2000, 0x10),    /* data */
      sym(STT_FUNC, SHN_UNDEF, 0x3000, 8), /* undefined */
      sym(STT_FUNC, 1, 0x4000, 0),         /* no size */
      sym(STT_FUNC, SHN_ABS, 0x5000, 8),   /* absolute: not in a section */
      sym(STT_FUNC, 1, 0x6000, 0x20),      /* already an FDE start */
      sym(STT_FUNC, 1, 0x7000, 0x30),      /* taken */
  };
  struct fde_range fde = {.start = 0x6000, .len = 0x20};
  struct ehframe_fdes copy = {0};
  assert_int_equal(symfuncs_append((const uint8_t *)syms, 0, &copy), 0);
  copy.v = calloc(1, sizeof *copy.v);
  copy.v[0] = fde;
  copy.n = copy.cap = 1;
  assert_int_equal(symfuncs_append((const uint8_t *)syms, sizeof syms, &copy), 2);
  assert_int_equal(copy.n, 3);
  assert_int_equal(copy.v[1].start, 0x1000);
  assert_int_equal(copy.v[1].len, 0x40);
  assert_int_equal(copy.v[2].start, 0x7000);
  /* A truncated trailing symbol is ignored, not read past the end. */
  assert_int_equal(symfuncs_append((const uint8_t *)syms, sizeof(Elf64_Sym) * 2 - 1, &copy), 0);
  ehframe_fdes_free(&copy);
}

static void the_symtab_is_found_and_bounded(void **state) {
  (void)state;
  Elf64_Shdr sh[3] = {0};
  sh[1].sh_type = SHT_PROGBITS;
  sh[2].sh_type = SHT_SYMTAB;
  sh[2].sh_offset = 100;
  sh[2].sh_size = 48;
  struct ehframe_section s;
  assert_int_equal(symfuncs_find_symtab((const uint8_t *)sh, 3, 1000, &s), 0);
  assert_int_equal(s.offset, 100);
  assert_int_equal(s.size, 48);
  assert_int_equal(symfuncs_find_symtab((const uint8_t *)sh, 3, 120, &s), -ENOENT);
  assert_int_equal(symfuncs_find_symtab((const uint8_t *)sh, 2, 1000, &s), -ENOENT);
  sh[2].sh_offset = UINT64_MAX - 10;
  assert_int_equal(symfuncs_find_symtab((const uint8_t *)sh, 3, 1000, &s), -ENOENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(only_defined_sized_functions_are_taken),
      cmocka_unit_test(the_symtab_is_found_and_bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
