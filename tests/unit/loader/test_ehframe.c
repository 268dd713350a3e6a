/* Unit tests of the .eh_frame parser (vmm/loader/ehframe.c): hand-built
 * sections in every pointer encoding and augmentation the parser claims,
 * malformed and truncated ones (never a read outside the buffer: run under
 * ASan), the section lookups, and real static executables found both
 * through their section headers and through PT_GNU_EH_FRAME. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "loader/ehframe.h"
#include "loader/elf.h"
#include "loader_test.h"

#define SEC_VADDR 0x480000ULL /* where the hand-built sections "are" */

/* Writes `value` in the format of enc's low nibble. */
static void put_enc(struct lt_bytes *o, uint8_t enc, uint64_t value) {
  switch (enc & 0x0f) {
  case 0x00:
  case 0x04:
  case 0x0c:
    lt_u64(o, value);
    break;
  case 0x01:
    lt_uleb(o, value);
    break;
  case 0x09:
    lt_sleb(o, (int64_t)value);
    break;
  case 0x02:
  case 0x0a:
    lt_u16(o, (uint16_t)value);
    break;
  case 0x03:
  case 0x0b:
    lt_u32(o, (uint32_t)value);
    break;
  default:
    fail_msg("bad test encoding %#x", enc);
  }
}

/* Starts a record: its length field (patched by end_record) and id. */
static size_t begin_record(struct lt_bytes *o, bool ext64, size_t *len_at) {
  if (ext64) {
    lt_u32(o, 0xffffffffu);
    *len_at = lt_u64(o, 0);
  } else {
    *len_at = lt_u32(o, 0);
  }
  return o->n; /* body */
}

static void end_record(struct lt_bytes *o, bool ext64, size_t len_at) {
  while ((o->n - len_at) % 8 != (ext64 ? 4 : 0))
    lt_u8(o, 0); /* DW_CFA_nop padding */
  uint64_t len = o->n - len_at - (ext64 ? 8 : 4);
  if (ext64)
    memcpy(o->b + len_at, &len, 8);
  else
    lt_set_u32(o, len_at, (uint32_t)len);
}

/* A CIE with augmentation `aug`; 'R' takes fde_enc, 'P' a pcrel
 * personality pointer, 'L' pcrel|sdata4 LSDAs. Returns its offset. */
static size_t put_cie(struct lt_bytes *o, const char *aug, uint8_t fde_enc, bool ext64) {
  size_t len_at, start = o->n;
  begin_record(o, ext64, &len_at);
  lt_u32(o, 0); /* CIE id */
  lt_u8(o, 1);  /* version */
  lt_put(o, aug, strlen(aug) + 1);
  lt_uleb(o, 1);  /* code alignment */
  lt_sleb(o, -8); /* data alignment */
  lt_u8(o, 16);   /* return address: rip */
  if (aug[0] == 'z') {
    struct lt_bytes data = {.n = 0};
    for (const char *a = aug + 1; *a; a++) {
      if (*a == 'R')
        lt_u8(&data, fde_enc);
      else if (*a == 'L')
        lt_u8(&data, 0x1b);
      else if (*a == 'P') {
        lt_u8(&data, 0x9b); /* indirect pcrel sdata4 */
        lt_u32(&data, 0x1234);
      }
    }
    lt_uleb(o, data.n);
    lt_put(o, data.b, data.n);
  }
  lt_u8(o, 0x0c); /* DW_CFA_def_cfa rsp+8 */
  lt_u8(o, 7);
  lt_u8(o, 8);
  end_record(o, ext64, len_at);
  return start;
}

/* An FDE for [start, start+range) under the CIE at cie_off. `aug_len` >= 0
 * writes a 'z' augmentation data length (and that many bytes). */
