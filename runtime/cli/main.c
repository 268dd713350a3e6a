/* main.c - the hearth command: `hearth run` today (run.h); hearthd's
 * client commands come with the daemon. */
#include <stdio.h>
#include <string.h>

#include "outcome.h"
#include "run.h"

extern char **environ;

static void usage(FILE *to) {
  fputs("usage: hearth run --image DIR --trust DIR --code DIR|ARCHIVE [FLAGS] < EVENT\n"
        "       hearth --version\n"
        "`hearth run --help` lists the flags of run.\n",
        to);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return EXIT_HEARTH;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("hearth %s\n", HEARTH_VERSION);
    return 0;
  }
  if (strcmp(argv[1], "run") == 0)
    return run_command(argc - 1, argv + 1, environ);
  fprintf(stderr, "hearth: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return EXIT_HEARTH;
}
