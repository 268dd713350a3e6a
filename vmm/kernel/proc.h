/* proc.h - the guest process's identity and resource limits (the state in
 * struct vm_proc, vm.h), and Linux's rules for changing the limits.
 *
 * Identity: the guest is one process with one thread. Its pid is 2, not 1:
 * programs treat pid 1 as an init with special duties (reaping, signal
 * defaults), which the guest is not. Its parent is outside its world, so
 * getppid() is 0, as Linux answers for a parent outside the pid namespace.
 * It runs as uid/gid 1000, not root: the image tree is read-only whoever
 * asks, and a function has no business believing it holds privileges (and
 * trying chown, setuid or raw sockets on that belief). The loader's AT_UID,
 * AT_GID... and the guest's /etc/passwd are to use these same numbers. */
#ifndef HEARTH_VMM_PROC_H
#define HEARTH_VMM_PROC_H

#include <stdbool.h>
#include <stdint.h>

#define PROC_GUEST_PID 2
#define PROC_GUEST_UID 1000
#define PROC_GUEST_GID 1000
#define PROC_RLIMIT_COUNT 16 /* RLIM_NLIMITS */
#define GUEST_RLIM_INFINITY UINT64_MAX

struct vm_proc;

/* struct rlimit / rlimit64 on x86-64. */
struct guest_rlimit {
  uint64_t cur, max;
};

/* Identity, the start time, and the limits the guest starts with:
 * RLIMIT_STACK is the real stack (stack_size bytes; it cannot grow),
 * RLIMIT_RSS the guest memory (mem_bytes), RLIMIT_NOFILE the fd table's,
 * RLIMIT_NPROC 1 (no process can be created), RLIMIT_SIGPENDING the
 * signal queue's, RLIMIT_CORE 0 (no core is ever written); the others are
 * Linux's defaults. */
void proc_state_init(struct vm_proc *p, uint64_t stack_size, uint64_t mem_bytes);

/* Whether p may set `resource` to *want, by Linux's rules: -EINVAL for an
 * unknown resource or cur > max, -EPERM for raising the hard limit (the
 * guest has no CAP_SYS_RESOURCE) or an RLIMIT_NOFILE above what the fd
 * table can hold. */
int proc_rlimit_check(const struct vm_proc *p, unsigned resource, const struct guest_rlimit *want);

/* Whether hearth enforces `resource`. The guest may lower any limit, but
 * CPU, FSIZE, DATA and AS are not enforced yet; callers log that once. */
bool proc_rlimit_enforced(unsigned resource);

#endif
