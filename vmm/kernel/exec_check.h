/* exec_check.h - what execve checks while the caller's program still runs,
 * so each failure is an error return the caller survives, in Linux's
 * order: the file (the lookup's errors; -EACCES unless it is a regular file
 * with an execute bit, a directory included), then, once the arguments are
 * copied, its format: an x86-64 ELF executable the loader takes, and the
 * PT_INTERP loader it names, found and itself a position-independent ELF
 * (-ENOEXEC otherwise).
 *
 * "#!" scripts are -ENOEXEC too: Linux would run their interpreter
 * (binfmt_script), hearth runs ELF programs only. (glibc's execvp and
 * execlp, not execve, then run the script with /bin/sh themselves.)
 *
 * Quiet: a failing execve is the guest's ordinary business (execvp probes
 * every PATH entry), so failures are logged at debug level, rate-limited. */
#ifndef HEARTH_VMM_KERNEL_EXEC_CHECK_H
#define HEARTH_VMM_KERNEL_EXEC_CHECK_H

#include <stdint.h>

struct vm;
struct file;

struct exec_image {
  struct file *file; /* a reference */
  uint64_t size;
  const char *path; /* as execve was given it (borrowed) */
};

/* Opens `path` (relative to the working directory) as a program. 0, or
 * the lookup's -errno, or -EACCES. */
int exec_open(struct vm *vm, const char *path, struct exec_image *out);

/* Checks the format of an opened program and its loader: 0, -ENOEXEC,
 * the loader's lookup errors or -EACCES, -EIO when a read fails. */
int exec_check_format(struct vm *vm, const struct exec_image *img);

/* The program's canonical guest path (its symlinks resolved: what
 * /proc/self/exe names), malloc'd; NULL when out of memory. */
char *exec_canonical_path(const struct exec_image *img);

void exec_close(struct exec_image *img);

#endif
