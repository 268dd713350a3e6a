/* start.c - bench/start: a static hello run as a plain process, under
 * hearth-vmm and under gVisor, alternating, each spawned directly; one
 * untimed warm-up of each kind, then N timed rounds; a report of wall times,
 * ratios, hearth-vmm's exits and RSS against issue 3's goals. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "figures.h"
#include "options.h"
#include "report.h"
#include "runcmd.h"
#include "verdict.h"
#include "vmmstats.h"
#include "workdir.h"

#define ARGV_MAX 12

enum { EXIT_ALL_OK = 0, EXIT_RUNS_FAILED = 1, EXIT_USAGE = 2, EXIT_HARNESS = 3 };

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
}

/* Everything one benchmark needs between runs. */
struct harness {
  const struct bench_options *o;
  struct bench_result *r;
  struct workdir wd;
  char **envp;
  char *argv[KIND_COUNT][ARGV_MAX];
  char runsc_root_flag[PATH_MAX + 16], platform_flag[128];
  char expected[CMD_CAPTURE_MAX];
  size_t expected_len;
  struct cmd_result res; /* the last run's */
};

const char *kind_name(enum kind k) {
  static const char *const names[KIND_COUNT] = {"plain", "hearth", "gVisor"};
  return names[k];
}

/* The parent's environment with TMPDIR pointing into the work directory, so
 * that `runsc do` leaves its bundle there. The same for every kind. */
static char **make_env(const char *tmpdir) {
  size_t n = 0;
  while (environ[n])
    n++;
  char **env = calloc(n + 2, sizeof *env);
  size_t tmp_len = strlen(tmpdir) + sizeof "TMPDIR=";
  char *tmp_var = malloc(tmp_len);
  if (!env || !tmp_var) {
    free(env);
    free(tmp_var);
    return NULL;
  }
  size_t out = 0;
  for (size_t i = 0; i < n; i++)
    if (strncmp(environ[i], "TMPDIR=", 7) != 0)
      env[out++] = environ[i];
  snprintf(tmp_var, tmp_len, "TMPDIR=%s", tmpdir);
  env[out] = tmp_var;
  return env;
}

static void free_env(char **env) {
  if (!env)
    return;
  size_t i = 0;
  while (env[i + 1])
    i++;
  free(env[i]); /* the TMPDIR entry, always last */
  free(env);
}

static void make_argvs(struct harness *h) {
  struct workdir *w = &h->wd;
  snprintf(h->runsc_root_flag, sizeof h->runsc_root_flag, "--root=%s", w->runsc_root);
  snprintf(h->platform_flag, sizeof h->platform_flag, "--platform=%s", h->o->platform);
  char *const plain[] = {w->hello, NULL};
  char *const hearth[] = {(char *)h->o->vmm, "--root", w->root,  "--stats",
                          w->stats,          "--",     "/hello", NULL};
  char *const gvisor[] = {(char *)h->o->runsc,
                          h->runsc_root_flag,
                          "--network=none",
                          "--ignore-cgroups",
                          h->platform_flag,
                          "do",
                          w->hello,
                          NULL};
  memcpy(h->argv[KIND_PLAIN], plain, sizeof plain);
  memcpy(h->argv[KIND_HEARTH], hearth, sizeof hearth);
  memcpy(h->argv[KIND_GVISOR], gvisor, sizeof gvisor);
}

