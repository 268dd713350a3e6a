/* bench_main.c - what the benchmarks' main functions share (bench_main.h). */
#include "bench_main.h"

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

volatile sig_atomic_t bench_interrupted;

static void on_signal(int sig) {
  (void)sig;
  bench_interrupted = 1;
}

void bench_catch_signals(void) {
  struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll returns EINTR */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

int bench_cmdline_exit(enum cmdline_action a, const char *name, const char *err,
                       void (*usage)(FILE *out)) {
  switch (a) {
  case CMDLINE_HELP:
    usage(stdout);
    return EXIT_ALL_OK;
  case CMDLINE_ERROR:
    fprintf(stderr, "%s: %s\n", name, err);
    usage(stderr);
    return EXIT_USAGE;
  case CMDLINE_RUN:
    break;
  }
  return -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int bench_remove_tree(const char *dir) { return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }
