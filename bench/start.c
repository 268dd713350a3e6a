/* start.c - bench/start: three workloads (a static hello, python3 -c pass,
 * a python3 JSON one-liner), each run as a plain process, under hearth-vmm,
 * in a fresh gVisor sandbox and in a running one, alternating, each spawned
 * directly; one untimed warm-up of each kind, then N timed rounds; a report
 * of wall times, ratios, hearth-vmm's exits, page touches and RSS against
 * the goals of issues 3 and 4. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bench_main.h"
#include "figures.h"
#include "options.h"
#include "report.h"
#include "results.h"
#include "runcmd.h"
#include "sandbox.h"
#include "verdict.h"
#include "vmmstats.h"
#include "workdir.h"
#include "workload.h"

#define SANDBOX_ID_MAX 64

/* Everything one benchmark needs between runs. */
struct harness {
  const struct bench_options *o;
  struct bench_result *r;
  struct workdir wd;
  char **envp;
  char runsc_root_flag[PATH_MAX + 16], platform_flag[128], sandbox_id[SANDBOX_ID_MAX];
  struct workload_paths paths;
  struct sandbox sandbox;
  enum workload w; /* the workload being measured */
  char *argv[KIND_COUNT][WORKLOAD_ARGV_MAX];
  char expected[CMD_CAPTURE_MAX];
  size_t expected_len;
  bool have_expected;    /* expected[] holds the reference output */
  struct cmd_result res; /* the last run's */
};

/* Paths and flags every workload's commands share. */
static void set_paths(struct harness *h) {
  struct workdir *w = &h->wd;
  snprintf(h->runsc_root_flag, sizeof h->runsc_root_flag, "--root=%s", w->runsc_root);
  snprintf(h->platform_flag, sizeof h->platform_flag, "--platform=%s", h->o->platform);
  snprintf(h->sandbox_id, sizeof h->sandbox_id, "hearth-bench-%ld", (long)getpid());
  h->paths = (struct workload_paths){.hello = w->hello,
                                     .hearth_root = w->root,
                                     .stats = w->stats,
                                     .runsc_root = h->runsc_root_flag,
                                     .platform = h->platform_flag,
                                     .sandbox_id = h->sandbox_id};
}

/* A kind is run unless skipped by a flag, or it is gVisor exec and the
 * sandbox it runs in did not start (its runs then count as failed). */
static bool runnable(const struct harness *h, enum kind k) {
  return !h->o->skip[k] && (k != KIND_GVISOR_EXEC || h->r->sandbox.started);
}

