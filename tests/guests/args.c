/* args.c - prints argc, every argv entry and every environment entry, one per
 * line, so a test can check them exactly. */
#include <stdio.h>

extern char **environ;

int main(int argc, char **argv) {
  printf("argc=%d\n", argc);
  for (int i = 0; i < argc; i++)
    printf("argv[%d]=%s\n", i, argv[i]);
  int envc = 0;
  for (char **e = environ; *e != NULL; e++, envc++)
    printf("env=%s\n", *e);
  printf("envc=%d\n", envc);
  return 0;
}
