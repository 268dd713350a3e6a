/* spin.c - loops forever without a system call: only --timeout ends it. */
#include <stdio.h>

int main(void) {
  fputs("spin: looping forever\n", stderr);
  for (;;)
    __asm__ volatile("" ::: "memory");
}
