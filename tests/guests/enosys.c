/* enosys.c - calls system call numbers no kernel serves: two inside
 * x86-64's table that Linux retired and answers ENOSYS itself
 * (create_module 174, vserver 236: numbers hearth's dispatch table has no
 * entry for), two far beyond it (1000, 100000; the gaps inside it get
 * filled over time: 335 became uretprobe in Linux 6.11), an x32-ABI number
 * (bit 30 set: must not be taken for its 64-bit twin, write) and -1. Each
 * must fail with ENOSYS (38) and the program must keep running to print
 * DONE. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

static void try_syscall(long nr) {
  errno = 0;
  long r = syscall(nr, 0L, 0L, 0L, 0L, 0L, 0L);
  printf("syscall %ld: result %ld errno %d\n", nr, r, errno);
}

int main(void) {
  try_syscall(174);
  try_syscall(236);
  try_syscall(1000);
  try_syscall(100000);
  try_syscall(0x40000001L);
  try_syscall(-1);
  puts("DONE");
  return 0;
}
