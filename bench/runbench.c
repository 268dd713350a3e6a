/* runbench.c - bench/run: `hearth run` end to end for an echo handler,
 * native and python, against the same handler as a plain local process
 * (native: the handler itself with the event on stdin; python: python3
 * running a driver that imports handler.py and calls handle once). Kinds
 * alternate, one untimed warm-up of each, then N timed rounds; hearth's own
 * phases come from its --timings file. Not a test: a figure. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_main.h"
#include "runbench.h"
#include "runbench_opts.h"
#include "runbench_report.h"
#include "runcmd.h"

#define ARGV_MAX 24
#define TIMINGS_MAX 4096

/* What the plain python run executes: import the handler, call handle once
 * with the decoded JSON event, print the answer as the shim encodes it
 * (print() inside handle goes to stderr, as the shim sends it to the logs). */
static const char DRIVER[] =
    "import importlib.util, json, sys\n"
    "spec = importlib.util.spec_from_file_location('handler', sys.argv[1])\n"
    "module = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(module)\n"
    "class Context:\n"
    "    request_id = 'local'\n"
    "    function_name = 'echo'\n"
    "    memory_limit_in_mb = None\n"
    "    def get_remaining_time_in_millis(self):\n"
    "        return None\n"
    "data = sys.stdin.buffer.read()\n"
    "out, sys.stdout = sys.stdout, sys.stderr\n"
    "value = module.handle(json.loads(data) if data else None, Context())\n"
    "sys.stdout = out\n"
    "if isinstance(value, (dict, list)):\n"
    "    value = json.dumps(value, ensure_ascii=False, separators=(',', ':'))\n"
    "if isinstance(value, str):\n"
    "    value = value.encode()\n"
    "sys.stdout.buffer.write(value or b'')\n";

/* The measured commands' environment: none, so that nothing in the caller's
 * (HEARTH_VMM, PYTHON*) changes what is measured. */
static char *const empty_env[] = {NULL};

struct harness {
  const struct rb_options *o;
  struct rb_result *r;
  char dir[PATH_MAX]; /* the work directory, removed at the end */
  char event[PATH_MAX], driver[PATH_MAX], timings[PATH_MAX], state[PATH_MAX];
  char handler[PATH_MAX], handler_py[PATH_MAX], image[RB_WORKLOADS][PATH_MAX];
  char *argv[RB_WORKLOADS][RB_KINDS][ARGV_MAX];
  struct cmd_result res; /* the last run's */
};

const char *rb_workload_name(enum rb_workload w) {
  return w == RB_NATIVE ? "native echo (examples/native-echo, musl static)"
                        : "python echo (examples/python-echo)";
}
const char *rb_workload_key(enum rb_workload w) { return w == RB_NATIVE ? "native" : "python"; }

const char *rb_phase_name(enum rb_phase p) {
  static const char *const names[PH_COUNT] = {
      "VM start (spawn -> ready)", "connect (ready -> HELLO)", "code load (LOAD -> LOADED)",
      "invoke (INVOKE -> RESULT)", "teardown (-> VM removed)"};
  return names[p];
}

const char *rb_phase_key(enum rb_phase p) {
  static const char *const keys[PH_COUNT] = {"vm_start_ms", "connect_ms", "code_load_ms",
                                             "invoke_ms", "teardown_ms"};
  return keys[p];
}

/* ---- the work directory ------------------------------------------------ */

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return -errno;
  size_t len = strlen(text);
  int rc = write(fd, text, len) == (ssize_t)len ? 0 : -EIO;
  close(fd);
  return rc;
}

