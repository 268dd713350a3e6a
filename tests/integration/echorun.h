/* echorun.h - concurrent `hearth run`s in the integration tests: each in a
 * forked child that checks the handler echoed its event. */
#ifndef HEARTH_ITEST_ECHORUN_H
#define HEARTH_ITEST_ECHORUN_H

#include <sys/types.h>

/* In a forked child: runs `cli` with argv and `event` on stdin, and exits
 * 0 when it exited 0 printing event back exactly, else 1 after saying why
 * on stderr (run number i). */
_Noreturn void echorun_child(int i, const char *cli, const char *const *argv, const char *event,
                             unsigned timeout_ms);

/* Reaps the n children; how many did not exit 0. */
int echorun_reap(const pid_t *kids, int n);

#endif
