/* crash.c - writes through a NULL pointer: a page fault at CPL 3 that must
 * end the program with status 139 (128 + SIGSEGV). Pointer and target are
 * volatile: the compiler can neither know the address nor drop the store. */
#include <stdio.h>

int main(void) {
  volatile int *volatile target = NULL;
  fputs("crash: writing through NULL\n", stderr);
  *target = 42;
  puts("survived");
  return 0;
}
