/* Unit tests of the syscall-site finder (vmm/loader/sites.c): crafted code
 * where the bytes 0f 05 sit inside immediates, displacements and data
 * between functions must yield only the real `syscall` instructions; FDE
 * boundaries and decode failures are respected; and on real static
 * programs every site is one objdump also shows as `syscall`. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "loader/ehframe.h"
#include "loader/elf.h"
#include "loader/sites.h"
#include "loader_test.h"

#define CODE_VADDR 0x401000ULL

/* Function A: 0f 05 hidden in four instructions, then two real syscalls. */
static const uint8_t fn_a[] = {
    0xb8, 0x0f, 0x05, 0x00, 0x00,                               /* mov eax, 0x50f */
    0x48, 0x8d, 0x05, 0x0f, 0x05, 0x00, 0x00,                   /* lea rax, [rip+0x50f] */
    0x48, 0xb8, 0x0f, 0x05, 0x0f, 0x05, 0x0f, 0x05, 0x0f, 0x05, /* mov rax, 0x050f050f050f050f */
    0x0f, 0x05,                                                 /* syscall (offset 22) */
    0xc7, 0x80, 0x0f, 0x05, 0x00, 0x00, 0x0f, 0x05, 0x00, 0x00, /* mov dword [rax+0x50f], 0x50f */
    0x0f, 0x05,                                                 /* syscall (offset 34) */
    0xc3,                                                       /* ret */
};
/* Data kept between functions, covered by no FDE. */
static const uint8_t data_between[] = {0x0f, 0x05, 0x0f, 0x05, 0x90, 0x0f, 0x05, 0x00};
/* Function B: a compare against 0x50f, a branch over nothing, a syscall. */
static const uint8_t fn_b[] = {
    0x31, 0xc0,                         /* xor eax, eax */
    0x48, 0x3d, 0x0f, 0x05, 0x00, 0x00, /* cmp rax, 0x50f */
    0x74, 0x00,                         /* je +0 */
    0x0f, 0x05,                         /* syscall (offset 10) */
    0x66, 0x0f, 0x1f, 0x44, 0x0f, 0x05, /* nop word [rdi+rcx*1+0x5] */
    0xc3,                               /* ret */
};

struct code {
  uint8_t b[256];
  size_t n, a, data, b_at;
};

static void build(struct code *c) {
  c->n = 0;
  c->a = c->n;
  memcpy(c->b + c->n, fn_a, sizeof fn_a);
  c->n += sizeof fn_a;
  c->data = c->n;
  memcpy(c->b + c->n, data_between, sizeof data_between);
  c->n += sizeof data_between;
  c->b_at = c->n;
  memcpy(c->b + c->n, fn_b, sizeof fn_b);
  c->n += sizeof fn_b;
}

static void find(const uint8_t *code, size_t len, const struct fde_range *f, size_t nf,
                 struct site_list *out, struct sites_stats *st) {
  *out = (struct site_list){0};
  *st = (struct sites_stats){0};
  assert_int_equal(sites_find(code, len, CODE_VADDR, f, nf, out, st), 0);
}

static void finds_only_real_syscalls(void **state) {
  struct code c;
  build(&c);
  struct fde_range f[] = {{CODE_VADDR + c.a, sizeof fn_a}, {CODE_VADDR + c.b_at, sizeof fn_b}};
  struct site_list s;
  struct sites_stats st;
  find(c.b, c.n, f, 2, &s, &st);
  assert_int_equal(s.n, 3);
  assert_int_equal(s.v[0], CODE_VADDR + c.a + 22);
  assert_int_equal(s.v[1], CODE_VADDR + c.a + 34);
  assert_int_equal(s.v[2], CODE_VADDR + c.b_at + 10);
  assert_int_equal(st.fdes_scanned, 2);
  assert_int_equal(st.decode_failures, 0);
  assert_int_equal(st.sites, 3);
  /* The test means something: the bytes 0f 05 occur far more often. */
  size_t byte_hits = 0;
  for (size_t i = 0; i + 1 < c.n; i++)
    byte_hits += c.b[i] == 0x0f && c.b[i + 1] == 0x05;
  assert_true(byte_hits >= 12);
  site_list_free(&s);
}

static void ignores_data_outside_every_fde(void **state) {
  struct code c;
  build(&c);
  /* One FDE per function; the data between them reads as syscalls if
   * decoded, and must not be. */
  struct fde_range f[] = {{CODE_VADDR + c.b_at, sizeof fn_b}};
  struct site_list s;
  struct sites_stats st;
  find(c.b, c.n, f, 1, &s, &st);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.v[0], CODE_VADDR + c.b_at + 10);
  struct fde_range data[] = {{CODE_VADDR + c.data, sizeof data_between}};
  site_list_free(&s);
  find(c.b, c.n, data, 1, &s, &st); /* were it an FDE, it would be decoded */
  assert_true(s.n >= 1);
  site_list_free(&s);
}

static void stops_an_fde_at_undecodable_bytes(void **state) {
  static const uint8_t code[] = {0x90, 0x06, 0x0f, 0x05, 0xc3}; /* 06: invalid in 64-bit mode */
  struct fde_range whole[] = {{CODE_VADDR, sizeof code}};
  struct fde_range after[] = {{CODE_VADDR + 2, 3}};
  struct site_list s;
  struct sites_stats st;
  find(code, sizeof code, whole, 1, &s, &st);
  assert_int_equal(s.n, 0);
  assert_int_equal(st.decode_failures, 1);
  site_list_free(&s);
  find(code, sizeof code, after, 1, &s, &st);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.v[0], CODE_VADDR + 2);
  site_list_free(&s);
}

