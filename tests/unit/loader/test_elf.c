/* Unit tests of ELF header validation (vmm/loader/elf.c): a hand-built
 * executable is accepted, then broken one field at a time, each break must
 * be refused with -ENOEXEC; random corruption never crashes the parser; and
 * real executables parse with the right facts. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "loader/elf.h"
#include "loader_test.h"

#define FILE_SIZE 0x2000u
#define TEXT 0x400000ULL

/* An executable described field by field, serialised on demand. */
struct spec {
  Elf64_Ehdr eh;
  Elf64_Phdr ph[ELF_MAX_PHNUM + 2];
  uint8_t file[FILE_SIZE];
  uint64_t file_size;
};

static void base(struct spec *s) {
  memset(s, 0, sizeof *s);
  memcpy(s->eh.e_ident, ELFMAG, SELFMAG);
  s->eh.e_ident[EI_CLASS] = ELFCLASS64;
  s->eh.e_ident[EI_DATA] = ELFDATA2LSB;
  s->eh.e_ident[EI_VERSION] = EV_CURRENT;
  s->eh.e_type = ET_EXEC;
  s->eh.e_machine = EM_X86_64;
  s->eh.e_version = EV_CURRENT;
  s->eh.e_entry = TEXT + 0x100;
  s->eh.e_phoff = sizeof(Elf64_Ehdr);
  s->eh.e_ehsize = sizeof(Elf64_Ehdr);
  s->eh.e_phentsize = sizeof(Elf64_Phdr);
  s->eh.e_phnum = 4;
  s->ph[0] = (Elf64_Phdr){.p_type = PT_PHDR,
                          .p_flags = PF_R,
                          .p_offset = 64,
                          .p_vaddr = TEXT + 64,
                          .p_filesz = 4 * 56,
                          .p_memsz = 4 * 56,
                          .p_align = 8};
  s->ph[1] = (Elf64_Phdr){.p_type = PT_LOAD,
                          .p_flags = PF_R | PF_X,
                          .p_offset = 0,
                          .p_vaddr = TEXT,
                          .p_filesz = 0x1000,
                          .p_memsz = 0x1000,
                          .p_align = 0x1000};
  s->ph[2] = (Elf64_Phdr){.p_type = PT_LOAD,
                          .p_flags = PF_R | PF_W,
                          .p_offset = 0x1000,
                          .p_vaddr = TEXT + 0x2000,
                          .p_filesz = 0x800,
                          .p_memsz = 0x3000,
                          .p_align = 0x1000};
  s->ph[3] = (Elf64_Phdr){.p_type = PT_GNU_STACK, .p_flags = PF_R | PF_W};
  s->file_size = FILE_SIZE;
}

static int parse(struct spec *s, struct elf_info *info, const char **why) {
  memset(s->file, 0, sizeof s->file);
  memcpy(s->file, &s->eh, sizeof s->eh);
  size_t phsize = (size_t)s->eh.e_phnum * sizeof(Elf64_Phdr);
  if (s->eh.e_phoff < FILE_SIZE && phsize <= FILE_SIZE - s->eh.e_phoff)
    memcpy(s->file + s->eh.e_phoff, s->ph, phsize);
  *why = NULL;
  size_t len = s->file_size < FILE_SIZE ? (size_t)s->file_size : FILE_SIZE;
  return elf_parse(s->file, len, s->file_size, info, why);
}

/* Parses s and requires a rejection whose reason contains `reason`. */
static void expect_reason(struct spec *s, const char *reason) {
  struct elf_info info;
  const char *why;
  assert_int_equal(parse(s, &info, &why), -ENOEXEC);
  assert_non_null(why);
  if (!strstr(why, reason))
    fail_msg("rejected for \"%s\", expected \"%s\"", why, reason);
}

static void accepts_a_well_formed_executable(void **state) {
  struct spec s;
  struct elf_info info;
  const char *why;
  base(&s);
  assert_int_equal(parse(&s, &info, &why), 0);
  assert_int_equal(info.type, ET_EXEC);
  assert_int_equal(info.entry, TEXT + 0x100);
  assert_int_equal(info.nload, 2);
  assert_int_equal(info.lo, TEXT);
  assert_int_equal(info.hi, TEXT + 0x5000);
  assert_int_equal(info.phdr_vaddr, TEXT + 64);
  assert_int_equal(info.phnum, 4);
  assert_false(info.interp.present);
  assert_false(info.exec_stack);
  assert_false(info.has_tls);
  assert_int_equal(info.load[1].memsz, 0x3000);
}