static void put_fde(struct lt_bytes *o, size_t cie_off, uint8_t enc, uint64_t start, uint64_t range,
                    int aug_len, bool ext64) {
  size_t len_at;
  size_t body = begin_record(o, ext64, &len_at);
  lt_u32(o, (uint32_t)(body - cie_off));
  uint64_t field = SEC_VADDR + o->n;
  put_enc(o, enc, (enc & 0x70) == 0x10 ? start - field : start);
  put_enc(o, enc, range);
  if (aug_len >= 0) {
    lt_uleb(o, (uint64_t)aug_len);
    for (int i = 0; i < aug_len; i++)
      lt_u8(o, 0xaa);
  }
  lt_u8(o, 0x41); /* DW_CFA_advance_loc 1 */
  lt_u8(o, 0x0e); /* DW_CFA_def_cfa_offset 16 */
  lt_u8(o, 16);
  end_record(o, ext64, len_at);
}

static void parse_ok(const struct lt_bytes *o, struct ehframe_fdes *f) {
  *f = (struct ehframe_fdes){0};
  assert_int_equal(ehframe_parse(o->b, o->n, SEC_VADDR, f), 0);
}

static void expect_fde(const struct ehframe_fdes *f, size_t i, uint64_t start, uint64_t len) {
  assert_true(i < f->n);
  assert_int_equal(f->v[i].start, start);
  assert_int_equal(f->v[i].len, len);
}

static void reads_zr_pcrel_fdes_and_stops_at_terminator(void **state) {
  struct lt_bytes o = {.n = 0};
  size_t cie = put_cie(&o, "zR", 0x1b, false);
  put_fde(&o, cie, 0x1b, 0x401000, 0x40, 0, false);
  put_fde(&o, cie, 0x1b, 0x401040, 0x123, 0, false);
  put_fde(&o, cie, 0x1b, 0x400500, 0x10, 0, false); /* before the section: negative offset */
  lt_u32(&o, 0);                                    /* terminator */
  put_fde(&o, cie, 0x1b, 0x999000, 0x10, 0, false); /* after it: never read */
  struct ehframe_fdes f;
  parse_ok(&o, &f);
  assert_null(f.why);
  assert_int_equal(f.n, 3);
  expect_fde(&f, 0, 0x401000, 0x40);
  expect_fde(&f, 1, 0x401040, 0x123);
  expect_fde(&f, 2, 0x400500, 0x10);
  ehframe_fdes_free(&f);
}

static void skips_personality_and_lsda_augmentation(void **state) {
  struct lt_bytes o = {.n = 0};
  size_t plain = put_cie(&o, "zR", 0x1b, false);
  size_t cxx = put_cie(&o, "zPLR", 0x1b, false);
  put_fde(&o, cxx, 0x1b, 0x402000, 0x80, 4, false); /* 4 bytes of LSDA pointer */
  put_fde(&o, plain, 0x1b, 0x402080, 0x20, 0, false);
  put_fde(&o, cxx, 0x1b, 0x4020a0, 0x30, 4, false);
  struct ehframe_fdes f;
  parse_ok(&o, &f);
  assert_int_equal(f.n, 3);
  expect_fde(&f, 0, 0x402000, 0x80);
  expect_fde(&f, 1, 0x402080, 0x20);
  expect_fde(&f, 2, 0x4020a0, 0x30);
  assert_null(f.why); /* ran to the end of the buffer */
  ehframe_fdes_free(&f);
}

static void reads_every_supported_encoding(void **state) {
  static const uint8_t encs[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x0a, 0x0b,
                                 0x0c, 0x13, 0x14, 0x1a, 0x1c, 0x09, 0x19};
  for (size_t i = 0; i < sizeof encs; i++) {
    struct lt_bytes o = {.n = 0};
    uint64_t start = (encs[i] & 0x0f) == 0x02 || (encs[i] & 0x0f) == 0x0a ? 0x1000 : 0x403000;
    if ((encs[i] & 0x70) == 0x10)
      start = SEC_VADDR + 0x1000; /* pc-relative: a small positive offset fits every width */
    size_t cie = put_cie(&o, "zR", encs[i], false);
    put_fde(&o, cie, encs[i], start, 0x44, 0, false);
    struct ehframe_fdes f;
    parse_ok(&o, &f);
    if (f.n != 1)
      fail_msg("encoding %#x: %zu FDEs", encs[i], f.n);
    expect_fde(&f, 0, start, 0x44);
    ehframe_fdes_free(&f);
  }
}

