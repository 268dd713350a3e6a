/* stack.c - builds the initial process stack (see stack.h): first every
 * address is worked out from the top down, then the bytes are written into
 * a host buffer that mirrors [sp, top). */
#include "loader/stack.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WORD 8u
#define CLOCK_TICKS 100u /* AT_CLKTCK: USER_HZ on x86-64 Linux */
#define PAGE_SIZE 4096u

/* Sizes of a NULL-terminated string vector. */
struct vec_size {
  size_t count, bytes; /* strings and their bytes, NULs included */
};

/* Measures v, adding to *budget the bytes the strings and their pointers
 * use; -E2BIG as soon as that passes max_args. */
static int measure(char *const v[], struct vec_size *out, size_t *budget, size_t max_args) {
  *out = (struct vec_size){0};
  for (size_t i = 0; v && v[i]; i++) {
    size_t n = strnlen(v[i], STACK_MAX_STRLEN + 1);
    if (n > STACK_MAX_STRLEN)
      return -E2BIG;
    *budget += n + 1 + WORD;
    if (*budget > max_args)
      return -E2BIG;
    out->count++;
    out->bytes += n + 1;
  }
  return 0;
}

/* Guest addresses of everything on the stack. */
struct stack_plan {
  struct vec_size argv, envp;
  size_t execfn_len; /* NUL included */
  uint64_t strings;  /* argv strings, then envp strings, then execfn */
  uint64_t platform, random, sp;
};

static int plan(uint64_t top, const struct vec_size *argv, const struct vec_size *envp,
                size_t execfn_len, struct stack_plan *p) {
  size_t strings = argv->bytes + envp->bytes + execfn_len;
  size_t words = 1 + argv->count + 1 + envp->count + 1 + 2 * STACK_AUXV_ENTRIES;
  size_t worst = WORD + strings + sizeof STACK_PLATFORM + 16 + 16 + words * WORD + 16;
  if (top % 16 != 0 || top < worst + PAGE_SIZE)
    return -EINVAL;
  p->argv = *argv;
  p->envp = *envp;
  p->execfn_len = execfn_len;
  p->strings = top - WORD - strings;
  p->platform = p->strings - sizeof STACK_PLATFORM;
  p->random = p->platform - 16;
  p->sp = ((p->random & ~15ULL) - words * WORD) & ~15ULL;
  return 0;
}

/* Writes into the image at guest address `at`. */
static void put(struct stack_image *img, uint64_t at, const void *src, size_t n) {
  memcpy(img->bytes + (at - img->sp), src, n);
}

static uint64_t put_word(struct stack_image *img, uint64_t at, uint64_t v) {
  put(img, at, &v, WORD);
  return at + WORD;
}

/* Copies the strings of v from *str on and their pointers from `at` on,
 * then a NULL; returns the address after the NULL. */
static uint64_t put_vector(struct stack_image *img, uint64_t at, char *const v[], size_t count,
                           uint64_t *str) {
  for (size_t i = 0; i < count; i++) {
    size_t n = strlen(v[i]) + 1;
    put(img, *str, v[i], n);
    at = put_word(img, at, *str);
    *str += n;
  }
  return put_word(img, at, 0);
}

static uint64_t put_auxv(struct stack_image *img, uint64_t at, const struct stack_plan *p,
                         const struct stack_auxv *aux, uint64_t execfn) {
  const uint64_t pairs[STACK_AUXV_ENTRIES][2] = {
      {AT_SYSINFO_EHDR, aux->sysinfo_ehdr}, /* first, as Linux's ARCH_DLINFO puts it */
      {AT_HWCAP, aux->hwcap},
      {AT_PAGESZ, PAGE_SIZE},
      {AT_CLKTCK, CLOCK_TICKS},
      {AT_PHDR, aux->phdr},
      {AT_PHENT, aux->phent},
      {AT_PHNUM, aux->phnum},
      {AT_BASE, aux->base},
      {AT_FLAGS, 0},
      {AT_ENTRY, aux->entry},
      {AT_UID, aux->uid},
      {AT_EUID, aux->euid},
      {AT_GID, aux->gid},
      {AT_EGID, aux->egid},
      {AT_SECURE, 0},
      {AT_RANDOM, p->random},
      {AT_HWCAP2, aux->hwcap2},
      {AT_EXECFN, execfn},
      {AT_PLATFORM, p->platform},
      {AT_MINSIGSTKSZ, aux->minsigstksz},
      {AT_NULL, 0},
  };
  for (size_t i = 0; i < STACK_AUXV_ENTRIES; i++) {
    if (pairs[i][0] == AT_SYSINFO_EHDR && !pairs[i][1])
      continue; /* no vDSO; the space planned for the pair stays zero */
    at = put_word(img, at, pairs[i][0]);
    at = put_word(img, at, pairs[i][1]);
  }
  return at;
}

static void fill(struct stack_image *img, const struct stack_plan *p, char *const argv[],
                 char *const envp[], const char *execfn, const uint8_t random[16],
                 const struct stack_auxv *aux) {
  uint64_t str = p->strings;
  uint64_t at = put_word(img, p->sp, p->argv.count);
  at = put_vector(img, at, argv, p->argv.count, &str);
  at = put_vector(img, at, envp, p->envp.count, &str);
  put(img, str, execfn, p->execfn_len);
  put_auxv(img, at, p, aux, str);
  put(img, p->platform, STACK_PLATFORM, sizeof STACK_PLATFORM);
  put(img, p->random, random, 16);
}

int stack_build(uint64_t top, char *const argv[], char *const envp[], const char *execfn,
                const uint8_t random[16], const struct stack_auxv *aux, size_t max_args,
                struct stack_image *out) {
  struct vec_size argv_size, envp_size;
  size_t budget = 0;
  int err = measure(argv, &argv_size, &budget, max_args);
  if (!err)
    err = measure(envp, &envp_size, &budget, max_args);
  size_t execfn_len = strnlen(execfn, STACK_MAX_STRLEN + 1) + 1;
  if (!err && execfn_len > STACK_MAX_STRLEN)
    err = -E2BIG;
  struct stack_plan p;
  if (!err)
    err = plan(top, &argv_size, &envp_size, execfn_len, &p);
  if (err)
    return err;
  out->sp = p.sp;
  out->len = (size_t)(top - p.sp);
  out->bytes = calloc(1, out->len); /* padding and the top word stay zero */
  if (!out->bytes)
    return -ENOMEM;
  fill(out, &p, argv, envp, execfn, random, aux);
  return 0;
}

void stack_image_free(struct stack_image *img) {
  free(img->bytes);
  *img = (struct stack_image){0};
}