static void finds_phdrs_without_pt_phdr(void **state) {
  struct spec s;
  struct elf_info info;
  const char *why;
  base(&s);
  s.ph[0].p_type = PT_NOTE;
  assert_int_equal(parse(&s, &info, &why), 0);
  assert_int_equal(info.phdr_vaddr, TEXT + 64); /* inside the text PT_LOAD */
}

static void accepts_position_independent_and_records_extras(void **state) {
  struct spec s;
  struct elf_info info;
  const char *why;
  base(&s);
  s.eh.e_type = ET_DYN;
  s.eh.e_entry = 0x100;
  s.ph[0] = (Elf64_Phdr){.p_type = PT_INTERP, .p_offset = 0x200, .p_filesz = 28, .p_memsz = 28};
  s.ph[1].p_vaddr = 0;
  s.ph[2].p_vaddr = 0x2000;
  s.ph[3] = (Elf64_Phdr){.p_type = PT_GNU_EH_FRAME,
                         .p_offset = 0x300,
                         .p_vaddr = 0x300,
                         .p_filesz = 0x40,
                         .p_memsz = 0x40,
                         .p_align = 4};
  s.eh.e_phnum = 5;
  s.ph[4] = (Elf64_Phdr){.p_type = PT_TLS,
                         .p_offset = 0x1000,
                         .p_vaddr = 0x2000,
                         .p_filesz = 0x10,
                         .p_memsz = 0x20,
                         .p_align = 8};
  assert_int_equal(parse(&s, &info, &why), 0);
  assert_int_equal(info.type, ET_DYN);
  assert_int_equal(info.lo, 0);
  assert_true(info.interp.present);
  assert_int_equal(info.interp.offset, 0x200);
  assert_true(info.eh_frame_hdr.present);
  assert_int_equal(info.eh_frame_hdr.vaddr, 0x300);
  assert_true(info.has_tls);
  assert_true(info.exec_stack); /* no PT_GNU_STACK now */
}

static void rejects_bad_identification(void **state) {
  struct spec s;
  base(&s);
  s.eh.e_ident[1] = 'X';
  expect_reason(&s, "magic");
  base(&s);
  s.eh.e_ident[EI_CLASS] = ELFCLASS32;
  expect_reason(&s, "64-bit");
  base(&s);
  s.eh.e_ident[EI_DATA] = ELFDATA2MSB;
  expect_reason(&s, "little-endian");
  base(&s);
  s.eh.e_ident[EI_VERSION] = 2;
  expect_reason(&s, "version");
  base(&s);
  s.eh.e_version = 0;
  expect_reason(&s, "version");
  base(&s);
  s.eh.e_machine = EM_AARCH64;
  expect_reason(&s, "x86-64");
  base(&s);
  s.eh.e_type = ET_REL;
  expect_reason(&s, "executable");
  base(&s);
  s.eh.e_type = ET_CORE;
  expect_reason(&s, "executable");
}

static void rejects_truncated_files(void **state) {
  struct spec s;
  struct elf_info info;
  const char *why;
  base(&s);
  for (uint64_t size = 0; size < 64 + 4 * 56; size++) {
    s.file_size = size;
    assert_int_equal(parse(&s, &info, &why), -ENOEXEC);
  }
  /* The buffer handed over must hold the program headers. */
  base(&s);
  parse(&s, &info, &why);
  assert_int_equal(elf_parse(s.file, 64 + 3 * 56, FILE_SIZE, &info, &why), -ENOEXEC);
  assert_int_equal(elf_parse_phdrs(s.file + 64, 3 * 56, FILE_SIZE, &info, &why), -ENOEXEC);
}

static void rejects_bad_program_header_table(void **state) {
  struct spec s;
  base(&s);
  s.eh.e_phentsize = 32;
  expect_reason(&s, "program header size");
  base(&s);
  s.eh.e_phnum = 0;
  expect_reason(&s, "no program headers");
  base(&s);
  s.eh.e_phnum = ELF_MAX_PHNUM + 1;
  expect_reason(&s, "too many");
  base(&s);
  s.eh.e_phoff = FILE_SIZE - 100; /* runs off the end */
  expect_reason(&s, "outside the file");
  base(&s);
  s.eh.e_phoff = UINT64_MAX - 8; /* wraps */
  expect_reason(&s, "outside the file");
}