static void reads_cies_without_augmentation_and_64_bit_lengths(void **state) {
  struct lt_bytes o = {.n = 0};
  size_t cie = put_cie(&o, "", 0, true); /* absptr FDEs, 64-bit length */
  put_fde(&o, cie, 0x00, 0x404000, 0x10, -1, false);
  put_fde(&o, cie, 0x00, 0x404010, 0x20, -1, true);
  size_t cie4 = o.n; /* a version 4 CIE: address and segment size bytes */
  size_t len_at;
  begin_record(&o, false, &len_at);
  lt_u32(&o, 0);
  lt_u8(&o, 4);
  lt_put(&o, "zR", 3);
  lt_u8(&o, 8);
  lt_u8(&o, 0);
  lt_uleb(&o, 1);
  lt_sleb(&o, -8);
  lt_uleb(&o, 16);
  lt_uleb(&o, 1);
  lt_u8(&o, 0x03);
  end_record(&o, false, len_at);
  put_fde(&o, cie4, 0x03, 0x404030, 0x8, 0, false);
  struct ehframe_fdes f;
  parse_ok(&o, &f);
  assert_int_equal(f.n, 3);
  expect_fde(&f, 0, 0x404000, 0x10);
  expect_fde(&f, 1, 0x404010, 0x20);
  expect_fde(&f, 2, 0x404030, 0x8);
  ehframe_fdes_free(&f);
}

static void skips_fdes_it_cannot_read(void **state) {
  struct lt_bytes o = {.n = 0};
  size_t good = put_cie(&o, "zR", 0x1b, false);
  size_t datarel = put_cie(&o, "zR", 0x3b, false);
  size_t indirect = put_cie(&o, "zR", 0x9b, false);
  size_t omit = put_cie(&o, "zR", 0xff, false);
  size_t unknown = put_cie(&o, "zXR", 0x1b, false);
  size_t old = put_cie(&o, "eh", 0x1b, false);
  put_fde(&o, datarel, 0x03, 0x1, 0x10, 0, false);
  put_fde(&o, indirect, 0x03, 0x1, 0x10, 0, false);
  put_fde(&o, omit, 0x03, 0x1, 0x10, 0, false);
  put_fde(&o, unknown, 0x1b, 0x1, 0x10, 0, false);
  put_fde(&o, old, 0x1b, 0x1, 0x10, 0, false);
  size_t fde = o.n; /* an FDE whose "CIE" is another FDE */
  put_fde(&o, good, 0x1b, 0x405000, 0x10, 0, false);
  put_fde(&o, fde, 0x1b, 0x2, 0x10, 0, false);
  size_t len_at; /* an FDE pointing before the section */
  size_t body = begin_record(&o, false, &len_at);
  lt_u32(&o, (uint32_t)body + 64);
  lt_u32(&o, 0);
  end_record(&o, false, len_at);
  put_fde(&o, good, 0x1b, 0x405100, 0, 0, false); /* empty range */
  put_fde(&o, good, 0x1b, 0x405200, 0x10, 0, false);
  struct ehframe_fdes f;
  parse_ok(&o, &f);
  assert_null(f.why);
  assert_int_equal(f.n, 2);
  expect_fde(&f, 0, 0x405000, 0x10);
  expect_fde(&f, 1, 0x405200, 0x10);
  assert_int_equal(f.skipped, 8);
  ehframe_fdes_free(&f);
}

