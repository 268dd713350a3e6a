/* report.c - the human-readable bench/start report. */
#include "report.h"

static const char *goal_verdict(enum goal_state s) {
  return s == GOAL_MET ? "met" : s == GOAL_MISSED ? "NOT MET" : "not measured";
}

static void print_header(FILE *out, const struct bench_options *o, const struct bench_result *r) {
  const struct machine *m = &r->machine;
  fprintf(out, "bench/start: static hello %s, %zu timed runs of each kind, alternating\n", o->hello,
          o->runs);
  fprintf(out, "  date %s; %ld CPUs; Linux %s; CPU %s; KVM %s\n", m->date, m->nproc, m->kernel,
          m->cpu, m->kvm);
  fprintf(out, "  gVisor: %s, runsc --platform=%s --network=none --ignore-cgroups do\n", m->runsc,
          o->platform);
  fprintf(out, "  method: each run spawned directly (posix_spawn, no shell), stdin/stdout/stderr\n"
               "  all pipes; wall time from spawn to reaped (CLOCK_MONOTONIC); exit status and\n"
               "  stdout checked, a failed run is reported and not timed; one untimed warm-up\n"
               "  of each kind before the loop, then every timed run is counted.\n\n");
}

static void print_times(FILE *out, const struct bench_options *o, const struct bench_result *r,
                        const struct figures *f) {
  fprintf(out, "%-8s %11s %11s %10s %10s %9s   %s\n", "kind", "ok", "median ms", "min ms", "max ms",
          "RSS KiB", "warm-up");
  for (int k = 0; k < KIND_COUNT; k++) {
    const struct kind_result *kr = &r->kinds[k];
    const struct summary *s = &f->wall_ms[k];
    if (o->skip[k]) {
      fprintf(out, "%-8s   skipped\n", kind_name(k));
      continue;
    }
    char ok[32];
    snprintf(ok, sizeof ok, "%zu/%zu", kr->ok, kr->ok + kr->failed);
    fprintf(out, "%-8s %11s", kind_name(k), ok);
    if (s->n)
      fprintf(out, " %11.3f %10.3f %10.3f %9.0f", s->median, s->min, s->max,
              f->maxrss_kib[k].median);
    else
      fprintf(out, " %11s %10s %10s %9s", "-", "-", "-", "-");
    fprintf(out, "   %s\n", kr->warmup);
  }
  fprintf(out,
          "RSS KiB: median wait4 ru_maxrss, the largest single process (for gVisor: runsc\n"
          "and the sandbox and gofer it reaped); never below bench/start's own peak RSS,\n"
          "%ld KiB, which Linux charges at exec to whatever it spawns.\n",
          r->self_hwm_kib);
}

static void print_failures(FILE *out, const struct bench_result *r) {
  for (int k = 0; k < KIND_COUNT; k++) {
    const struct kind_result *kr = &r->kinds[k];
    if (kr->failed == 0)
      continue;
    fprintf(out, "\n%s: %zu failed run(s); the first:\n", kind_name(k), kr->failed);
    for (size_t i = 0; i < FAILURES_KEPT && i < kr->failed; i++)
      fprintf(out, "  - %s\n", kr->failures[i]);
  }
}

static void print_summary_line(FILE *out, const char *what, const struct summary *s) {
  fprintf(out, "  %-44s median %.0f, min %.0f, max %.0f\n", what, s->median, s->min, s->max);
}

static void print_hearth(FILE *out, const struct bench_result *r, const struct figures *f) {
  const struct hearth_result *h = &r->hearth;
  fprintf(out,
          "\nhearth-vmm per run (from --stats, %zu runs; %zu without a readable stats file):\n",
          f->exits.n, h->stats_missing);
  if (f->exits.n) {
    print_summary_line(out, "guest -> VMM exits", &f->exits);
    print_summary_line(out, "system calls", &f->syscalls);
    print_summary_line(out, "of which through the LSTAR stub", &f->lstar_syscalls);
  }
  if (f->vmm_rss_kib.n)
    print_summary_line(out, "VMM peak RSS KiB (wait4 ru_maxrss)", &f->vmm_rss_kib);
  if (f->vmm_rss_kib.n && f->vmm_rss_kib.min <= 1.1 * (double)r->self_hwm_kib)
    fprintf(out,
            "  (at bench/start's own peak RSS, %ld KiB, charged to it at exec: the VMM's\n"
            "   own peak may be lower)\n",
            r->self_hwm_kib);
  if (f->rss_excludes_guest) {
    print_summary_line(out, "guest memory KiB (guest_resident_kib)", &f->guest_kib);
    print_summary_line(out, "VMM peak RSS KiB excluding guest memory", &f->excl_kib);
  } else if (f->vmm_rss_kib.n) {
    fprintf(out, "  (stats give no guest_resident_kib: the RSS goal is judged on ru_maxrss as\n"
                 "   is, guest memory included)\n");
  }
}

static void print_goals(FILE *out, const struct figures *f) {
  fprintf(out, "\n%-44s %12s %10s   %s\n", "goal", "measured", "goal", "verdict");
  for (int i = 0; i < GOAL_COUNT; i++) {
    const struct goal *g = &f->goals[i];
    char measured[32] = "-";
    if (g->state != GOAL_NOT_MEASURED)
      snprintf(measured, sizeof measured, i == GOAL_VMM_RSS ? "%.0f" : "%.4f", g->measured);
    fprintf(out, "%-44s %12s %3s %6g   %s\n", g->what, measured, g->strict ? "<" : "<=", g->limit,
            goal_verdict(g->state));
  }
}

void report_text(FILE *out, const struct bench_options *o, const struct bench_result *r,
                 const struct figures *f) {
  print_header(out, o, r);
  if (r->interrupted)
    fprintf(out, "INTERRUPTED: the figures below cover only the runs done before the signal\n\n");
  print_times(out, o, r, f);
  print_failures(out, r);
  if (!o->skip[KIND_HEARTH])
    print_hearth(out, r, f);
  print_goals(out, f);
}
