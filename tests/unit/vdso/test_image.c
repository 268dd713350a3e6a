/* test_image.c - the embedded vDSO image (vdso/image.h) is what glibc and
 * musl accept: an x86-64 ET_DYN whose one PT_LOAD starts at offset 0 and
 * covers its ELF header, a read-only PT_DYNAMIC, nothing to relocate, both
 * hash tables, and the five functions Linux's vDSO exports at version
 * LINUX_2.6 (also under their plain names), found the way each libc looks.
 * Its code is decoded too: no `syscall` anywhere, and the functions that
 * fall back to the VMM do so with hearth's `out 0x90, al`. */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <Zydis/Zydis.h>
#include <cmocka.h>

#include "mem/layout.h"
#include "vdso/image.h"
#include "vdso_elf.h"

#define VERSION "LINUX_2.6"

static const char *const exported[] = {"__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time",
                                       "__vdso_clock_getres", "__vdso_getcpu"};

static void open_image(struct vdso_elf *e) { vdso_elf_open(e, vdso_image_bytes, vdso_image_size); }

static void is_an_x86_64_shared_object(void **state) {
  (void)state;
  struct vdso_elf e;
  open_image(&e);
  assert_memory_equal(e.eh.e_ident, ELFMAG, SELFMAG);
  assert_int_equal(e.eh.e_ident[EI_CLASS], ELFCLASS64);
  assert_int_equal(e.eh.e_ident[EI_DATA], ELFDATA2LSB);
  assert_int_equal(e.eh.e_type, ET_DYN);
  assert_int_equal(e.eh.e_machine, EM_X86_64);
}

static void has_one_load_segment_covering_its_header(void **state) {
  (void)state;
  struct vdso_elf e;
  open_image(&e);
  assert_int_equal(e.loads, 1);
  assert_int_equal(e.load->p_offset, 0);
  assert_int_equal(e.load->p_vaddr, 0);
  assert_int_equal(e.load->p_filesz, e.load->p_memsz); /* nothing to zero-fill */
  assert_true(e.load->p_filesz <= vdso_image_size);
  assert_true(e.eh.e_phoff + e.eh.e_phnum * sizeof(Elf64_Phdr) <= e.load->p_filesz);
  assert_int_equal(e.load->p_flags, PF_R | PF_X);
  /* The dynamic section lies inside it and is read-only (glibc then
   * leaves it alone). */
  assert_true(e.dynamic->p_offset == e.dynamic->p_vaddr);
  assert_true(e.dynamic->p_vaddr + e.dynamic->p_memsz <= e.load->p_filesz);
  assert_int_equal(e.dynamic->p_flags & PF_W, 0);
  const Elf64_Phdr *ph = vdso_elf_at(&e, e.eh.e_phoff, e.eh.e_phnum * sizeof *ph);
  for (unsigned i = 0; i < e.eh.e_phnum; i++)
    assert_true(ph[i].p_type != PT_TLS && ph[i].p_type != PT_INTERP);
}

static void needs_no_relocation_and_has_both_hash_tables(void **state) {
  (void)state;
  struct vdso_elf e;
  open_image(&e);
  static const int absent[] = {DT_REL,        DT_RELA,   DT_JMPREL,   DT_TEXTREL,
                               DT_NEEDED,     DT_INIT,   DT_FINI,     DT_INIT_ARRAY,
                               DT_FINI_ARRAY, DT_PLTGOT, DT_SYMBOLIC, DT_RELR};
  for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
    if (e.dyn[absent[i]])
      fail_msg("dynamic tag %d present", absent[i]);
  assert_true(e.dyn[DT_HASH] != 0);
  assert_true(e.gnu_hash != 0);
  assert_true(e.dyn[DT_SYMTAB] != 0 && e.dyn[DT_STRTAB] != 0);
  assert_true(e.versym != 0 && e.verdef != 0);
  const char *soname = vdso_elf_at(&e, e.dyn[DT_STRTAB] + e.dyn[DT_SONAME], 16);
  assert_string_equal(soname, "linux-vdso.so.1");
}

/* Found alike through both tables, at LINUX_2.6, defined, a function
 * inside the executable part of the segment. */
