/* A small program the loader tests build statically (glibc, glibc
 * static-PIE, musl) to parse and scan as real executables. */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
  printf("hello from %s (%d args, pid %d)\n", argv[0], argc, (int)getpid());
  return 0;
}
