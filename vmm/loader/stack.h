/* stack.h - the initial process stack a Linux x86-64 program expects at its
 * entry point, built in a host buffer (so it can be checked byte by byte)
 * and then copied into the guest by the caller.
 *
 * Layout, from the top down: a zero word; the argv strings, the envp
 * strings and the AT_EXECFN string; the AT_PLATFORM string; 16 AT_RANDOM
 * bytes; padding to 16 bytes; the auxv pairs ending in AT_NULL; envp and
 * argv arrays, each NULL-terminated; argc, at the 16-byte-aligned initial
 * stack pointer (the psABI's process entry state). */
#ifndef HEARTH_VMM_LOADER_STACK_H
#define HEARTH_VMM_LOADER_STACK_H

#include <stddef.h>
#include <stdint.h>

#define STACK_MAX_STRLEN (32u * 4096u) /* one argument or variable (Linux's MAX_ARG_STRLEN) */
#define STACK_PLATFORM "x86_64"
#define STACK_AUXV_ENTRIES 21u /* pairs at most, AT_NULL included */

/* The auxv values that depend on the program and the host. */
struct stack_auxv {
  uint64_t phdr, phent, phnum; /* the program's headers once loaded */
  uint64_t entry;              /* the program's own entry (not the interpreter's) */
  uint64_t base;               /* the interpreter's load address, 0 without one */
  uint64_t hwcap, hwcap2, minsigstksz;
  uint64_t uid, euid, gid, egid;
  uint64_t sysinfo_ehdr; /* the vDSO's ELF header; 0: none, and no AT_SYSINFO_EHDR */
};

struct stack_image {
  uint8_t *bytes; /* the stack contents for [sp, top); owned, free with stack_image_free */
  size_t len;
  uint64_t sp; /* initial RSP: 16-byte aligned, points at argc */
};

/* Builds the stack that ends at `top` (16-byte aligned) for argv (non-NULL,
 * NULL-terminated), envp (NULL-terminated, or NULL for none), AT_EXECFN
 * string `execfn` and the 16 AT_RANDOM bytes. The argv and envp strings and
 * their pointers may take at most `max_args` bytes (Linux's rule: a quarter
 * of the stack). 0; -E2BIG when they do not fit or one string is longer than
 * STACK_MAX_STRLEN; -EINVAL for a misaligned or too low `top`; -ENOMEM. */
int stack_build(uint64_t top, char *const argv[], char *const envp[], const char *execfn,
                const uint8_t random[16], const struct stack_auxv *aux, size_t max_args,
                struct stack_image *out);

void stack_image_free(struct stack_image *img);

#endif
