/* Unit tests of the initial-stack builder (vmm/loader/stack.c): the layout
 * a program's start-up code walks (argc, argv, envp, auxv), every pointer
 * landing on what it should, the psABI's 16-byte alignment, and the
 * argument-size limits. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loader/stack.h"

#define TOP 0x7ffffffde000ULL

static const uint8_t test_random[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const struct stack_auxv test_aux = {
    .phdr = 0x400040,
    .phent = 56,
    .phnum = 9,
    .entry = 0x401bc0,
    .base = 0,
    .hwcap = 0x178bfbff,
    .hwcap2 = 2,
    .minsigstksz = 3632,
    .uid = 1,
    .euid = 2,
    .gid = 3,
    .egid = 4,
};

/* Reads the stack word at guest address `at`. */
static uint64_t word(const struct stack_image *img, uint64_t at) {
  assert_true(at >= img->sp && at + 8 <= img->sp + img->len);
  uint64_t v;
  memcpy(&v, img->bytes + (at - img->sp), 8);
  return v;
}

/* The NUL-terminated string at guest address `at`, checked in bounds. */
static const char *str(const struct stack_image *img, uint64_t at) {
  assert_true(at >= img->sp && at < img->sp + img->len);
  const char *s = (const char *)img->bytes + (at - img->sp);
  assert_non_null(memchr(s, '\0', img->sp + img->len - at));
  return s;
}

/* The value of auxv entry `type`, failing when it is absent. */
static uint64_t auxv(const struct stack_image *img, uint64_t at, uint64_t type) {
  for (;; at += 16) {
    uint64_t t = word(img, at);
    if (t == type)
      return word(img, at + 8);
    if (t == AT_NULL)
      fail_msg("auxv entry %llu missing", (unsigned long long)type);
  }
}

static void lays_out_argc_argv_envp_auxv(void **state) {
  char *argv[] = {"/bin/prog", "-x", "", "last arg", NULL};
  char *envp[] = {"HOME=/", "PATH=/bin", NULL};
  struct stack_image img;
  assert_int_equal(stack_build(TOP, argv, envp, "/bin/prog", test_random, &test_aux, 1 << 20, &img),
                   0);
  assert_int_equal(img.sp % 16, 0);
  assert_int_equal(img.sp + img.len, TOP);
  assert_int_equal(word(&img, TOP - 8), 0); /* the end marker */
  uint64_t at = img.sp;
  assert_int_equal(word(&img, at), 4);
  for (int i = 0; i < 4; i++)
    assert_string_equal(str(&img, word(&img, at + 8 + 8 * (uint64_t)i)), argv[i]);
  assert_int_equal(word(&img, at + 8 + 32), 0);
  uint64_t env = at + 8 + 40;
  assert_string_equal(str(&img, word(&img, env)), "HOME=/");
  assert_string_equal(str(&img, word(&img, env + 8)), "PATH=/bin");
  assert_int_equal(word(&img, env + 16), 0);
  uint64_t aux = env + 24;
  assert_int_equal(auxv(&img, aux, AT_PHDR), 0x400040);
  assert_int_equal(auxv(&img, aux, AT_PHENT), 56);
  assert_int_equal(auxv(&img, aux, AT_PHNUM), 9);
  assert_int_equal(auxv(&img, aux, AT_PAGESZ), 4096);
  assert_int_equal(auxv(&img, aux, AT_BASE), 0);
  assert_int_equal(auxv(&img, aux, AT_FLAGS), 0);
  assert_int_equal(auxv(&img, aux, AT_ENTRY), 0x401bc0);
  assert_int_equal(auxv(&img, aux, AT_UID), 1);
  assert_int_equal(auxv(&img, aux, AT_EUID), 2);
  assert_int_equal(auxv(&img, aux, AT_GID), 3);
  assert_int_equal(auxv(&img, aux, AT_EGID), 4);
  assert_int_equal(auxv(&img, aux, AT_SECURE), 0);
  assert_int_equal(auxv(&img, aux, AT_HWCAP), 0x178bfbff);
  assert_int_equal(auxv(&img, aux, AT_HWCAP2), 2);
  assert_int_equal(auxv(&img, aux, AT_CLKTCK), 100);
  assert_int_equal(auxv(&img, aux, AT_MINSIGSTKSZ), 3632);
  assert_string_equal(str(&img, auxv(&img, aux, AT_EXECFN)), "/bin/prog");
  assert_string_equal(str(&img, auxv(&img, aux, AT_PLATFORM)), "x86_64");
  uint64_t rnd = auxv(&img, aux, AT_RANDOM);
  assert_true(rnd >= img.sp && rnd + 16 <= TOP);
  assert_memory_equal(img.bytes + (rnd - img.sp), test_random, 16);
  /* AT_NULL ends the vector, and there is no vDSO. */
  int entries = 0;
  for (uint64_t a = aux; word(&img, a) != AT_NULL; a += 16, entries++)
    assert_int_not_equal(word(&img, a), AT_SYSINFO_EHDR);
  assert_int_equal(entries + 1, STACK_AUXV_ENTRIES - 1); /* all but AT_SYSINFO_EHDR */
  stack_image_free(&img);
}