static void stops_at_a_record_overrunning_the_section(void **state) {
  struct lt_bytes o = {.n = 0};
  size_t cie = put_cie(&o, "zR", 0x1b, false);
  put_fde(&o, cie, 0x1b, 0x406000, 0x10, 0, false);
  size_t bad = o.n;
  put_fde(&o, cie, 0x1b, 0x406010, 0x10, 0, false);
  lt_set_u32(&o, bad, 0x7fffffff);
  put_fde(&o, cie, 0x1b, 0x406020, 0x10, 0, false);
  struct ehframe_fdes f;
  parse_ok(&o, &f);
  assert_non_null(f.why);
  assert_int_equal(f.n, 1);
  expect_fde(&f, 0, 0x406000, 0x10);
  ehframe_fdes_free(&f);
  lt_set_u32(&o, bad, 2); /* too short to hold an id */
  parse_ok(&o, &f);
  assert_non_null(f.why);
  assert_int_equal(f.n, 1);
  ehframe_fdes_free(&f);
}

/* A section cut anywhere, or with bits flipped, is read without leaving
 * the buffer, and a cut one yields a prefix of the whole one's FDEs. */
static void survives_truncation_and_corruption(void **state) {
  struct lt_bytes o = {.n = 0};
  size_t cie = put_cie(&o, "zPLR", 0x1b, false);
  size_t cie2 = put_cie(&o, "zR", 0x0c, true);
  for (int i = 0; i < 6; i++) {
    put_fde(&o, cie, 0x1b, 0x407000 + 0x40 * (uint64_t)i, 0x40, 4, i % 2);
    put_fde(&o, cie2, 0x0c, 0x408000 + 0x40 * (uint64_t)i, 0x40, 0, false);
  }
  struct ehframe_fdes whole, part;
  parse_ok(&o, &whole);
  assert_int_equal(whole.n, 12);
  for (size_t len = 0; len <= o.n; len++) {
    uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan sees any overread */
    memcpy(copy, o.b, len);
    part = (struct ehframe_fdes){0};
    assert_int_equal(ehframe_parse(copy, len, SEC_VADDR, &part), 0);
    assert_true(part.n <= whole.n);
    if (part.n)
      assert_memory_equal(part.v, whole.v, part.n * sizeof *part.v);
    ehframe_fdes_free(&part);
    free(copy);
  }
  uint32_t seed = 7;
  for (int round = 0; round < 20000; round++) {
    uint8_t *copy = malloc(o.n);
    memcpy(copy, o.b, o.n);
    for (int k = 0; k < 1 + round % 3; k++) {
      seed = seed * 1103515245u + 12345u;
      copy[(seed >> 8) % o.n] ^= (uint8_t)(1u << ((seed >> 4) % 8));
    }
    part = (struct ehframe_fdes){0};
    assert_int_equal(ehframe_parse(copy, o.n, SEC_VADDR, &part), 0);
    ehframe_fdes_free(&part);
    free(copy);
  }
  ehframe_fdes_free(&whole);
}

static void caps_the_number_of_fdes(void **state) {
  size_t per = 16, count = EHFRAME_MAX_FDES + 10;
  struct lt_bytes head = {.n = 0};
  size_t cie = put_cie(&head, "zR", 0x03, false);
  size_t len = head.n + count * per;
  uint8_t *buf = malloc(len);
  assert_non_null(buf);
  memcpy(buf, head.b, head.n);
  for (size_t i = 0; i < count; i++) {
    size_t at = head.n + i * per;
    uint32_t words[4] = {12, (uint32_t)(at + 4 - cie), 0x1000 + (uint32_t)i, 1};
    memcpy(buf + at, words, sizeof words);
  }
  struct ehframe_fdes f = {0};
  assert_int_equal(ehframe_parse(buf, len, SEC_VADDR, &f), 0);
  assert_int_equal(f.n, EHFRAME_MAX_FDES);
  assert_non_null(f.why);
  ehframe_fdes_free(&f);
  free(buf);
}

