/* echorun.c - concurrent `hearth run`s checked in forked children
 * (echorun.h). */
#include "echorun.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "itest.h"

void echorun_child(int i, const char *cli, const char *const *argv, const char *event,
                   unsigned timeout_ms) {
  struct spawn_result r = {0};
  int rc = spawn_capture(cli, (char *const *)argv, itest_vmm_environment(), event, strlen(event),
                         timeout_ms, &r);
  bool ok = rc == 0 && r.status == 0 && r.out_len == strlen(event) &&
            memcmp(r.out, event, r.out_len) == 0;
  if (!ok)
    fprintf(stderr, "run %d: status %d, stdout '%s', stderr:\n%s\n", i, r.status,
            r.out ? r.out : "", r.err ? r.err : "");
  _exit(ok ? 0 : 1);
}

int echorun_reap(const pid_t *kids, int n) {
  int failed = 0;
  for (int i = 0; i < n; i++) {
    int status;
    pid_t got;
    while ((got = waitpid(kids[i], &status, 0)) < 0 && errno == EINTR)
      continue;
    failed += got != kids[i] || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  }
  return failed;
}
