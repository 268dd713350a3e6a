/* proc.c - the guest process's identity and limits, and the rules for
 * changing the limits (proc.h). */
#include "proc.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "fdtable.h"
#include "signal.h"
#include "vm.h"

#define MEMLOCK_DEFAULT (8ULL << 20) /* Linux's default since 5.16 */
#define MSGQUEUE_DEFAULT 819200ULL   /* Linux's default */

static void proc_rlimit_set(struct vm_proc *p, int resource, uint64_t cur, uint64_t max) {
  p->rlim_cur[resource] = cur;
  p->rlim_max[resource] = max;
}

void proc_state_init(struct vm_proc *p, uint64_t stack_size, uint64_t mem_bytes) {
  uint8_t random[sizeof p->random];
  memcpy(random, p->random, sizeof random); /* the loader's AT_RANDOM bytes stay */
  memset(p, 0, sizeof *p);
  memcpy(p->random, random, sizeof random);
  p->pid = p->tid = PROC_GUEST_PID;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  p->start_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
  for (int r = 0; r < PROC_RLIMIT_COUNT; r++)
    proc_rlimit_set(p, r, GUEST_RLIM_INFINITY, GUEST_RLIM_INFINITY);
  proc_rlimit_set(p, RLIMIT_STACK, stack_size, stack_size);
  proc_rlimit_set(p, RLIMIT_RSS, mem_bytes, mem_bytes);
  proc_rlimit_set(p, RLIMIT_CORE, 0, 0);
  proc_rlimit_set(p, RLIMIT_NPROC, 1, 1);
  proc_rlimit_set(p, RLIMIT_NOFILE, FDTABLE_DEFAULT_MAX, FDTABLE_HARD_MAX);
  proc_rlimit_set(p, RLIMIT_MEMLOCK, MEMLOCK_DEFAULT, MEMLOCK_DEFAULT);
  proc_rlimit_set(p, RLIMIT_SIGPENDING, SIG_QUEUE_MAX, SIG_QUEUE_MAX);
  proc_rlimit_set(p, RLIMIT_MSGQUEUE, MSGQUEUE_DEFAULT, MSGQUEUE_DEFAULT);
  proc_rlimit_set(p, RLIMIT_NICE, 0, 0);
  proc_rlimit_set(p, RLIMIT_RTPRIO, 0, 0);
}

int proc_rlimit_check(const struct vm_proc *p, unsigned resource, const struct guest_rlimit *want) {
  if (resource >= PROC_RLIMIT_COUNT || want->cur > want->max)
    return -EINVAL;
  if (resource == RLIMIT_NOFILE && want->max > FDTABLE_HARD_MAX)
    return -EPERM;
  if (want->max > p->rlim_max[resource])
    return -EPERM;
  return 0;
}

bool proc_rlimit_enforced(unsigned resource) {
  switch (resource) {
  case RLIMIT_CPU:
  case RLIMIT_FSIZE:
  case RLIMIT_DATA:
  case RLIMIT_AS:
    return false;
  default:
    return true;
  }
}