static void reads_the_eh_frame_hdr_pointer(void **state) {
  uint64_t hdr_vaddr = 0x490000, target = 0;
  uint8_t hdr[8] = {1, 0x1b, 0x03, 0x3b};
  int32_t rel = (int32_t)(0x480000 - (hdr_vaddr + 4));
  memcpy(hdr + 4, &rel, 4);
  assert_int_equal(ehframe_hdr_target(hdr, sizeof hdr, hdr_vaddr, &target), 0);
  assert_int_equal(target, 0x480000);
  hdr[1] = 0x3b; /* datarel: from the header's start */
  rel = 0x100;
  memcpy(hdr + 4, &rel, 4);
  assert_int_equal(ehframe_hdr_target(hdr, sizeof hdr, hdr_vaddr, &target), 0);
  assert_int_equal(target, hdr_vaddr + 0x100);
  hdr[1] = 0x03; /* absolute udata4 */
  assert_int_equal(ehframe_hdr_target(hdr, sizeof hdr, hdr_vaddr, &target), 0);
  assert_int_equal(target, 0x100);
  assert_int_equal(ehframe_hdr_target(hdr, 7, hdr_vaddr, &target), -ENOEXEC); /* truncated */
  hdr[1] = 0xff;
  assert_int_equal(ehframe_hdr_target(hdr, sizeof hdr, hdr_vaddr, &target), -ENOEXEC);
  hdr[1] = 0x1b;
  hdr[0] = 2;
  assert_int_equal(ehframe_hdr_target(hdr, sizeof hdr, hdr_vaddr, &target), -ENOEXEC);
}

static const char test_strtab[] = "\0.text\0.eh_frame\0.shstrtab\0.eh_frame_hd";

static void put_shdr(Elf64_Shdr *sh, uint32_t name, uint32_t type, uint64_t flags, uint64_t off,
                     uint64_t size) {
  *sh = (Elf64_Shdr){.sh_name = name,
                     .sh_type = type,
                     .sh_flags = flags,
                     .sh_addr = 0x480000 + off,
                     .sh_offset = off,
                     .sh_size = size};
}

static void finds_sections_by_name(void **state) {
  Elf64_Shdr sh[5];
  memset(sh, 0, sizeof sh);
  put_shdr(&sh[1], 1, SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, 0x1000, 0x100);
  put_shdr(&sh[2], 7, SHT_PROGBITS, SHF_ALLOC, 0x2000, 0x80);
  put_shdr(&sh[3], 17, SHT_STRTAB, 0, 0x3000, sizeof test_strtab);
  put_shdr(&sh[4], 27, SHT_PROGBITS, SHF_ALLOC, 0x2100, 0x10); /* name runs off the table */
  const uint8_t *raw = (const uint8_t *)sh;
  struct ehframe_section sec;
  assert_int_equal(ehframe_shstrtab(raw, 5, 3, 0x4000, &sec), 0);
  assert_int_equal(sec.offset, 0x3000);
  assert_int_equal(ehframe_shstrtab(raw, 5, 2, 0x4000, &sec), -ENOENT); /* not a STRTAB */
  assert_int_equal(ehframe_shstrtab(raw, 5, 5, 0x4000, &sec), -ENOENT); /* no such index */
  assert_int_equal(ehframe_shstrtab(raw, 5, 3, 0x3001, &sec), -ENOENT); /* past the file */
  const char *st = test_strtab;
  size_t stlen = sizeof test_strtab - 1; /* without the final NUL */
  assert_int_equal(ehframe_find_section(raw, 5, st, stlen, 0x4000, ".eh_frame", &sec), 0);
  assert_int_equal(sec.addr, 0x482000);
  assert_int_equal(sec.offset, 0x2000);
  assert_int_equal(sec.size, 0x80);
  assert_int_equal(ehframe_find_section(raw, 5, st, stlen, 0x4000, ".eh_frame_hdr", &sec), -ENOENT);
  assert_int_equal(ehframe_find_section(raw, 5, st, stlen, 0x4000, ".eh", &sec), -ENOENT);
  sh[2].sh_type = SHT_X86_64_UNWIND;
  assert_int_equal(ehframe_find_section(raw, 5, st, stlen, 0x4000, ".eh_frame", &sec), 0);
  sh[2].sh_flags = 0;
  assert_int_equal(ehframe_find_section(raw, 5, st, stlen, 0x4000, ".eh_frame", &sec), -ENOENT);
  sh[2].sh_flags = SHF_ALLOC;
  assert_int_equal(ehframe_find_section(raw, 5, st, stlen, 0x2050, ".eh_frame", &sec), -ENOENT);
  sh[2].sh_size = EHFRAME_MAX_BYTES + 1;
  assert_int_equal(ehframe_find_section(raw, 5, st, stlen, UINT64_MAX, ".eh_frame", &sec), -EFBIG);
  sh[2].sh_name = 0x7fffffff;
  assert_int_equal(ehframe_find_section(raw, 5, st, stlen, 0x4000, ".eh_frame", &sec), -ENOENT);
}

