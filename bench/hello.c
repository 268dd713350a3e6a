/* hello.c - the benchmark's own static hello, used only when the build has
 * no tests/guests (whose gcc/hello is the same program). */
#include <stdio.h>

int main(void) {
  puts("hello from hearth");
  return 0;
}