static int join(char *out, const char *a, const char *b) {
  int n = snprintf(out, PATH_MAX, "%s/%s", a, b);
  return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int make_workdir(struct harness *h) {
  const char *tmp = getenv("TMPDIR");
  snprintf(h->dir, sizeof h->dir, "%s/hearth-bench-run.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(h->dir) == NULL)
    return -errno;
  const struct rb_options *o = h->o;
  int rc = join(h->event, h->dir, "event.json");
  if (rc == 0)
    rc = join(h->driver, h->dir, "driver.py");
  if (rc == 0)
    rc = join(h->timings, h->dir, "timings.json");
  if (rc == 0)
    rc = join(h->state, h->dir, "state"); /* short: the VM's socket path must fit */
  if (rc == 0)
    rc = join(h->handler, o->native_code, "handler");
  if (rc == 0)
    rc = join(h->handler_py, o->python_code, "handler.py");
  if (rc == 0)
    rc = join(h->image[RB_NATIVE], o->images, "base");
  if (rc == 0)
    rc = join(h->image[RB_PYTHON], o->images, "python");
  if (rc == 0)
    rc = write_file(h->event, RB_EVENT);
  return rc == 0 ? write_file(h->driver, DRIVER) : rc;
}

/* ---- commands ----------------------------------------------------------- */

static void set_argv(char **argv, const char *const *words) {
  size_t n = 0;
  for (; words[n] && n + 1 < ARGV_MAX; n++)
    argv[n] = (char *)words[n];
  argv[n] = NULL;
}

static void build_commands(struct harness *h) {
  const struct rb_options *o = h->o;
  set_argv(h->argv[RB_NATIVE][RB_PLAIN], (const char *const[]){h->handler, NULL});
  set_argv(h->argv[RB_PYTHON][RB_PLAIN],
           (const char *const[]){o->python, "-I", h->driver, h->handler_py, NULL});
  const char *code[RB_WORKLOADS] = {o->native_code, o->python_code};
  const char *pages[RB_WORKLOADS] = {"4k", "2m"};
  for (int w = 0; w < RB_WORKLOADS; w++)
    set_argv(h->argv[w][RB_HEARTH],
             (const char *const[]){o->hearth, "run", "--image", h->image[w], "--trust", o->keys,
                                   "--code", code[w], "--state-dir", h->state, "--timings",
                                   h->timings, "--guest-pages", pages[w], NULL});
}

/* sync, then drop the page cache, dentries and inodes. 0 or -errno. */
static int drop_caches(void) {
  sync();
  int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int rc = write(fd, "3\n", 2) == 2 ? 0 : -errno;
  close(fd);
  return rc;
}

static int run_once(struct harness *h, enum rb_workload w, enum rb_kind k) {
  if (k == RB_HEARTH && unlink(h->timings) < 0 && errno != ENOENT)
    return -errno; /* a stale file must never be read as this run's */
  if (h->o->cold) {
    int rc = drop_caches();
    if (rc < 0)
      return rc;
  }
  struct cmd c = {.argv = h->argv[w][k],
                  .envp = empty_env,
                  .stdin_path = h->event,
                  .timeout_s = h->o->timeout_s,
                  .interrupt = &bench_interrupted};
  return run_cmd(&c, &h->res);
}

/* Did the run succeed? If not, why (with the first line of its stderr). */
static bool verdict(const struct cmd_result *r, char *why, size_t cap) {
  const struct capture *out = &r->out, *err = &r->err;
  const char *nl = memchr(err->buf, '\n', err->len);
  int elen = (int)(nl ? (size_t)(nl - err->buf) : err->len);
  if (r->spawn_errno)
    snprintf(why, cap, "cannot spawn: %s", strerror(r->spawn_errno));
  else if (r->timed_out)
    snprintf(why, cap, "timed out");
  else if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0)
    snprintf(why, cap, "status %#x: %.*s", r->status, elen > 200 ? 200 : elen, err->buf);
  else if (out->len != strlen(RB_EVENT) || memcmp(out->buf, RB_EVENT, out->len) != 0)
    snprintf(why, cap, "printed '%.*s', not the event", (int)(out->len > 100 ? 100 : out->len),
             out->buf);
  else
    return true;
  return false;
}

/* The phases of the last hearth run, from its --timings file. */
static void record_phases(struct harness *h, struct rb_workload_result *wr) {
  char text[TIMINGS_MAX];
  FILE *f = fopen(h->timings, "re");
  size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
  if (f)
    fclose(f);
  text[n] = '\0';
  cJSON *j = n ? cJSON_Parse(text) : NULL;
  if (j == NULL) {
    wr->timings_missing++;
    return;
  }
  for (int p = 0; p < PH_COUNT; p++) {
    cJSON *v = cJSON_GetObjectItem(j, rb_phase_key(p));
    if (cJSON_IsNumber(v))
      series_add(&wr->phase_ms[p], v->valuedouble);
  }
  cJSON_Delete(j);
}

static int timed_run(struct harness *h, enum rb_workload w, enum rb_kind k, size_t round) {
  int rc = run_once(h, w, k);
  if (rc < 0 || h->res.interrupted)
    return rc;
  struct rb_workload_result *wr = &h->r->w[w];
  struct rb_kind_result *kr = &wr->kinds[k];
  char why[RB_TEXT - 32];
  if (!verdict(&h->res, why, sizeof why)) {
    if (kr->failed < RB_FAILURES_KEPT)
      snprintf(kr->failures[kr->failed], RB_TEXT, "run %zu: %s", round + 1, why);
    kr->failed++;
    return 0;
  }
  kr->ok++;
  series_add(&kr->wall_ms, h->res.wall_ms);
  if (k == RB_HEARTH)
    record_phases(h, wr);
  return 0;
}

static int measure_workload(struct harness *h, enum rb_workload w) {
  struct rb_workload_result *wr = &h->r->w[w];
  wr->started = true;
  for (int k = 0; k < RB_KINDS && !bench_interrupted; k++) { /* warm-up: page cache, image cache */
    int rc = run_once(h, w, k);
    if (rc < 0)
      return rc;
    char why[RB_TEXT - 16];
    if (verdict(&h->res, why, sizeof why))
      snprintf(wr->kinds[k].warmup, RB_TEXT, "ok, %.3f ms", h->res.wall_ms);
    else
      snprintf(wr->kinds[k].warmup, RB_TEXT, "FAILED: %s", why);
  }
  bool progress = isatty(STDERR_FILENO);
  for (size_t round = 0; round < h->o->runs && !bench_interrupted; round++) {
    for (int k = 0; k < RB_KINDS && !bench_interrupted; k++) {
      int rc = timed_run(h, w, k, round);
      if (rc < 0)
        return rc;
    }
    if (progress)
      fprintf(stderr, "\r%s: round %zu/%zu", rb_workload_key(w), round + 1, h->o->runs);
  }
  if (progress)
    fprintf(stderr, "\r%40s\r", "");
  return 0;
}

static int alloc_series(struct rb_result *r, size_t runs) {
  for (int w = 0; w < RB_WORKLOADS; w++) {
    for (int k = 0; k < RB_KINDS; k++)
      if (series_init(&r->w[w].kinds[k].wall_ms, runs) < 0)
        return -ENOMEM;
    for (int p = 0; p < PH_COUNT; p++)
      if (series_init(&r->w[w].phase_ms[p], runs) < 0)
        return -ENOMEM;
  }
  return 0;
}

static void free_series(struct rb_result *r) {
  for (int w = 0; w < RB_WORKLOADS; w++) {
    for (int k = 0; k < RB_KINDS; k++)
      series_free(&r->w[w].kinds[k].wall_ms);
    for (int p = 0; p < PH_COUNT; p++)
      series_free(&r->w[w].phase_ms[p]);
  }
}

static int measure(struct harness *h) {
  int rc = make_workdir(h);
  if (rc < 0) {
    fprintf(stderr, "bench/run: cannot set up %s: %s\n", h->dir, strerror(-rc));
    return rc;
  }
  build_commands(h);
  if (h->o->cold && (rc = drop_caches()) < 0)
    fprintf(stderr, "bench/run: --cold: cannot drop the page cache: %s (run as root)\n",
            strerror(-rc));
  for (int w = 0; w < RB_WORKLOADS && rc == 0 && !bench_interrupted; w++)
    if (!h->o->skip[w])
      rc = measure_workload(h, w);
  if (rc < 0)
    fprintf(stderr, "bench/run: cannot run the commands: %s\n", strerror(-rc));
  h->r->interrupted = bench_interrupted;
  if (bench_remove_tree(h->dir) != 0)
    fprintf(stderr, "bench/run: cannot remove %s\n", h->dir);
  return rc;
}

static bool any_failed(const struct rb_options *o, const struct rb_result *r) {
  for (int w = 0; w < RB_WORKLOADS; w++)
    for (int k = 0; k < RB_KINDS && !o->skip[w]; k++)
      if (r->w[w].kinds[k].failed > 0 || r->w[w].kinds[k].ok == 0)
        return true;
  return r->interrupted;
}

int main(int argc, char **argv) {
  struct rb_options o;
  char err[256];
  int usage_status = bench_cmdline_exit(rb_opts_parse(argc, argv, &o, err, sizeof err), "bench/run",
                                        err, rb_opts_usage);
  if (usage_status >= 0)
    return usage_status;
  bench_catch_signals();
  struct harness *h = calloc(1, sizeof *h);
  struct rb_result *r = calloc(1, sizeof *r);
  int rc = h && r && alloc_series(r, o.runs) == 0 ? 0 : -ENOMEM;
  if (rc == 0) {
    h->o = &o;
    h->r = r;
    machine_describe(&r->machine, NULL);
    rc = measure(h);
  }
  if (rc == 0) {
    rb_report_text(stdout, &o, r);
    if (o.json && (rc = rb_report_json(o.json, &o, r)) < 0)
      fprintf(stderr, "bench/run: cannot write %s: %s\n", o.json, strerror(-rc));
  }
  int status = rc < 0 ? EXIT_HARNESS : any_failed(&o, r) ? EXIT_RUNS_FAILED : EXIT_ALL_OK;
  if (r)
    free_series(r);
  free(r);
  free(h);
  return status;
}
