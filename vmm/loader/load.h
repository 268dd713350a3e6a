/* load.h - puts a program into a fresh VM: finds it in the guest's file
 * tree, maps its ELF segments (fixed-address or PIE; a PT_INTERP loader
 * too when the program has one), rewrites its `syscall` sites, sets up the
 * stack (argv, envp, auxv) and the program break. */
#ifndef HEARTH_VMM_LOAD_H
#define HEARTH_VMM_LOAD_H

#include <stdint.h>

struct vm;

struct load_result {
  uint64_t entry; /* where the vCPU starts */
  uint64_t sp;    /* initial stack pointer (argc) */
};

/* Loads vm->cfg->argv[0] with vm->cfg->argv and vm->cfg->env.
 * -ENOENT: not found (exit 127); -ENOEXEC or -EACCES: not a usable ELF or
 * not executable (126); -ENOMEM: does not fit in guest memory (125). Logs
 * one line saying what was wrong. Also passed on: the vfs's other lookup
 * errors (-ENOTDIR, -ELOOP, -ENAMETOOLONG), -E2BIG for arguments and
 * environment too large for the stack, -EIO when the file cannot be read
 * whole. */
int load_program(struct vm *vm, struct load_result *out);

/* load_program for `path` with the given argv and env (NULL-terminated),
 * into an address space with no mappings: the VM start and execve. */
int load_program_args(struct vm *vm, const char *path, char *const *argv, char *const *env,
                      struct load_result *out);

#endif