static const Elf64_Sym *expect_symbol(const struct vdso_elf *e, const char *name) {
  const Elf64_Sym *sysv = vdso_elf_lookup_sysv(e, name, VERSION);
  const Elf64_Sym *gnu = vdso_elf_lookup_gnu(e, name, VERSION);
  if (!sysv || !gnu)
    fail_msg("%s@%s: DT_HASH %s, DT_GNU_HASH %s", name, VERSION, sysv ? "found" : "missing",
             gnu ? "found" : "missing");
  assert_ptr_equal(sysv, gnu);
  assert_int_equal(ELF64_ST_TYPE(sysv->st_info), STT_FUNC);
  assert_true(ELF64_ST_BIND(sysv->st_info) == STB_GLOBAL ||
              ELF64_ST_BIND(sysv->st_info) == STB_WEAK);
  const Elf64_Shdr *text = vdso_elf_section(e, ".text");
  assert_non_null(text);
  assert_true(sysv->st_value >= text->sh_addr &&
              sysv->st_value + sysv->st_size <= text->sh_addr + text->sh_size);
  assert_true(sysv->st_size > 0);
  return sysv;
}

static void exports_linux_time_functions_at_linux_2_6(void **state) {
  (void)state;
  struct vdso_elf e;
  open_image(&e);
  static const char *const plain[] = {"clock_gettime", "gettimeofday", "time", "clock_getres",
                                      "getcpu"};
  for (size_t i = 0; i < sizeof exported / sizeof exported[0]; i++) {
    const Elf64_Sym *s = expect_symbol(&e, exported[i]);
    assert_int_equal(expect_symbol(&e, plain[i])->st_value, s->st_value);
  }
}

static void exports_nothing_else(void **state) {
  (void)state;
  struct vdso_elf e;
  open_image(&e);
  assert_null(vdso_elf_lookup_sysv(&e, "__vdso_clock_gettime", "LINUX_2.5"));
  assert_null(vdso_elf_lookup_gnu(&e, "__vdso_clock_gettime", "LINUX_2.5"));
  static const char *const hidden[] = {"vdso_vvar_page", "vdso_clock_ns", "vdso_syscall2",
                                       "__vdso_clock_settime"};
  for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
    assert_null(vdso_elf_lookup_sysv(&e, hidden[i], VERSION));
    assert_null(vdso_elf_lookup_gnu(&e, hidden[i], VERSION));
  }
}

struct insn_counts {
  unsigned syscalls; /* syscall, sysenter, int */
  unsigned outs;     /* out PORT_SYSCALL, al */
};

/* Decodes [start, start+len) of the image linearly (compiled code: no data
 * in .text) and counts what matters. */
static struct insn_counts decode(const struct vdso_elf *e, uint64_t start, uint64_t len) {
  ZydisDecoder dec;
  assert_true(
      ZYAN_SUCCESS(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)));
  const uint8_t *code = vdso_elf_at(e, start, len);
  struct insn_counts c = {0};
  for (uint64_t off = 0; off < len;) {
    ZydisDecodedInstruction ins;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (ZYAN_FAILED(ZydisDecoderDecodeFull(&dec, code + off, len - off, &ins, ops)))
      fail_msg("undecodable bytes at %#llx", (unsigned long long)(start + off));
    if (ins.mnemonic == ZYDIS_MNEMONIC_SYSCALL || ins.mnemonic == ZYDIS_MNEMONIC_SYSENTER ||
        ins.mnemonic == ZYDIS_MNEMONIC_INT || ins.mnemonic == ZYDIS_MNEMONIC_INT3)
      c.syscalls++;
    if (ins.mnemonic == ZYDIS_MNEMONIC_OUT && ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
        ops[0].imm.value.u == PORT_SYSCALL)
      c.outs++;
    off += ins.length;
  }
  return c;
}

static void falls_back_through_out_never_syscall(void **state) {
  (void)state;
  struct vdso_elf e;
  open_image(&e);
  const Elf64_Shdr *text = vdso_elf_section(&e, ".text");
  assert_non_null(text);
  struct insn_counts all = decode(&e, text->sh_offset, text->sh_size);
  assert_int_equal(all.syscalls, 0);
  for (size_t i = 0; i < sizeof exported / sizeof exported[0]; i++) {
    const Elf64_Sym *s = expect_symbol(&e, exported[i]);
    struct insn_counts c = decode(&e, s->st_value, s->st_size);
    bool answers_alone = strcmp(exported[i], "__vdso_getcpu") == 0;
    if (answers_alone ? c.outs != 0 : c.outs == 0)
      fail_msg("%s: %u `out 0x90, al`", exported[i], c.outs);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(is_an_x86_64_shared_object),
      cmocka_unit_test(has_one_load_segment_covering_its_header),
      cmocka_unit_test(needs_no_relocation_and_has_both_hash_tables),
      cmocka_unit_test(exports_linux_time_functions_at_linux_2_6),
      cmocka_unit_test(exports_nothing_else),
      cmocka_unit_test(falls_back_through_out_never_syscall),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
