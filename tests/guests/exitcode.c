/* exitcode.c - exits with the status given as argv[1] (only its low 8 bits
 * reach the parent, as on Linux). */
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc != 2)
    return 2;
  exit(atoi(argv[1]));
}