static void respects_fde_and_segment_bounds(void **state) {
  struct code c;
  build(&c);
  struct site_list s;
  struct sites_stats st;
  /* FDEs starting before or after the segment belong to another one. */
  struct fde_range outside[] = {{CODE_VADDR - 2, 0x100}, {CODE_VADDR + c.n, 0x10}};
  find(c.b, c.n, outside, 2, &s, &st);
  assert_int_equal(s.n, 0);
  assert_int_equal(st.fdes_scanned, 0);
  site_list_free(&s);
  /* A range cut inside the syscall: the instruction does not fit, so no
   * whole 0f 05 lies in the range and nothing needs decoding. */
  struct fde_range cut[] = {{CODE_VADDR + c.a, 23}};
  find(c.b, c.n, cut, 1, &s, &st);
  assert_int_equal(s.n, 0);
  assert_int_equal(st.decode_failures, 0);
  site_list_free(&s);
  /* A range running past the segment end stops at the end. */
  struct fde_range past[] = {{CODE_VADDR + c.a, 0x100000}};
  find(c.b, c.a + 24, past, 1, &s, &st);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.v[0], CODE_VADDR + c.a + 22);
  site_list_free(&s);
}

static void merges_duplicates_and_keeps_order(void **state) {
  struct code c;
  build(&c);
  struct fde_range f[] = {{CODE_VADDR + c.b_at, sizeof fn_b},
                          {CODE_VADDR + c.a, sizeof fn_a},
                          {CODE_VADDR + c.a + 22, sizeof fn_a - 22},
                          {CODE_VADDR + c.b_at, sizeof fn_b}};
  struct site_list s;
  struct sites_stats st;
  find(c.b, c.n, f, 4, &s, &st);
  assert_int_equal(s.n, 3);
  assert_true(s.v[0] < s.v[1] && s.v[1] < s.v[2]);
  /* A second segment's sites merge into the same sorted list. */
  static const uint8_t low[] = {0x0f, 0x05, 0xc3};
  struct fde_range lf[] = {{0x300000, sizeof low}};
  assert_int_equal(sites_find(low, sizeof low, 0x300000, lf, 1, &s, &st), 0);
  assert_int_equal(s.n, 4);
  assert_int_equal(s.v[0], 0x300000);
  assert_int_equal(st.sites, 4);
  site_list_free(&s);
}

static void finds_the_sites_objdump_shows_in_real_programs(void **state) {
  for (size_t p = 0; p < LOADER_TEST_NPROGS; p++) {
    const char *prog = loader_test_progs[p];
    size_t len = 0;
    uint8_t *file = lt_read_file(prog, &len);
    struct elf_info info;
    const char *why;
    assert_non_null(file);
    assert_int_equal(elf_parse(file, len, len, &info, &why), 0);
    struct ehframe_fdes fdes;
    assert_int_equal(lt_fdes_by_section(file, len, &info, &fdes), 0);
    struct site_list s = {0};
    struct sites_stats st = {0};
    for (size_t i = 0; i < info.nload; i++) {
      const struct elf_segment *seg = &info.load[i];
      if (seg->flags & PF_X)
        assert_int_equal(
            sites_find(file + seg->offset, seg->filesz, seg->vaddr, fdes.v, fdes.n, &s, &st), 0);
    }
    uint64_t *expect = NULL;
    long ne = lt_read_objdump_sites(prog, &expect);
    assert_true(ne > 10);
    size_t matched = 0;
    for (size_t i = 0; i < s.n; i++) {
      const struct elf_segment *seg = elf_segment_at(&info, s.v[i]);
      assert_non_null(seg);
      const uint8_t *at = file + seg->offset + (s.v[i] - seg->vaddr);
      assert_true(at[0] == 0x0f && at[1] == 0x05);
      bool found = false;
      for (long k = 0; k < ne && !found; k++)
        found = expect[k] == s.v[i];
      if (!found)
        fail_msg("%s: site %#llx is not a syscall in objdump's listing", prog,
                 (unsigned long long)s.v[i]);
      matched++;
    }
    /* glibc's FDEs cover nearly all code: it misses only hand-written
     * stubs like clone and clone3. musl's libc.a has no unwind tables. */
    if (!lt_is_musl(prog) && matched * 10 < (size_t)ne * 9)
      fail_msg("%s: %zu of objdump's %ld syscalls found", prog, matched, ne);
    print_message("%s: %zu FDEs, %zu of %ld syscalls\n", prog, fdes.n, matched, ne);
    free(expect);
    site_list_free(&s);
    ehframe_fdes_free(&fdes);
    free(file);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(finds_only_real_syscalls),
      cmocka_unit_test(ignores_data_outside_every_fde),
      cmocka_unit_test(stops_an_fde_at_undecodable_bytes),
      cmocka_unit_test(respects_fde_and_segment_bounds),
      cmocka_unit_test(merges_duplicates_and_keeps_order),
      cmocka_unit_test(finds_the_sites_objdump_shows_in_real_programs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
