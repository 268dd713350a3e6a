/* report.c - the human-readable bench/start report. */
#include "report.h"

#include "workload.h"

static const char *goal_verdict(enum goal_state s) {
  return s == GOAL_MET ? "met" : s == GOAL_MISSED ? "NOT MET" : "not measured";
}

static void print_runs(FILE *out, const struct bench_options *o) {
  fprintf(out, "  timed runs of each kind:");
  for (int w = 0; w < WORKLOAD_COUNT; w++)
    if (!o->skip_workload[w])
      fprintf(out, " %s %zu;", workload_spec(w)->key, o->runs[w]);
  fprintf(out, " (defaults %d for the hello, %d for python; -n N sets one count for all)\n",
          RUNS_DEFAULT_HELLO, RUNS_DEFAULT_PYTHON);
}

static void print_sandbox(FILE *out, const struct bench_options *o, const struct bench_result *r) {
  if (o->skip[KIND_GVISOR_EXEC])
    fprintf(out, "  gVisor exec: skipped\n");
  else if (r->sandbox.started)
    fprintf(out,
            "  gVisor exec: `runsc exec` into one sandbox (host / read-only, its process a sleep)\n"
            "    started once with `runsc run -detach` in %.1f ms and deleted at the end\n",
            r->sandbox.start_ms);
  else
    fprintf(out, "  gVisor exec: the sandbox did not start: %s\n", r->sandbox.why);
}

static void print_header(FILE *out, const struct bench_options *o, const struct bench_result *r) {
  const struct machine *m = &r->machine;
  fprintf(out, "bench/start: workloads one after the other; within each, the kinds alternate\n"
               "  (plain, hearth, gVisor do, gVisor exec, plain, ...)\n");
  print_runs(out, o);
  fprintf(out, "  date %s; %ld CPUs; Linux %s; CPU %s; KVM %s\n", m->date, m->nproc, m->kernel,
          m->cpu, m->kvm);
  fprintf(out,
          "  gVisor: %s, runsc --platform=%s --network=none --ignore-cgroups;\n"
          "    do: a fresh sandbox per run (host / read-only under a tmpfs overlay)\n",
          m->runsc, o->platform);
  print_sandbox(out, o, r);
  fprintf(out,
          "  hearth: the hello with --root DIR holding only /hello; python with --root /\n"
          "    (%s, its libraries and standard library read from the host, read-only)\n",
          o->python);
  fprintf(out, "  method: each run spawned directly (posix_spawn, no shell), stdin/stdout/stderr\n"
               "  all pipes; wall time from spawn to reaped (CLOCK_MONOTONIC); exit status and\n"
               "  stdout checked, a failed run is reported and not timed; one untimed warm-up\n"
               "  of each kind before the loop, then every timed run is counted.\n");
}

static void print_times(FILE *out, const struct bench_options *o, const struct workload_result *wr,
                        const struct workload_figures *wf) {
  fprintf(out, "%-12s %9s %11s %10s %10s %9s   %s\n", "kind", "ok", "median ms", "min ms", "max ms",
          "RSS KiB", "warm-up");
  for (int k = 0; k < KIND_COUNT; k++) {
    const struct kind_result *kr = &wr->kinds[k];
    const struct summary *s = &wf->wall_ms[k];
    if (o->skip[k]) {
      fprintf(out, "%-12s   skipped\n", kind_name(k));
      continue;
    }
    char ok[32];
    snprintf(ok, sizeof ok, "%zu/%zu", kr->ok, kr->ok + kr->failed);
    fprintf(out, "%-12s %9s", kind_name(k), ok);
    if (s->n)
      fprintf(out, " %11.3f %10.3f %10.3f %9.0f", s->median, s->min, s->max,
              wf->maxrss_kib[k].median);
    else
      fprintf(out, " %11s %10s %10s %9s", "-", "-", "-", "-");
    fprintf(out, "   %s\n", kr->warmup);
  }
}

static void print_ratios(FILE *out, const struct workload_figures *wf) {
  fprintf(out, "ratios of medians:");
  int shown = 0;
  for (int k = 0; k < KIND_COUNT; k++)
    if (k != KIND_HEARTH && wf->has_ratio[k])
      shown += fprintf(out, "  hearth/%s %.3f", kind_name(k), wf->ratio[k]) > 0;
  fprintf(out, "%s\n", shown ? "" : " none (a kind was skipped or had no successful run)");
}

static void print_failures(FILE *out, const struct workload_result *wr) {
  for (int k = 0; k < KIND_COUNT; k++) {
    const struct kind_result *kr = &wr->kinds[k];
    if (kr->failed == 0)
      continue;
    fprintf(out, "%s: %zu failed run(s); the first:\n", kind_name(k), kr->failed);
    for (size_t i = 0; i < FAILURES_KEPT && i < kr->failed; i++)
      fprintf(out, "  - %s\n", kr->failures[i]);
  }
}

static void print_summary_line(FILE *out, const char *what, const struct summary *s) {
  fprintf(out, "  %-54s median %.0f, min %.0f, max %.0f\n", what, s->median, s->min, s->max);
}

