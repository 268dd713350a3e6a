/* syscall.h - entry from a guest system call exit to its handler, with
 * --trace-syscalls output and the once-per-VM log of unsupported calls. */
#ifndef HEARTH_VMM_SYSCALL_H
#define HEARTH_VMM_SYSCALL_H

#include <stdint.h>

struct vm;

/* Serves system call `nr` with arguments a[0..5]; returns the value for RAX
 * (-ENOSYS for calls hearth does not serve, logged once per name). */
long syscall_dispatch(struct vm *vm, uint64_t nr, const uint64_t *a);

/* Name of system call nr ("syscall_N" for unknown ones; static storage). */
const char *syscall_name(uint64_t nr);

#endif