static void rejects_bad_sizes(void **state) {
  struct spec s;
  base(&s);
  s.ph[2].p_filesz = 0x4000; /* > memsz */
  expect_reason(&s, "file size exceeds its memory size");
  base(&s);
  s.ph[2].p_filesz = 0x1800; /* offset + filesz > file size */
  s.ph[2].p_memsz = 0x1800;
  expect_reason(&s, "beyond the end of the file");
  base(&s);
  s.ph[2].p_offset = UINT64_MAX - 0xfff; /* offset + filesz wraps */
  expect_reason(&s, "beyond the end of the file");
  base(&s);
  s.ph[2].p_memsz = UINT64_MAX - 0x1000; /* vaddr + memsz wraps */
  expect_reason(&s, "overflows");
  base(&s);
  s.ph[2].p_vaddr = TEXT + (1ULL << 41); /* span > 1 TiB */
  expect_reason(&s, "1 TiB");
}

static void rejects_bad_alignment(void **state) {
  struct spec s;
  base(&s);
  s.ph[2].p_align = 0x1800;
  expect_reason(&s, "power of two");
  base(&s);
  s.ph[2].p_vaddr += 8; /* vaddr and offset disagree modulo the page size */
  expect_reason(&s, "modulo the page size");
}

static void rejects_unsorted_and_overlapping_segments(void **state) {
  struct spec s;
  base(&s);
  Elf64_Phdr t = s.ph[1]; /* data before text */
  s.ph[1] = s.ph[2];
  s.ph[2] = t;
  expect_reason(&s, "not sorted");
  base(&s);
  s.ph[2].p_vaddr = TEXT; /* data on top of text */
  expect_reason(&s, "overlap");
  base(&s);
  s.ph[1].p_memsz = 0x1400; /* text's .bss and data share page TEXT+0x1000 */
  s.ph[2].p_vaddr = TEXT + 0x1800;
  s.ph[2].p_offset = 0x1800;
  expect_reason(&s, "share a page");
}

static void rejects_segments_outside_user_space(void **state) {
  struct spec s;
  base(&s);
  s.ph[1].p_vaddr = 0; /* page 0 for a fixed-address program */
  s.ph[0].p_vaddr = 64;
  s.eh.e_entry = 0x100;
  expect_reason(&s, "lowest mappable");
  base(&s);
  s.ph[2].p_type = PT_NOTE; /* one segment ending past the 47-bit space */
  s.ph[1].p_vaddr = 0x7fffffffe000ULL;
  s.ph[1].p_memsz = 0x2000;
  s.eh.e_entry = 0x7fffffffe100ULL;
  expect_reason(&s, "user address space");
  base(&s);
  s.ph[2].p_vaddr = 0xffff800000002000ULL; /* kernel half */
  expect_reason(&s, "user address space");
}

static void rejects_entry_outside_executable_code(void **state) {
  struct spec s;
  base(&s);
  s.eh.e_entry = TEXT + 0x2100; /* in the writable data */
  expect_reason(&s, "entry point");
  base(&s);
  s.eh.e_entry = 0x10; /* nowhere */
  expect_reason(&s, "entry point");
  base(&s);
  s.eh.e_entry = TEXT + 0x1000; /* one past the end of text */
  expect_reason(&s, "entry point");
}

static void rejects_no_loadable_segment(void **state) {
  struct spec s;
  base(&s);
  s.ph[1].p_type = PT_NOTE;
  s.ph[2].p_type = PT_NOTE;
  expect_reason(&s, "no loadable segment");
}

