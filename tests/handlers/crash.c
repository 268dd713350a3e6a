/* crash: a native test handler that dies of SIGSEGV (a write through a null
 * pointer) after one log line. */
#include <stdio.h>

int main(void) {
  fputs("crash: about to fault\n", stderr);
  fflush(stderr);
  *(volatile int *)0 = 1;
  return 0;
}
