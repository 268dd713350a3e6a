/* abort.c - calls abort(): the libc raises SIGABRT at itself, which must end
 * the program with status 134 (128 + SIGABRT). */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  fputs("abort: calling abort()\n", stderr);
  abort();
}