static void pause_ms(double ms) {
  struct timespec ts = {.tv_sec = (time_t)(ms / 1e3), .tv_nsec = (long)(fmod(ms, 1e3) * 1e6)};
  while (ms > 0 && !bench_interrupted && nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

/* Runs one kind once into h->res. Returns 0 or a harness error. */
static int run_kind(struct harness *h, enum kind k) {
  pause_ms(h->o->pause_ms);
  if (k == KIND_HEARTH && unlink(h->wd.stats) < 0 && errno != ENOENT)
    return -errno; /* a stale stats file must never be read as this run's */
  struct cmd c = {.argv = h->argv[k],
                  .envp = h->envp,
                  .timeout_s = h->o->timeout_s,
                  .interrupt = &bench_interrupted};
  return run_cmd(&c, &h->res);
}

static void keep_failure(struct kind_result *kr, size_t round, const char *why) {
  if (kr->failed < FAILURES_KEPT)
    snprintf(kr->failures[kr->failed], FAILURE_TEXT, "run %zu: %s", round + 1, why);
  kr->failed++;
}

/* hearth-vmm's own figures for a successful run. */
static void record_hearth(struct harness *h) {
  struct hearth_result *hr = &h->r->workloads[h->w].hearth;
  struct vmm_run_stats s;
  series_add(&hr->vmm_rss_kib, (double)h->res.maxrss_kib);
  if (vmm_stats_load(h->wd.stats, &s) < 0) {
    hr->stats_missing++;
    return;
  }
  series_add(&hr->exits, s.exits);
  series_add(&hr->syscalls, s.syscalls);
  series_add(&hr->lstar_syscalls, s.lstar_syscalls);
  if (s.has_pages_populated)
    series_add(&hr->pages_populated, s.pages_populated);
  if (!s.has_guest_resident) {
    hr->guest_kib_missing++;
    return;
  }
  series_add(&hr->guest_kib, s.guest_resident_kib);
  series_add(&hr->excl_kib, (double)h->res.maxrss_kib - s.guest_resident_kib);
}

static int timed_run(struct harness *h, enum kind k, size_t round) {
  int rc = run_kind(h, k);
  if (rc < 0)
    return rc;
  if (h->res.interrupted)
    return 0; /* cut short by the user: neither a success nor a failure */
  struct kind_result *kr = &h->r->workloads[h->w].kinds[k];
  char why[FAILURE_TEXT - 32]; /* room for "run N: " */
  if (!run_succeeded(h->argv[k][0], &h->res, h->expected, h->expected_len, why, sizeof why)) {
    keep_failure(kr, round, why);
    return 0;
  }
  kr->ok++;
  series_add(&kr->wall_ms, h->res.wall_ms);
  series_add(&kr->maxrss_kib, (double)h->res.maxrss_kib);
  if (k == KIND_HEARTH)
    record_hearth(h);
  return 0;
}

static void set_expected_text(struct harness *h, const char *text, size_t len) {
  h->expected_len = len < sizeof h->expected ? len : sizeof h->expected - 1;
  memcpy(h->expected, text, h->expected_len);
  h->have_expected = true;
}

/* The reference output when it is known before any run: --expect's line for
 * the hello, the workload's fixed output for python. */
static void set_fixed_expected(struct harness *h) {
  const char *fixed = workload_spec(h->w)->expected;
  h->have_expected = false;
  h->expected_len = 0;
  if (h->w == WORKLOAD_HELLO && h->o->expect) {
    char line[CMD_CAPTURE_MAX];
    int n = snprintf(line, sizeof line, "%s\n", h->o->expect);
    set_expected_text(h, line, n < 0 ? 0 : (size_t)n);
  } else if (fixed) {
    set_expected_text(h, fixed, strlen(fixed));
  }
}

/* Otherwise, what the plain warm-up printed (it must have printed a line). */
static int expected_from_plain(struct harness *h) {
  const struct capture *out = &h->res.out;
  if (h->res.spawn_errno || !h->res.reaped || h->res.status != 0 || out->len == 0 || out->truncated)
    return -EINVAL;
  set_expected_text(h, out->buf, out->len);
  return 0;
}

/* One untimed run of kind k; its verdict goes into the report. Returns 0, a
 * harness error, or -EINVAL when the plain run cannot be the reference. */
static int warm_up_one(struct harness *h, enum kind k) {
  struct kind_result *kr = &h->r->workloads[h->w].kinds[k];
  if (!runnable(h, k)) {
    snprintf(kr->warmup, sizeof kr->warmup, "FAILED: no warm sandbox: %.200s", h->r->sandbox.why);
    return 0;
  }
  int rc = run_kind(h, k);
  if (rc < 0)
    return rc;
  bool reference_ok = h->have_expected || expected_from_plain(h) == 0;
  char why[FAILURE_TEXT - 8];
  bool ok = run_succeeded(h->argv[k][0], &h->res, h->expected, h->expected_len, why, sizeof why);
  if (ok && !reference_ok)
    snprintf(why, sizeof why, "printed nothing, or more than %d bytes", CMD_CAPTURE_MAX);
  if (ok && reference_ok)
    snprintf(kr->warmup, sizeof kr->warmup, "ok, %.3f ms", h->res.wall_ms);
  else
    snprintf(kr->warmup, sizeof kr->warmup, "FAILED: %s", why);
  return reference_ok ? 0 : -EINVAL;
}

static int warm_up(struct harness *h) {
  int rc = 0;
  set_fixed_expected(h);
  for (int k = 0; k < KIND_COUNT && rc == 0 && !bench_interrupted; k++)
    if (!h->o->skip[k])
      rc = warm_up_one(h, k);
  return rc;
}

static int timed_rounds(struct harness *h) {
  bool progress = isatty(STDERR_FILENO);
  size_t runs = h->o->runs[h->w];
  for (size_t round = 0; round < runs && !bench_interrupted; round++) {
    for (int k = 0; k < KIND_COUNT && !bench_interrupted; k++) {
      int rc = runnable(h, k) ? timed_run(h, k, round) : 0;
      if (rc < 0)
        return rc;
    }
    if (progress)
      fprintf(stderr, "\r%s: round %zu/%zu", workload_spec(h->w)->key, round + 1, runs);
  }
  if (progress)
    fprintf(stderr, "\r%40s\r", "");
  h->r->interrupted = bench_interrupted;
  return 0;
}

/* Warm-up and timed rounds of one workload. A workload whose plain warm-up
 * gives no reference output is reported and left; the others still run. */
static int measure_workload(struct harness *h, enum workload w) {
  h->w = w;
  h->r->workloads[w].started = true;
  for (int k = 0; k < KIND_COUNT; k++)
    workload_argv(w, k, h->o, &h->paths, h->argv[k]);
  int rc = warm_up(h);
  if (rc == -EINVAL) {
    fprintf(stderr,
            "bench/start: %s: the plain warm-up run failed (%s), so its output cannot be the"
            " reference; no timed runs\n",
            workload_spec(w)->key, h->r->workloads[w].kinds[KIND_PLAIN].warmup);
    return 0;
  }
  if (rc == 0)
    rc = timed_rounds(h);
  if (rc < 0)
    fprintf(stderr, "bench/start: cannot run the commands: %s\n", strerror(-rc));
  return rc;
}

/* Starts the warm gVisor sandbox unless gVisor exec is skipped. A sandbox
 * that does not start fails that kind's runs, not the benchmark. */
static int start_sandbox(struct harness *h) {
  if (h->o->skip[KIND_GVISOR_EXEC])
    return 0;
  struct sandbox *s = &h->sandbox;
  *s = (struct sandbox){.runsc_flags = {h->o->runsc, h->runsc_root_flag, "--network=none",
                                        "--ignore-cgroups", h->platform_flag, NULL},
                        .id = h->sandbox_id,
                        .bundle = h->wd.bundle,
                        .stdio = h->wd.sandbox_stdio,
                        .envp = h->envp,
                        .timeout_s = h->o->timeout_s};
  int rc = sandbox_start(s, &h->r->sandbox);
  if (rc < 0)
    fprintf(stderr, "bench/start: cannot set up the warm gVisor sandbox: %s\n", strerror(-rc));
  else if (!h->r->sandbox.started)
    fprintf(stderr, "bench/start: the warm gVisor sandbox did not start (%s); its runs fail\n",
            h->r->sandbox.why);
  return rc;
}

static void stop_sandbox(struct harness *h) {
  sandbox_stop(&h->sandbox, &h->r->sandbox);
  if (h->r->sandbox.stop[0])
    fprintf(stderr, "bench/start: cannot delete the warm gVisor sandbox %s: %s\n", h->sandbox_id,
            h->r->sandbox.stop);
}

/* This process's VmHWM from /proc/self/status, in KiB, or -1. */
static long self_hwm_kib(void) {
  FILE *f = fopen("/proc/self/status", "re");
  if (!f)
    return -1;
  char line[256];
  long kib = -1;
  while (kib < 0 && fgets(line, sizeof line, f))
    if (sscanf(line, "VmHWM: %ld kB", &kib) != 1)
      kib = -1;
  fclose(f);
  return kib;
}

/* Every workload inside a fresh work directory, removed after. */
static int measure(struct harness *h) {
  int rc = workdir_create(&h->wd, h->o->hello);
  if (rc < 0) {
    fprintf(stderr, "bench/start: cannot set up a work directory for %s: %s\n", h->o->hello,
            strerror(-rc));
    return rc;
  }
  h->envp = workdir_env(&h->wd);
  rc = h->envp ? 0 : -ENOMEM;
  set_paths(h);
  if (rc == 0)
    rc = start_sandbox(h);
  for (int w = 0; w < WORKLOAD_COUNT && rc == 0 && !bench_interrupted; w++)
    if (!h->o->skip_workload[w])
      rc = measure_workload(h, w);
  if (h->envp)
    stop_sandbox(h);
  workdir_env_free(h->envp);
  int rm = workdir_remove(&h->wd);
  if (rm < 0)
    fprintf(stderr, "bench/start: cannot remove %s: %s\n", h->wd.path, strerror(-rm));
  return rc;
}

static bool any_failed(const struct bench_options *o, const struct bench_result *r) {
  for (int w = 0; w < WORKLOAD_COUNT; w++) {
    for (int k = 0; k < KIND_COUNT && !o->skip_workload[w]; k++) {
      const struct kind_result *kr = &r->workloads[w].kinds[k];
      if (!o->skip[k] && (kr->failed > 0 || kr->ok == 0))
        return true;
    }
  }
  return r->interrupted;
}

static int report(const struct bench_options *o, const struct bench_result *r) {
  struct figures *f = calloc(1, sizeof *f);
  if (!f || figures_compute(r, f) < 0) {
    free(f);
    return -ENOMEM;
  }
  report_text(stdout, o, r, f);
  int rc = o->json ? report_json(o->json, o, r, f) : 0;
  if (rc < 0)
    fprintf(stderr, "bench/start: cannot write %s: %s\n", o->json, strerror(-rc));
  free(f);
  return rc;
}

static int run_bench(const struct bench_options *o) {
  struct harness *h = calloc(1, sizeof *h);
  struct bench_result *r = results_new(o);
  int rc = h && r ? 0 : -ENOMEM;
  if (rc == 0) {
    h->o = o;
    h->r = r;
    machine_describe(&r->machine,
                     o->skip[KIND_GVISOR] && o->skip[KIND_GVISOR_EXEC] ? NULL : o->runsc);
    rc = measure(h);
  }
  if (rc == 0) {
    r->self_hwm_kib = self_hwm_kib();
    rc = report(o, r);
  }
  int status = rc < 0 ? EXIT_HARNESS : any_failed(o, r) ? EXIT_RUNS_FAILED : EXIT_ALL_OK;
  if (rc == -ENOMEM)
    fprintf(stderr, "bench/start: out of memory\n");
  results_free(r);
  free(h);
  return status;
}

int main(int argc, char **argv) {
  struct bench_options o;
  char err[256];
  int usage_status = bench_cmdline_exit(options_parse(argc, argv, &o, err, sizeof err),
                                        "bench/start", err, options_usage);
  if (usage_status >= 0)
    return usage_status;
  bench_catch_signals();
  return run_bench(&o);
}
