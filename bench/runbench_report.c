/* runbench_report.c - bench/run's text and JSON reports. */
#include "runbench_report.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>

static struct summary summarize(const struct series *s) {
  struct summary sum = {0};
  series_summarize(s, &sum);
  return sum;
}

static void print_header(FILE *out, const struct rb_options *o, const struct rb_result *r) {
  const struct machine *m = &r->machine;
  fprintf(out,
          "bench/run: an echo handler under `hearth run` (a microVM per run, restored\n"
          "  from the function snapshot the warm-up made) against the\n"
          "  same handler as a plain local process, alternating (plain, hearth, plain, ...);\n"
          "  %zu timed runs of each kind per workload after one untimed warm-up of each\n",
          o->runs);
  fprintf(out, "  date %s; %ld CPUs; Linux %s; CPU %s; KVM %s\n", m->date, m->nproc, m->kernel,
          m->cpu, m->kvm);
  fprintf(out,
          "  event: %s on stdin (a file); each run must exit 0 and print it back exactly\n"
          "  plain: native, the static handler itself; python, %s -I running a driver that\n"
          "    imports handler.py and calls handle(event, context) once\n"
          "  hearth: hearth run --image base|python --code DIR --timings FILE (native with\n"
          "    --guest-pages 4k, python 2m); the image cache in its state directory stays\n"
          "    warm after the warm-up, as the plain runs' programs stay installed\n"
          "  caches: %s\n"
          "  method: every run spawned directly (posix_spawn, no shell); wall time from the\n"
          "    spawn to the reap (CLOCK_MONOTONIC); failed runs reported and not timed\n",
          RB_EVENT, o->python,
          o->cold ? "cold: the page cache dropped (sync; drop_caches=3) before every run of "
                    "both kinds"
                  : "warm (page cache warm after the warm-up)");
}

static void print_kinds(FILE *out, const struct rb_options *o, const struct rb_workload_result *w) {
  static const char *const names[RB_KINDS] = {"plain", "hearth"};
  fprintf(out, "%-8s %9s %11s %10s %10s   %s\n", "kind", "ok", "median ms", "min ms", "max ms",
          "warm-up");
  for (int k = 0; k < RB_KINDS; k++) {
    const struct rb_kind_result *kr = &w->kinds[k];
    struct summary s = summarize(&kr->wall_ms);
    char ok[32];
    snprintf(ok, sizeof ok, "%zu/%zu", kr->ok, kr->ok + kr->failed);
    fprintf(out, "%-8s %9s %11.3f %10.3f %10.3f   %s\n", names[k], ok, s.median, s.min, s.max,
            kr->warmup);
    for (size_t i = 0; i < kr->failed && i < RB_FAILURES_KEPT; i++)
      fprintf(out, "         failed %s\n", kr->failures[i]);
  }
}

static void print_phases(FILE *out, const struct rb_workload_result *w) {
  struct summary wall = summarize(&w->kinds[RB_HEARTH].wall_ms);
  double sum = 0;
  fprintf(out, "hearth's phases (--timings)       median ms     min ms     max ms\n");
  for (int p = 0; p < PH_COUNT; p++) {
    struct summary s = summarize(&w->phase_ms[p]);
    sum += s.median;
    fprintf(out, "  %-30s %10.3f %10.3f %10.3f\n", rb_phase_name(p), s.median, s.min, s.max);
  }
  fprintf(out,
          "  %-30s %10.3f   (median wall - the phases' medians: process start-up,\n"
          "  %-30s              code opened, event read, exit)\n",
          "rest of hearth run", wall.median - sum, "");
  if (w->timings_missing)
    fprintf(out, "  (%zu successful runs left no --timings file)\n", w->timings_missing);
}

void rb_report_text(FILE *out, const struct rb_options *o, const struct rb_result *r) {
  print_header(out, o, r);
  for (int wl = 0; wl < RB_WORKLOADS; wl++) {
    const struct rb_workload_result *w = &r->w[wl];
    if (o->skip[wl] || !w->started)
      continue;
    fprintf(out, "\n%s\n", rb_workload_name(wl));
    print_kinds(out, o, w);
    struct summary plain = summarize(&w->kinds[RB_PLAIN].wall_ms);
    struct summary hearth = summarize(&w->kinds[RB_HEARTH].wall_ms);
    if (plain.n && hearth.n)
      fprintf(out, "hearth / plain (medians): %.2f\n", hearth.median / plain.median);
    print_phases(out, w);
  }
  if (r->interrupted)
    fprintf(out, "\n(interrupted: the figures cover the runs done)\n");
}

static cJSON *summary_json(const struct series *s) {
  struct summary sum = summarize(s);
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "n", (double)sum.n);
  cJSON_AddNumberToObject(j, "median_ms", sum.median);
  cJSON_AddNumberToObject(j, "min_ms", sum.min);
  cJSON_AddNumberToObject(j, "max_ms", sum.max);
  return j;
}

static cJSON *workload_json(const struct rb_workload_result *w) {
  static const char *const keys[RB_KINDS] = {"plain", "hearth"};
  cJSON *j = cJSON_CreateObject();
  for (int k = 0; k < RB_KINDS; k++) {
    cJSON *kind = summary_json(&w->kinds[k].wall_ms);
    cJSON_AddNumberToObject(kind, "ok", (double)w->kinds[k].ok);
    cJSON_AddNumberToObject(kind, "failed", (double)w->kinds[k].failed);
    cJSON_AddItemToObject(j, keys[k], kind);
  }
  struct summary plain = summarize(&w->kinds[RB_PLAIN].wall_ms);
  struct summary hearth = summarize(&w->kinds[RB_HEARTH].wall_ms);
  if (plain.n && hearth.n)
    cJSON_AddNumberToObject(j, "hearth_over_plain", hearth.median / plain.median);
  cJSON *phases = cJSON_AddObjectToObject(j, "phases");
  for (int p = 0; p < PH_COUNT; p++)
    cJSON_AddItemToObject(phases, rb_phase_key(p), summary_json(&w->phase_ms[p]));
  return j;
}

int rb_report_json(const char *path, const struct rb_options *o, const struct rb_result *r) {
  cJSON *root = cJSON_CreateObject();
  cJSON *m = cJSON_AddObjectToObject(root, "machine");
  cJSON_AddStringToObject(m, "date", r->machine.date);
  cJSON_AddNumberToObject(m, "nproc", (double)r->machine.nproc);
  cJSON_AddStringToObject(m, "kernel", r->machine.kernel);
  cJSON_AddStringToObject(m, "cpu", r->machine.cpu);
  cJSON_AddStringToObject(m, "kvm", r->machine.kvm);
  cJSON_AddNumberToObject(root, "runs", (double)o->runs);
  cJSON_AddBoolToObject(root, "cold", o->cold);
  cJSON_AddBoolToObject(root, "interrupted", r->interrupted);
  cJSON *ws = cJSON_AddObjectToObject(root, "workloads");
  for (int w = 0; w < RB_WORKLOADS; w++)
    if (!o->skip[w] && r->w[w].started)
      cJSON_AddItemToObject(ws, rb_workload_key(w), workload_json(&r->w[w]));
  char *text = cJSON_Print(root);
  cJSON_Delete(root);
  if (text == NULL)
    return -ENOMEM;
  FILE *f = fopen(path, "we");
  int rc = f ? 0 : -errno;
  if (f) {
    fputs(text, f);
    fputc('\n', f);
    if (fclose(f) != 0)
      rc = -errno;
  }
  cJSON_free(text);
  return rc;
}