static void pause_ms(double ms) {
  struct timespec ts = {.tv_sec = (time_t)(ms / 1e3), .tv_nsec = (long)(fmod(ms, 1e3) * 1e6)};
  while (ms > 0 && !interrupted && nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

/* Runs one kind once into h->res. Returns 0 or a harness error. */
static int run_kind(struct harness *h, enum kind k) {
  pause_ms(h->o->pause_ms);
  if (k == KIND_HEARTH && unlink(h->wd.stats) < 0 && errno != ENOENT)
    return -errno; /* a stale stats file must never be read as this run's */
  struct cmd c = {
      .argv = h->argv[k], .envp = h->envp, .timeout_s = h->o->timeout_s, .interrupt = &interrupted};
  return run_cmd(&c, &h->res);
}

static void keep_failure(struct kind_result *kr, size_t round, const char *why) {
  if (kr->failed < FAILURES_KEPT)
    snprintf(kr->failures[kr->failed], FAILURE_TEXT, "run %zu: %s", round + 1, why);
  kr->failed++;
}

/* hearth-vmm's own figures for a successful run. */
static void record_hearth(struct harness *h) {
  struct hearth_result *hr = &h->r->hearth;
  struct vmm_run_stats s;
  series_add(&hr->vmm_rss_kib, (double)h->res.maxrss_kib);
  if (vmm_stats_load(h->wd.stats, &s) < 0) {
    hr->stats_missing++;
    return;
  }
  series_add(&hr->exits, s.exits);
  series_add(&hr->syscalls, s.syscalls);
  series_add(&hr->lstar_syscalls, s.lstar_syscalls);
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
  struct kind_result *kr = &h->r->kinds[k];
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

/* The reference output: --expect's line, or what the plain warm-up printed. */
static int set_expected(struct harness *h) {
  const struct capture *out = &h->res.out;
  if (h->o->expect) {
    int n = snprintf(h->expected, sizeof h->expected, "%s\n", h->o->expect);
    h->expected_len = (size_t)n < sizeof h->expected ? (size_t)n : sizeof h->expected - 1;
    return 0;
  }
  if (h->res.spawn_errno || !h->res.reaped || h->res.status != 0 || out->len == 0 || out->truncated)
    return -EINVAL;
  memcpy(h->expected, out->buf, out->len);
  h->expected_len = out->len;
  return 0;
}

/* One untimed run of kind k; its verdict goes into the report. Returns 0, a
 * harness error, or -EINVAL when the plain run cannot be the reference. */
static int warm_up_one(struct harness *h, enum kind k) {
  int rc = run_kind(h, k);
  if (rc < 0)
    return rc;
  bool reference_ok = k != KIND_PLAIN || set_expected(h) == 0;
  char why[FAILURE_TEXT - 8];
  struct kind_result *kr = &h->r->kinds[k];
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
  for (int k = 0; k < KIND_COUNT && rc == 0 && !interrupted; k++)
    if (!h->o->skip[k])
      rc = warm_up_one(h, k);
  return rc;
}

static int timed_rounds(struct harness *h) {
  bool progress = isatty(STDERR_FILENO);
  for (size_t round = 0; round < h->o->runs && !interrupted; round++) {
    for (int k = 0; k < KIND_COUNT && !interrupted; k++) {
      int rc = h->o->skip[k] ? 0 : timed_run(h, k, round);
      if (rc < 0)
        return rc;
    }
    if (progress)
      fprintf(stderr, "\rround %zu/%zu", round + 1, h->o->runs);
  }
  if (progress)
    fprintf(stderr, "\r%30s\r", "");
  h->r->interrupted = interrupted;
  return 0;
}

/* Every series of r, into all[]; returns how many. */
static size_t all_series(struct bench_result *r, struct series *all[2 * KIND_COUNT + 6]) {
  size_t n = 0;
  for (int k = 0; k < KIND_COUNT; k++) {
    all[n++] = &r->kinds[k].wall_ms;
    all[n++] = &r->kinds[k].maxrss_kib;
  }
  struct hearth_result *h = &r->hearth;
  struct series *hearth[] = {&h->exits,       &h->syscalls,  &h->lstar_syscalls,
                             &h->vmm_rss_kib, &h->guest_kib, &h->excl_kib};
  for (size_t i = 0; i < sizeof hearth / sizeof hearth[0]; i++)
    all[n++] = hearth[i];
  return n;
}

static int init_results(struct bench_result *r, size_t runs) {
  struct series *all[2 * KIND_COUNT + 6];
  size_t n = all_series(r, all);
  for (size_t i = 0; i < n; i++)
    if (series_init(all[i], runs) < 0)
      return -ENOMEM;
  return 0;
}

static void free_results(struct bench_result *r) {
  struct series *all[2 * KIND_COUNT + 6];
  size_t n = all_series(r, all);
  for (size_t i = 0; i < n; i++)
    series_free(all[i]);
  free(r);
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

static void catch_signals(void) {
  struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll returns EINTR */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

/* Warm-up and timed rounds inside a fresh work directory, removed after. */
static int measure(struct harness *h) {
  int rc = workdir_create(&h->wd, h->o->hello);
  if (rc < 0) {
    fprintf(stderr, "bench/start: cannot set up a work directory for %s: %s\n", h->o->hello,
            strerror(-rc));
    return rc;
  }
  h->envp = make_env(h->wd.runsc_tmp);
  rc = h->envp ? 0 : -ENOMEM;
  make_argvs(h);
  if (rc == 0 && (rc = warm_up(h)) == -EINVAL)
    fprintf(stderr,
            "bench/start: the plain warm-up run of %s failed (%s), so its output cannot"
            " be the reference\n",
            h->o->hello, h->r->kinds[KIND_PLAIN].warmup);
  else if (rc < 0)
    fprintf(stderr, "bench/start: cannot run the commands: %s\n", strerror(-rc));
  if (rc == 0 && (rc = timed_rounds(h)) < 0)
    fprintf(stderr, "bench/start: cannot run the commands: %s\n", strerror(-rc));
  free_env(h->envp);
  int rm = workdir_remove(&h->wd);
  if (rm < 0)
    fprintf(stderr, "bench/start: cannot remove %s: %s\n", h->wd.path, strerror(-rm));
  return rc;
}

static bool any_failed(const struct bench_options *o, const struct bench_result *r) {
  for (int k = 0; k < KIND_COUNT; k++)
    if (!o->skip[k] && (r->kinds[k].failed > 0 || r->kinds[k].ok == 0))
      return true;
  return r->interrupted;
}

static int report(const struct bench_options *o, const struct bench_result *r) {
  struct figures f;
  if (figures_compute(r, &f) < 0)
    return -ENOMEM;
  report_text(stdout, o, r, &f);
  int rc = o->json ? report_json(o->json, o, r, &f) : 0;
  if (rc < 0)
    fprintf(stderr, "bench/start: cannot write %s: %s\n", o->json, strerror(-rc));
  return rc;
}

static int run_bench(const struct bench_options *o) {
  struct harness *h = calloc(1, sizeof *h);
  struct bench_result *r = calloc(1, sizeof *r);
  int rc = h && r ? init_results(r, o->runs) : -ENOMEM;
  if (rc == 0) {
    h->o = o;
    h->r = r;
    machine_describe(&r->machine, o->skip[KIND_GVISOR] ? NULL : o->runsc);
    rc = measure(h);
  }
  if (rc == 0) {
    r->self_hwm_kib = self_hwm_kib();
    rc = report(o, r);
  }
  int status = rc < 0 ? EXIT_HARNESS : any_failed(o, r) ? EXIT_RUNS_FAILED : EXIT_ALL_OK;
  if (rc == -ENOMEM)
    fprintf(stderr, "bench/start: out of memory\n");
  if (r)
    free_results(r);
  free(h);
  return status;
}

int main(int argc, char **argv) {
  struct bench_options o;
  char err[256];
  switch (options_parse(argc, argv, &o, err, sizeof err)) {
  case OPTIONS_HELP:
    options_usage(stdout);
    return EXIT_ALL_OK;
  case OPTIONS_ERROR:
    fprintf(stderr, "bench/start: %s\n", err);
    options_usage(stderr);
    return EXIT_USAGE;
  case OPTIONS_RUN:
    break;
  }
  catch_signals();
  return run_bench(&o);
}