/* The same through .eh_frame_hdr, parsing to the end of the segment. */
static void fdes_by_hdr(const uint8_t *file, const struct elf_info *info, struct ehframe_fdes *f) {
  uint64_t target;
  assert_true(info->eh_frame_hdr.present);
  assert_int_equal(ehframe_hdr_target(file + info->eh_frame_hdr.offset, info->eh_frame_hdr.filesz,
                                      info->eh_frame_hdr.vaddr, &target),
                   0);
  const struct elf_segment *seg = elf_segment_at(info, target);
  assert_non_null(seg);
  uint64_t skip = target - seg->vaddr;
  *f = (struct ehframe_fdes){0};
  assert_int_equal(ehframe_parse(file + seg->offset + skip, seg->filesz - skip, target, f), 0);
}

static bool in_exec_segment(const struct elf_info *info, uint64_t a) {
  const struct elf_segment *s = elf_segment_at(info, a);
  return s && (s->flags & PF_X);
}

static void parses_real_programs_both_ways(void **state) {
  for (size_t i = 0; i < LOADER_TEST_NPROGS; i++) {
    const char *prog = loader_test_progs[i];
    size_t len = 0;
    uint8_t *file = lt_read_file(prog, &len);
    struct elf_info info;
    const char *why;
    assert_non_null(file);
    assert_int_equal(elf_parse(file, len, len, &info, &why), 0);
    struct ehframe_fdes a, b;
    assert_int_equal(lt_fdes_by_section(file, len, &info, &a), 0);
    assert_null(a.why);
    if (a.n < (lt_is_musl(prog) ? 1 : 50))
      fail_msg("%s: only %zu FDEs", prog, a.n);
    for (size_t k = 0; k < a.n; k++)
      if (!in_exec_segment(&info, a.v[k].start))
        fail_msg("%s: FDE at %#llx outside the code", prog, (unsigned long long)a.v[k].start);
    /* Static non-PIE links get no .eh_frame_hdr; the others must agree. */
    if (info.eh_frame_hdr.present) {
      fdes_by_hdr(file, &info, &b);
      assert_int_equal(a.n, b.n);
      assert_memory_equal(a.v, b.v, a.n * sizeof *a.v);
      ehframe_fdes_free(&b);
    }
    print_message("%s: %zu FDEs%s\n", prog, a.n,
                  info.eh_frame_hdr.present ? ", same via PT_GNU_EH_FRAME" : "");
    ehframe_fdes_free(&a);
    free(file);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(reads_zr_pcrel_fdes_and_stops_at_terminator),
      cmocka_unit_test(skips_personality_and_lsda_augmentation),
      cmocka_unit_test(reads_every_supported_encoding),
      cmocka_unit_test(reads_cies_without_augmentation_and_64_bit_lengths),
      cmocka_unit_test(skips_fdes_it_cannot_read),
      cmocka_unit_test(stops_at_a_record_overrunning_the_section),
      cmocka_unit_test(survives_truncation_and_corruption),
      cmocka_unit_test(caps_the_number_of_fdes),
      cmocka_unit_test(reads_the_eh_frame_hdr_pointer),
      cmocka_unit_test(finds_sections_by_name),
      cmocka_unit_test(parses_real_programs_both_ways),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