static void checks_interpreter(void **state) {
  struct spec s;
  const char *why;
  base(&s);
  s.ph[3] = (Elf64_Phdr){.p_type = PT_INTERP, .p_offset = 0x200, .p_filesz = 28, .p_memsz = 28};
  s.eh.e_phnum = 5;
  s.ph[4] = s.ph[3]; /* twice */
  expect_reason(&s, "more than one PT_INTERP");
  base(&s);
  s.ph[3] = (Elf64_Phdr){.p_type = PT_INTERP, .p_offset = 0, .p_filesz = ELF_INTERP_MAX + 1};
  s.ph[3].p_memsz = s.ph[3].p_filesz;
  expect_reason(&s, "too long");
  assert_int_equal(elf_check_interp("/lib/ld.so", 11, &why), 0);
  assert_int_equal(elf_check_interp("/lib/ld.so", 10, &why), -ENOEXEC); /* no NUL */
  assert_int_equal(elf_check_interp("/lib\0d.so", 10, &why), -ENOEXEC); /* early NUL */
  assert_int_equal(elf_check_interp("", 1, &why), -ENOEXEC);
}

static void survives_random_corruption(void **state) {
  struct spec s;
  struct elf_info info;
  const char *why;
  uint32_t seed = 12345;
  unsigned accepted = 0;
  for (int round = 0; round < 20000; round++) {
    base(&s);
    parse(&s, &info, &why);
    uint8_t buf[FILE_SIZE];
    memcpy(buf, s.file, sizeof buf);
    for (int k = 0; k < 1 + round % 4; k++) {
      seed = seed * 1103515245u + 12345u;
      buf[(seed >> 8) % (64 + 4 * 56)] ^= (uint8_t)(1u << ((seed >> 4) % 8));
    }
    if (elf_parse(buf, sizeof buf, FILE_SIZE, &info, &why) != 0)
      continue;
    accepted++;
    assert_true(info.nload >= 1 && info.lo < info.hi);
    for (size_t i = 1; i < info.nload; i++)
      assert_true(info.load[i].vaddr >= info.load[i - 1].vaddr + info.load[i - 1].memsz);
    for (size_t i = 0; i < info.nload; i++)
      if (info.load[i].filesz)
        assert_ptr_equal(elf_segment_at(&info, info.load[i].vaddr), &info.load[i]);
  }
  assert_true(accepted > 0); /* some flips are harmless (e.g. in p_paddr) */
}

static void parses_real_static_programs(void **state) {
  for (size_t i = 0; i < LOADER_TEST_NPROGS; i++) {
    size_t len = 0;
    uint8_t *buf = lt_read_file(loader_test_progs[i], &len);
    struct elf_info info;
    const char *why = NULL;
    assert_non_null(buf);
    assert_int_equal(elf_parse(buf, len, len, &info, &why), 0);
    assert_false(info.interp.present);
    assert_true(info.nload >= 2);
    assert_true(info.has_sections);
    assert_non_null(elf_segment_at(&info, info.phdr_vaddr));
    bool pie = strstr(loader_test_progs[i], "_pie") != NULL;
    assert_int_equal(info.type, pie ? ET_DYN : ET_EXEC);
    free(buf);
  }
}

static void parses_a_dynamic_program_with_its_interpreter(void **state) {
  size_t len = 0;
  uint8_t *buf = lt_read_file("/proc/self/exe", &len);
  struct elf_info info;
  const char *why = NULL;
  assert_non_null(buf);
  assert_int_equal(elf_parse(buf, len, len, &info, &why), 0);
  assert_true(info.interp.present);
  assert_true(info.interp.offset + info.interp.filesz <= len);
  assert_int_equal(
      elf_check_interp((const char *)buf + info.interp.offset, info.interp.filesz, &why), 0);
  assert_non_null(strstr((const char *)buf + info.interp.offset, "ld-"));
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(accepts_a_well_formed_executable),
      cmocka_unit_test(finds_phdrs_without_pt_phdr),
      cmocka_unit_test(accepts_position_independent_and_records_extras),
      cmocka_unit_test(rejects_bad_identification),
      cmocka_unit_test(rejects_truncated_files),
      cmocka_unit_test(rejects_bad_program_header_table),
      cmocka_unit_test(rejects_bad_sizes),
      cmocka_unit_test(rejects_bad_alignment),
      cmocka_unit_test(rejects_unsorted_and_overlapping_segments),
      cmocka_unit_test(rejects_segments_outside_user_space),
      cmocka_unit_test(rejects_entry_outside_executable_code),
      cmocka_unit_test(rejects_no_loadable_segment),
      cmocka_unit_test(checks_interpreter),
      cmocka_unit_test(survives_random_corruption),
      cmocka_unit_test(parses_real_static_programs),
      cmocka_unit_test(parses_a_dynamic_program_with_its_interpreter),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