/* With a vDSO, AT_SYSINFO_EHDR comes first (as on Linux) and the rest follow. */
static void names_the_vdso_when_there_is_one(void **state) {
  (void)state;
  char *argv[] = {"/bin/prog", NULL};
  struct stack_auxv aux = test_aux;
  aux.sysinfo_ehdr = 0x7ffff7fc1000;
  struct stack_image img;
  assert_int_equal(stack_build(TOP, argv, NULL, "/bin/prog", test_random, &aux, 1 << 20, &img), 0);
  uint64_t at = img.sp + 8 * (1 + 2 + 1); /* argc, argv and its NULL, envp's NULL */
  assert_int_equal(word(&img, at), AT_SYSINFO_EHDR);
  assert_int_equal(word(&img, at + 8), 0x7ffff7fc1000);
  assert_int_equal(auxv(&img, at, AT_ENTRY), 0x401bc0);
  int entries = 0;
  for (uint64_t a = at; word(&img, a) != AT_NULL; a += 16)
    entries++;
  assert_int_equal(entries + 1, STACK_AUXV_ENTRIES);
  stack_image_free(&img);
}

static void strings_sit_above_the_vectors_without_overlap(void **state) {
  char *argv[] = {"a", NULL};
  struct stack_image img;
  assert_int_equal(stack_build(TOP, argv, NULL, "/a", test_random, &test_aux, 4096, &img), 0);
  uint64_t aux = img.sp + 8 + 16 + 8; /* argc, argv[0], NULL, envp NULL */
  assert_int_equal(word(&img, img.sp), 1);
  assert_int_equal(word(&img, img.sp + 16), 0);
  assert_int_equal(word(&img, img.sp + 24), 0);
  uint64_t vec_end = aux;
  while (word(&img, vec_end) != AT_NULL)
    vec_end += 16;
  vec_end += 16;
  assert_true(auxv(&img, aux, AT_RANDOM) >= vec_end);
  assert_true(word(&img, img.sp + 8) > auxv(&img, aux, AT_RANDOM));
  stack_image_free(&img);
}

static void alignment_holds_for_every_argument_count(void **state) {
  char *argv[40];
  char bufs[40][8];
  for (int n = 1; n < 39; n++) {
    for (int i = 0; i < n; i++) {
      snprintf(bufs[i], sizeof bufs[i], "%.*s", i % 7 + 1, "abcdefg");
      argv[i] = bufs[i];
    }
    argv[n] = NULL;
    struct stack_image img;
    assert_int_equal(
        stack_build(TOP, argv, argv + n / 2, "x", test_random, &test_aux, 1 << 16, &img), 0);
    assert_int_equal(img.sp % 16, 0);
    assert_int_equal(word(&img, img.sp), (uint64_t)n);
    stack_image_free(&img);
  }
}

static void refuses_arguments_that_do_not_fit(void **state) {
  char *argv[] = {"/bin/prog", "0123456789", NULL};
  struct stack_image img;
  /* strings (10 + 11) + pointers (16) = 37 bytes */
  assert_int_equal(stack_build(TOP, argv, NULL, "p", test_random, &test_aux, 36, &img), -E2BIG);
  assert_int_equal(stack_build(TOP, argv, NULL, "p", test_random, &test_aux, 37, &img), 0);
  stack_image_free(&img);
  char *envp[] = {"A=1", NULL};
  assert_int_equal(stack_build(TOP, argv, envp, "p", test_random, &test_aux, 37, &img), -E2BIG);
  char *big = malloc(STACK_MAX_STRLEN + 2);
  memset(big, 'x', STACK_MAX_STRLEN + 1);
  big[STACK_MAX_STRLEN + 1] = '\0';
  char *huge[] = {big, NULL};
  assert_int_equal(stack_build(TOP, huge, NULL, "p", test_random, &test_aux, 1 << 30, &img),
                   -E2BIG);
  free(big);
}

static void refuses_a_bad_top(void **state) {
  char *argv[] = {"p", NULL};
  struct stack_image img;
  assert_int_equal(stack_build(TOP + 8, argv, NULL, "p", test_random, &test_aux, 4096, &img),
                   -EINVAL);
  assert_int_equal(stack_build(0x100, argv, NULL, "p", test_random, &test_aux, 4096, &img),
                   -EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lays_out_argc_argv_envp_auxv),
      cmocka_unit_test(names_the_vdso_when_there_is_one),
      cmocka_unit_test(strings_sit_above_the_vectors_without_overlap),
      cmocka_unit_test(alignment_holds_for_every_argument_count),
      cmocka_unit_test(refuses_arguments_that_do_not_fit),
      cmocka_unit_test(refuses_a_bad_top),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