/* guest_resident_kib / 4: each resident 4 KiB page of guest memory was
 * touched for the first time once (by the guest or by the VMM for it). */
static void print_page_touches(FILE *out, const struct summary *guest_kib) {
  struct summary pages = {guest_kib->n, guest_kib->median / 4, guest_kib->min / 4,
                          guest_kib->max / 4};
  print_summary_line(out, "first page touches (~ guest_resident_kib / 4)", &pages);
}

static void print_memory(FILE *out, const struct bench_result *r,
                         const struct workload_figures *wf) {
  if (wf->pages_populated.n)
    print_summary_line(out, "guest pages mapped by the VMM (guest_pages_populated)",
                       &wf->pages_populated);
  if (wf->guest_kib.n) {
    print_summary_line(out, "guest memory resident KiB (guest_resident_kib)", &wf->guest_kib);
    print_page_touches(out, &wf->guest_kib);
  }
  if (wf->vmm_rss_kib.n)
    print_summary_line(out, "VMM peak RSS KiB (wait4 ru_maxrss)", &wf->vmm_rss_kib);
  if (wf->vmm_rss_kib.n && wf->vmm_rss_kib.min <= 1.1 * (double)r->self_hwm_kib)
    fprintf(out,
            "  (at bench/start's own peak RSS, %ld KiB, charged to it at exec: the VMM's\n"
            "   own peak may be lower)\n",
            r->self_hwm_kib);
  if (wf->rss_excludes_guest)
    print_summary_line(out, "VMM peak RSS KiB excluding guest memory", &wf->excl_kib);
  else if (wf->vmm_rss_kib.n)
    fprintf(out, "  (stats give no guest_resident_kib: the RSS goal is judged on ru_maxrss as\n"
                 "   is, guest memory included)\n");
}

static void print_hearth(FILE *out, const struct bench_result *r, const struct workload_result *wr,
                         const struct workload_figures *wf) {
  fprintf(out, "hearth-vmm per run (from --stats, %zu runs; %zu without a readable stats file):\n",
          wf->exits.n, wr->hearth.stats_missing);
  if (wf->exits.n) {
    print_summary_line(out, "guest -> VMM exits", &wf->exits);
    print_summary_line(out, "system calls", &wf->syscalls);
    print_summary_line(out, "of which through the LSTAR stub", &wf->lstar_syscalls);
  }
  print_memory(out, r, wf);
}

static void print_workload(FILE *out, const struct bench_options *o, const struct bench_result *r,
                           const struct figures *f, enum workload w) {
  const struct workload_spec *spec = workload_spec(w);
  const struct workload_result *wr = &r->workloads[w];
  const struct workload_figures *wf = &f->workloads[w];
  fprintf(out, "\n== %s: %s (%zu timed runs of each kind) ==\n", spec->key, spec->title,
          o->runs[w]);
  if (!spec->python)
    fprintf(out, "   %s\n", o->hello);
  fprintf(out, "   hearth-vmm --guest-pages %s\n", spec->guest_pages);
  if (!wr->started) {
    fprintf(out, "   not run: interrupted before it\n");
    return;
  }
  print_times(out, o, wr, wf);
  print_ratios(out, wf);
  print_failures(out, wr);
  if (!o->skip[KIND_HEARTH])
    print_hearth(out, r, wr, wf);
}

static void print_goals(FILE *out, const struct bench_options *o, const struct figures *f) {
  fprintf(out, "\n%-12s %-44s %-8s %10s %9s   %s\n", "workload", "goal", "from", "measured", "goal",
          "verdict");
  for (int i = 0; i < GOAL_COUNT; i++) {
    const struct goal *g = &f->goals[i];
    if (o->skip_workload[g->workload])
      continue;
    char measured[32] = "-";
    if (g->state != GOAL_NOT_MEASURED)
      snprintf(measured, sizeof measured, g->measure == GOAL_RSS_EXCL_GUEST ? "%.0f" : "%.4f",
               g->measured);
    fprintf(out, "%-12s %-44s %-8s %10s %2s %6g   %s\n", workload_spec(g->workload)->key,
            goal_what(g->measure), g->issue, measured, g->strict ? "<" : "<=", g->limit,
            goal_verdict(g->state));
  }
}

void report_text(FILE *out, const struct bench_options *o, const struct bench_result *r,
                 const struct figures *f) {
  print_header(out, o, r);
  if (r->interrupted)
    fprintf(out, "INTERRUPTED: the figures below cover only the runs done before the signal\n");
  for (int w = 0; w < WORKLOAD_COUNT; w++)
    if (!o->skip_workload[w])
      print_workload(out, o, r, f, w);
  fprintf(out,
          "\nRSS KiB: median wait4 ru_maxrss, the largest single process (for gVisor do:\n"
          "runsc and the sandbox and gofer it reaped; for gVisor exec: the `runsc exec`\n"
          "client alone); never below bench/start's own peak RSS, %ld KiB, which Linux\n"
          "charges at exec to whatever it spawns.\n",
          r->self_hwm_kib);
  print_goals(out, o, f);
}
