/* restore.c - bench/restore: spawn to the guest answering on vsock (the
 * host reads hearth-init's HELLO through the bridge), restored from an
 * image snapshot vs a fresh start of the signed image, for the base and
 * python images; and a restore prestarted paused (--start-paused), from its
 * resume to the HELLO. Kinds alternate after one untimed warm-up of each; each VM
 * is ended (SIGKILL, reaped) after its HELLO, and that teardown is timed
 * too. Not a test: a figure. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_main.h"
#include "restore.h"
#include "restore_opts.h"
#include "restore_report.h"
#include "restore_snap.h"
#include "restore_vm.h"
#include "runcmd.h"

struct harness {
  const struct rs_options *o;
  struct rs_result *r;
  char dir[PATH_MAX]; /* the work directory, removed at the end */
  char uds[PATH_MAX], api[PATH_MAX], log[PATH_MAX], state[PATH_MAX];
  char image[RS_IMAGES][PATH_MAX], snap[RS_IMAGES][PATH_MAX];
};

const char *rs_image_key(enum rs_image i) { return i == RS_BASE ? "base" : "python"; }
const char *rs_kind_key(enum rs_kind k) {
  return k == RS_FRESH ? "fresh" : k == RS_RESTORED ? "restored" : "prestarted";
}

static int join(char *out, const char *a, const char *b) {
  int n = snprintf(out, PATH_MAX, "%s/%s", a, b);
  return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int make_workdir(struct harness *h) {
  snprintf(h->dir, sizeof h->dir, "/tmp/hearth-bench-restore.XXXXXX"); /* short: socket paths */
  if (mkdtemp(h->dir) == NULL)
    return -errno;
  int rc = join(h->uds, h->dir, "vm.vsock");
  if (rc == 0)
    rc = join(h->api, h->dir, "vm.api");
  if (rc == 0)
    rc = join(h->log, h->dir, "vm.log");
  if (rc == 0)
    rc = join(h->state, h->dir, "state");
  for (int i = 0; i < RS_IMAGES && rc == 0; i++) {
    rc = join(h->image[i], h->o->images, rs_image_key(i));
    if (rc == 0)
      rc = join(h->snap[i], h->dir, rs_image_key(i));
  }
  return rc;
}

/* A VMM started ahead and paused: once its control socket answers "stats"
 * (t[0] from spawn), the resume is sent and, without waiting for its
 * reply, CONNECT 52 to the HELLO (t[1] from the resume, t[3] from spawn). */
static int prestarted_hello(struct harness *h, struct rvm *v, double deadline, double t[4]) {
  static const char *const stats[] = {"{\"cmd\":\"stats\"}", NULL};
  static const char resume[] = "{\"cmd\":\"resume\"}\n";
  char err[160], hello[512];
  int fd = rvm_api_open(v, h->api, deadline);
  if (fd < 0)
    return fd;
  int rc = rvm_api(h->api, stats, deadline, err, sizeof err);
  t[0] = rvm_now_ms() - v->spawn_ms;
  double resume_ms = rvm_now_ms();
  if (rc == 0 && write(fd, resume, sizeof resume - 1) != (ssize_t)(sizeof resume - 1))
    rc = -EIO;
  if (rc == 0)
    rc = rvm_hello(h->uds, deadline, hello, sizeof hello);
  t[1] = rvm_now_ms() - resume_ms;
  t[3] = rvm_now_ms() - v->spawn_ms;
  close(fd);
  return rc;
}

/* Spawn -> "ready" (t[0]) -> HELLO (t[1]). */
static int spawned_hello(struct harness *h, struct rvm *v, double deadline, double t[4]) {
  char hello[512];
  int rc = rvm_wait_ready(v, deadline);
  t[0] = rvm_now_ms() - v->spawn_ms;
  if (rc == 0)
    rc = rvm_hello(h->uds, deadline, hello, sizeof hello);
  t[1] = t[3] = rvm_now_ms() - v->spawn_ms;
  return rc;
}

/* One VM from spawn to HELLO, then ended (teardown: t[2]). 0 with the
 * times, or a negative errno with why (the VM is ended either way). */
static int one_vm(struct harness *h, enum rs_kind k, char **argv, double t[4], char *why,
                  size_t cap) {
  unlink(h->uds);
  unlink(h->api);
  unlink(h->log);
  struct rvm v;
  int rc = rvm_spawn(&v, argv, h->log);
  if (rc < 0) {
    snprintf(why, cap, "cannot spawn: %s", strerror(-rc));
    return rc;
  }
  double deadline = v.spawn_ms + h->o->timeout_s * 1e3;
  rc =
      k == RS_PRESTARTED ? prestarted_hello(h, &v, deadline, t) : spawned_hello(h, &v, deadline, t);
  double kill_ms = rvm_now_ms();
  rvm_end(&v);
  t[2] = rvm_now_ms() - kill_ms;
  if (rc < 0) {
    char line[160];
    rvm_log_first_line(h->log, line, sizeof line);
    snprintf(why, cap, "%s: %s", rvm_why(rc), line);
  }
  return rc;
}

static void build_argv(struct harness *h, enum rs_image i, enum rs_kind k, char **argv,
                       char bufs[2][32]) {
  if (k == RS_FRESH) {
    struct rsnap_args a = {.vmm = h->o->vmm,
                           .image = h->image[i],
                           .keys = h->o->keys,
                           .state_dir = h->state,
                           .mem_mib = h->o->mem_mib};
    rsnap_fresh_argv(&a, h->uds, NULL, argv, bufs);
    return;
  }
  snprintf(bufs[0], 32, "%d", RVM_READY_FD);
  const char *words[] = {h->o->vmm,    "--restore", h->snap[i],  "--vsock-uds", h->uds,
                         "--ready-fd", bufs[0],     "--timeout", "3600",        NULL,
                         NULL,         NULL,        NULL};
  if (k == RS_PRESTARTED) {
    words[9] = "--start-paused";
    words[10] = "--api-sock";
    words[11] = h->api;
  }
  for (size_t n = 0; n < sizeof words / sizeof words[0]; n++)
    argv[n] = (char *)words[n];
}

static void timed_run(struct harness *h, enum rs_image i, enum rs_kind k, size_t round) {
  char *argv[24], bufs[2][32], why[RS_TEXT - 32];
  double t[4];
  build_argv(h, i, k, argv, bufs);
  struct rs_kind_result *kr = &h->r->img[i].kinds[k];
  if (one_vm(h, k, argv, t, why, sizeof why) < 0) {
    if (kr->failed++ == 0)
      snprintf(kr->failure, RS_TEXT, "run %zu: %s", round + 1, why);
    return;
  }
  kr->ok++;
  series_add(&kr->ready_ms, t[0]);
  series_add(&kr->hello_ms, t[1]);
  series_add(&kr->teardown_ms, t[2]);
  if (k == RS_PRESTARTED)
    series_add(&kr->spawn_hello_ms, t[3]);
}

static void warm_up(struct harness *h, enum rs_image i, enum rs_kind k) {
  char *argv[24], bufs[2][32], why[RS_TEXT - 32];
  double t[4];
  build_argv(h, i, k, argv, bufs);
  struct rs_kind_result *kr = &h->r->img[i].kinds[k];
  if (one_vm(h, k, argv, t, why, sizeof why) == 0)
    snprintf(kr->warmup, RS_TEXT, "ok, %.3f ms to HELLO", t[1]);
  else
    snprintf(kr->warmup, RS_TEXT, "FAILED: %s", why);
}

static void record_snapshot_size(struct rs_image_result *ir, const char *snap) {
  char path[PATH_MAX];
  struct stat st;
  if (join(path, snap, "memory.snap") == 0 && stat(path, &st) == 0) {
    ir->memory_file_bytes = st.st_size;
    ir->memory_disk_bytes = (long long)st.st_blocks * 512;
  }
  if (join(path, snap, "state.snap") == 0 && stat(path, &st) == 0)
    ir->state_file_bytes = st.st_size;
}

static void measure_image(struct harness *h, enum rs_image i) {
  struct rs_image_result *ir = &h->r->img[i];
  ir->measured = true;
  struct rsnap_args a = {.vmm = h->o->vmm,
                         .image = h->image[i],
                         .keys = h->o->keys,
                         .state_dir = h->state,
                         .work = h->dir,
                         .mem_mib = h->o->mem_mib,
                         .timeout_s = h->o->timeout_s};
  if (rsnap_take(&a, h->snap[i], &ir->snapshot_ms, ir->snapshot_error, RS_TEXT) < 0) {
    if (!ir->snapshot_error[0])
      snprintf(ir->snapshot_error, RS_TEXT, "the snapshot failed");
    return;
  }
  record_snapshot_size(ir, h->snap[i]);
  for (int k = 0; k < RS_KINDS && !bench_interrupted; k++)
    warm_up(h, i, k);
  bool progress = isatty(STDERR_FILENO);
  for (size_t round = 0; round < h->o->runs && !bench_interrupted; round++) {
    for (int k = 0; k < RS_KINDS && !bench_interrupted; k++)
      timed_run(h, i, k, round);
    if (progress)
      fprintf(stderr, "\r%s: round %zu/%zu", rs_image_key(i), round + 1, h->o->runs);
  }
  if (progress)
    fprintf(stderr, "\r%40s\r", "");
}

/* The process floor: hearth-vmm --version, spawn to reaped, N times. */
static int measure_floor(struct harness *h) {
  static struct cmd_result res;
  static char *const env[] = {NULL};
  char *argv[] = {(char *)h->o->vmm, "--version", NULL};
  struct cmd c = {
      .argv = argv, .envp = env, .timeout_s = h->o->timeout_s, .interrupt = &bench_interrupted};
  for (size_t n = 0; n <= h->o->runs && !bench_interrupted; n++) {
    int rc = run_cmd(&c, &res);
    if (rc < 0)
      return rc;
    if (n > 0 && res.reaped && WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0)
      series_add(&h->r->floor_ms, res.wall_ms); /* run 0 is the warm-up */
  }
  return 0;
}

static int measure(struct harness *h) {
  int rc = make_workdir(h);
  if (rc < 0) {
    fprintf(stderr, "bench/restore: cannot set up %s: %s\n", h->dir, strerror(-rc));
    return rc;
  }
  rc = measure_floor(h);
  for (int i = 0; i < RS_IMAGES && rc == 0 && !bench_interrupted; i++)
    if (!h->o->skip[i])
      measure_image(h, i);
  if (rc < 0)
    fprintf(stderr, "bench/restore: cannot run the commands: %s\n", strerror(-rc));
  h->r->interrupted = bench_interrupted;
  if (bench_remove_tree(h->dir) != 0)
    fprintf(stderr, "bench/restore: cannot remove %s\n", h->dir);
  return rc;
}

static int alloc_series(struct rs_result *r, size_t runs) {
  int rc = series_init(&r->floor_ms, runs);
  for (int i = 0; i < RS_IMAGES; i++)
    for (int k = 0; k < RS_KINDS; k++) {
      struct rs_kind_result *kr = &r->img[i].kinds[k];
      rc |= series_init(&kr->ready_ms, runs) | series_init(&kr->hello_ms, runs) |
            series_init(&kr->teardown_ms, runs) | series_init(&kr->spawn_hello_ms, runs);
    }
  return rc ? -ENOMEM : 0;
}

static void free_series(struct rs_result *r) {
  series_free(&r->floor_ms);
  for (int i = 0; i < RS_IMAGES; i++)
    for (int k = 0; k < RS_KINDS; k++) {
      series_free(&r->img[i].kinds[k].ready_ms);
      series_free(&r->img[i].kinds[k].hello_ms);
      series_free(&r->img[i].kinds[k].teardown_ms);
      series_free(&r->img[i].kinds[k].spawn_hello_ms);
    }
}

static bool any_failed(const struct rs_options *o, const struct rs_result *r) {
  for (int i = 0; i < RS_IMAGES; i++) {
    if (o->skip[i])
      continue;
    if (r->img[i].snapshot_error[0])
      return true;
    for (int k = 0; k < RS_KINDS; k++)
      if (r->img[i].kinds[k].failed > 0 || r->img[i].kinds[k].ok == 0)
        return true;
  }
  return r->interrupted;
}

int main(int argc, char **argv) {
  struct rs_options o;
  char err[256];
  int usage_status = bench_cmdline_exit(rs_opts_parse(argc, argv, &o, err, sizeof err),
                                        "bench/restore", err, rs_opts_usage);
  if (usage_status >= 0)
    return usage_status;
  bench_catch_signals();
  struct harness *h = calloc(1, sizeof *h);
  struct rs_result *r = calloc(1, sizeof *r);
  int rc = h && r && alloc_series(r, o.runs) == 0 ? 0 : -ENOMEM;
  if (rc == 0) {
    h->o = &o;
    h->r = r;
    machine_describe(&r->machine, NULL);
    machine_loadavg(r->loadavg);
    rc = measure(h);
  }
  if (rc == 0) {
    rs_report_text(stdout, &o, r);
    if (o.json && (rc = rs_report_json(o.json, &o, r)) < 0)
      fprintf(stderr, "bench/restore: cannot write %s: %s\n", o.json, strerror(-rc));
  }
  int status = rc < 0 ? EXIT_HARNESS : any_failed(&o, r) ? EXIT_RUNS_FAILED : EXIT_ALL_OK;
  if (r)
    free_series(r);
  free(r);
  free(h);
  return status;
}
