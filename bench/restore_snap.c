/* restore_snap.c - taking the benchmarks' image snapshot (restore_snap.h). */
#include "restore_snap.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "restore_vm.h"

void rsnap_fresh_argv(const struct rsnap_args *a, const char *uds, const char *api, char **argv,
                      char bufs[2][32]) {
  snprintf(bufs[0], 32, "%u", a->mem_mib);
  snprintf(bufs[1], 32, "%d", RVM_READY_FD);
  const char *words[] = {a->vmm,        "--image",    a->image, "--trust",   a->keys,
                         "--state-dir", a->state_dir, "--mem",  bufs[0],     "--vsock-uds",
                         uds,           "--ready-fd", bufs[1],  "--timeout", "3600"};
  size_t n = 0;
  for (; n < sizeof words / sizeof words[0]; n++)
    argv[n] = (char *)words[n];
  if (api) {
    argv[n++] = "--api-sock";
    argv[n++] = (char *)api;
  }
  argv[n] = NULL;
}

static int path_in(char *out, const char *dir, const char *name) {
  int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);
  return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* pause, snapshot, shutdown through api; then the VMM must exit 143. */
static int snapshot_and_stop(const struct rsnap_args *a, struct rvm *v, const char *api,
                             const char *dir, char *err, size_t errlen) {
  char snap_line[PATH_MAX + 64];
  snprintf(snap_line, sizeof snap_line, "{\"cmd\":\"snapshot\",\"dir\":\"%s\"}", dir);
  const char *lines[] = {"{\"cmd\":\"pause\"}", snap_line, "{\"cmd\":\"shutdown\"}", NULL};
  double deadline = rvm_now_ms() + a->timeout_s * 1e3;
  int rc = rvm_api(api, lines, deadline, err, errlen);
  if (rc < 0) {
    if (rc != -EPROTO)
      snprintf(err, errlen, "control socket %s: %s", api, strerror(-rc));
    rvm_end(v);
    return rc;
  }
  int status = rvm_wait_exit(v, deadline);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 143) {
    snprintf(err, errlen, "hearth-vmm ended with status %#x after shutdown", status);
    return -EPROTO;
  }
  return 0;
}

int rsnap_take(const struct rsnap_args *a, const char *dir, double *took_ms, char *err,
               size_t errlen) {
  char uds[PATH_MAX], api[PATH_MAX], log[PATH_MAX], bufs[2][32], *argv[24];
  int rc = path_in(uds, a->work, "snap.vsock");
  if (rc == 0)
    rc = path_in(api, a->work, "snap.api");
  if (rc == 0)
    rc = path_in(log, a->work, "snap.log");
  if (rc < 0) {
    snprintf(err, errlen, "work directory path too long");
    return rc;
  }
  unlink(log);
  unlink(uds); /* an earlier snapshot's, in the same work directory */
  unlink(api);
  rsnap_fresh_argv(a, uds, api, argv, bufs);
  struct rvm v;
  if ((rc = rvm_spawn(&v, argv, log)) < 0) {
    snprintf(err, errlen, "cannot spawn %s: %s", a->vmm, strerror(-rc));
    return rc;
  }
  if ((rc = rvm_wait_ready(&v, v.spawn_ms + a->timeout_s * 1e3)) < 0) {
    char line[256];
    rvm_end(&v);
    rvm_log_first_line(log, line, sizeof line);
    snprintf(err, errlen, "no \"ready\" from the fresh VM (%s): %s", rvm_why(rc), line);
    return rc;
  }
  rc = snapshot_and_stop(a, &v, api, dir, err, errlen);
  *took_ms = rvm_now_ms() - v.spawn_ms;
  return rc;
}
