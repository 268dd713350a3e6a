/* hello.c - the smallest guest: one line on stdout. `make run` runs it. */
#include <stdio.h>

int main(void) {
  puts("hello from hearth");
  return 0;
}
