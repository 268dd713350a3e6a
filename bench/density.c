/* density.c - bench/density: N idle VMs restored at once from one snapshot
 * of the base image (hearth-init in accept), what each really costs the
 * host (MemAvailable's drop, and a memory cgroup's growth, kernel memory
 * included), and how fast they come up (VMs/s until the last "ready").
 * Then as many as leave half the machine's memory free. Every VM is ended
 * and reaped, whatever happens. Not a test: a figure. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench_main.h"
#include "density.h"
#include "density_opts.h"
#include "density_report.h"
#include "density_round.h"
#include "restore_snap.h"

#define FDS_PER_VM 2 /* its pidfd and ready pipe, held by the benchmark */
#define FDS_SPARE 64

double dn_per_vm_avail_kib(const struct dn_round *r) {
  return r->ready ? (double)(r->avail_before_kib - r->avail_after_kib) / (double)r->ready : 0;
}

double dn_per_vm_cgroup_kib(const struct dn_round *r) {
  if (r->cg_before < 0 || r->cg_after < 0 || !r->ready)
    return -1;
  return (double)(r->cg_after - r->cg_before) / 1024.0 / (double)r->ready;
}

double dn_per_vm_kernel_kib(const struct dn_round *r) {
  if (r->kmem_before < 0 || r->kmem_after < 0 || !r->ready)
    return -1;
  return (double)(r->kmem_after - r->kmem_before) / 1024.0 / (double)r->ready;
}

/* The most descriptors the benchmark may hold: its hard limit. */
static size_t fd_room(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return 1024;
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  getrlimit(RLIMIT_NOFILE, &rl);
  return rl.rlim_cur > FDS_SPARE ? (size_t)(rl.rlim_cur - FDS_SPARE) : 0;
}

/* The second round's count: what leaves half of MemTotal available at the
 * first round's cost per VM (the larger of its two figures), within --max
 * and the descriptors we may hold. 0: no second round. */
static size_t second_count(const struct dn_options *o, struct dn_result *res) {
  const struct dn_round *r = &res->rounds[0];
  double per_vm = dn_per_vm_avail_kib(r), cg = dn_per_vm_cgroup_kib(r);
  if (cg > per_vm)
    per_vm = cg;
  long long avail = dn_mem_available_kib();
  if (per_vm <= 0 || avail <= 0 || r->ready < r->asked) {
    snprintf(res->cap_note, DN_TEXT, "no second round: the first %s",
             r->ready < r->asked ? "did not bring every VM up" : "gave no cost per VM");
    return 0;
  }
  double room = (double)(avail - res->mem_total_kib / 2);
  size_t by_mem = room > 0 ? (size_t)(room / per_vm) : 0, by_fds = fd_room() / FDS_PER_VM;
  size_t n = by_mem;
  const char *bound = "half of the memory free";
  if (o->max < n) {
    n = o->max;
    bound = "--max";
  }
  if (by_fds < n) {
    n = by_fds;
    bound = "the descriptor limit";
  }
  snprintf(res->cap_note, DN_TEXT,
           "%zu VMs (memory would allow %zu at %.0f KiB each, MemAvailable %lld KiB, MemTotal "
           "%lld KiB); bound by %s",
           n, by_mem, per_vm, avail, res->mem_total_kib, bound);
  return n > r->asked ? n : 0;
}

static int join(char *out, const char *a, const char *b) {
  int n = snprintf(out, PATH_MAX, "%s/%s", a, b);
  return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int run_rounds(const struct dn_options *o, struct dn_result *res, const char *work) {
  char snap[PATH_MAX], image[PATH_MAX], state[PATH_MAX];
  if (join(snap, work, "snap") < 0 || join(image, o->images, "base") < 0 ||
      join(state, work, "state") < 0)
    return -ENAMETOOLONG;
  struct rsnap_args sa = {.vmm = o->vmm,
                          .image = image,
                          .keys = o->keys,
                          .state_dir = state,
                          .work = work,
                          .mem_mib = o->mem_mib,
                          .timeout_s = 30};
  if (rsnap_take(&sa, snap, &res->snapshot_ms, res->snapshot_error, DN_TEXT) < 0) {
    if (!res->snapshot_error[0])
      snprintf(res->snapshot_error, DN_TEXT, "the snapshot failed");
    return 0;
  }
  struct dn_round_args ra = {.o = o, .snap = snap, .work = work, .interrupt = &bench_interrupted};
  if (o->count > fd_room() / FDS_PER_VM)
    return -EMFILE;
  int rc = dn_round_run(&ra, o->count, &res->rounds[0]);
  res->nrounds = 1;
  if (rc < 0 || o->no_scale || bench_interrupted)
    return rc;
  size_t n = second_count(o, res);
  if (n == 0)
    return 0;
  rc = dn_round_run(&ra, n, &res->rounds[1]);
  res->nrounds = 2;
  return rc;
}

static int measure(const struct dn_options *o, struct dn_result *res) {
  char work[PATH_MAX] = "/tmp/hearth-bench-density.XXXXXX"; /* short: socket paths */
  if (mkdtemp(work) == NULL) {
    fprintf(stderr, "bench/density: cannot make a work directory: %s\n", strerror(errno));
    return -errno;
  }
  int rc = run_rounds(o, res, work);
  if (rc < 0)
    fprintf(stderr, "bench/density: %s\n", strerror(-rc));
  res->interrupted = bench_interrupted;
  if (bench_remove_tree(work) != 0)
    fprintf(stderr, "bench/density: cannot remove %s\n", work);
  return rc;
}

static bool any_failed(const struct dn_result *res) {
  if (res->snapshot_error[0] || res->interrupted || res->nrounds == 0)
    return true;
  for (size_t i = 0; i < res->nrounds; i++)
    if (res->rounds[i].answered < res->rounds[i].asked)
      return true;
  return false;
}

int main(int argc, char **argv) {
  struct dn_options o;
  char err[256];
  int usage_status = bench_cmdline_exit(dn_opts_parse(argc, argv, &o, err, sizeof err),
                                        "bench/density", err, dn_opts_usage);
  if (usage_status >= 0)
    return usage_status;
  bench_catch_signals();
  static struct dn_result res;
  machine_describe(&res.machine, NULL);
  machine_loadavg(res.loadavg);
  res.mem_total_kib = dn_mem_total_kib();
  int rc = measure(&o, &res);
  if (rc == 0) {
    dn_report_text(stdout, &o, &res);
    if (o.json && (rc = dn_report_json(o.json, &o, &res)) < 0)
      fprintf(stderr, "bench/density: cannot write %s: %s\n", o.json, strerror(-rc));
  }
  return rc < 0 ? EXIT_HARNESS : any_failed(&res) ? EXIT_RUNS_FAILED : EXIT_ALL_OK;
}
