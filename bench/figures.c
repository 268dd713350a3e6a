/* figures.c - medians, ratios and goal verdicts from the raw samples. */
#include "figures.h"

#include <string.h>

/* The goals of issues 3 and 4, in the order the report lists them. */
static const struct goal goal_table[GOAL_COUNT] = {
    {WORKLOAD_HELLO, GOAL_HEARTH_OVER_PLAIN, "issue 3", "hello.hearth_over_plain",
     GOAL_HELLO_OVER_PLAIN, false, 0, GOAL_NOT_MEASURED},
    {WORKLOAD_HELLO, GOAL_HEARTH_OVER_GVISOR, "issue 3", "hello.hearth_over_gvisor_issue3",
     GOAL_HELLO_OVER_GVISOR, false, 0, GOAL_NOT_MEASURED},
    {WORKLOAD_HELLO, GOAL_HEARTH_OVER_GVISOR, "issue 4", "hello.hearth_over_gvisor",
     GOAL_ANY_OVER_GVISOR, false, 0, GOAL_NOT_MEASURED},
    {WORKLOAD_HELLO, GOAL_RSS_EXCL_GUEST, "issue 3", "hello.vmm_rss_excl_guest_kib",
     GOAL_VMM_RSS_KIB, true, 0, GOAL_NOT_MEASURED},
    {WORKLOAD_PY_PASS, GOAL_HEARTH_OVER_PLAIN, "issue 4", "python-pass.hearth_over_plain",
     GOAL_PYTHON_OVER_PLAIN, false, 0, GOAL_NOT_MEASURED},
    {WORKLOAD_PY_PASS, GOAL_HEARTH_OVER_GVISOR, "issue 4", "python-pass.hearth_over_gvisor",
     GOAL_ANY_OVER_GVISOR, false, 0, GOAL_NOT_MEASURED},
    {WORKLOAD_PY_JSON, GOAL_HEARTH_OVER_PLAIN, "issue 4", "python-json.hearth_over_plain",
     GOAL_PYTHON_OVER_PLAIN, false, 0, GOAL_NOT_MEASURED},
    {WORKLOAD_PY_JSON, GOAL_HEARTH_OVER_GVISOR, "issue 4", "python-json.hearth_over_gvisor",
     GOAL_ANY_OVER_GVISOR, false, 0, GOAL_NOT_MEASURED},
};

const char *goal_what(enum goal_measure m) {
  switch (m) {
  case GOAL_HEARTH_OVER_PLAIN:
    return "hearth / plain (medians)";
  case GOAL_HEARTH_OVER_GVISOR:
    return "hearth / gVisor do (medians)";
  case GOAL_RSS_EXCL_GUEST:
    break;
  }
  return "VMM peak RSS excl. guest memory, KiB (max)";
}

static void judge(struct goal *g, bool measured, double value) {
  g->state = GOAL_NOT_MEASURED;
  if (!measured)
    return;
  g->measured = value;
  bool met = g->strict ? value < g->limit : value <= g->limit;
  g->state = met ? GOAL_MET : GOAL_MISSED;
}

static void judge_goal(struct goal *g, const struct workload_figures *wf) {
  if (g->measure == GOAL_RSS_EXCL_GUEST) {
    /* Without the guest's share the raw RSS is judged: an upper bound. */
    const struct summary *rss = wf->rss_excludes_guest ? &wf->excl_kib : &wf->vmm_rss_kib;
    judge(g, rss->n > 0, rss->max);
    return;
  }
  enum kind k = g->measure == GOAL_HEARTH_OVER_PLAIN ? KIND_PLAIN : KIND_GVISOR;
  judge(g, wf->has_ratio[k], wf->ratio[k]);
}

static void compute_ratios(struct workload_figures *wf) {
  const struct summary *hearth = &wf->wall_ms[KIND_HEARTH];
  for (int k = 0; k < KIND_COUNT; k++) {
    const struct summary *other = &wf->wall_ms[k];
    wf->has_ratio[k] = hearth->n > 0 && other->n > 0 && other->median > 0;
    wf->ratio[k] = wf->has_ratio[k] ? hearth->median / other->median : 0;
  }
}

static int compute_workload(const struct workload_result *wr, struct workload_figures *wf) {
  int rc = 0;
  for (int k = 0; k < KIND_COUNT && rc == 0; k++) {
    rc = series_summarize(&wr->kinds[k].wall_ms, &wf->wall_ms[k]);
    if (rc == 0)
      rc = series_summarize(&wr->kinds[k].maxrss_kib, &wf->maxrss_kib[k]);
  }
  const struct hearth_result *h = &wr->hearth;
  const struct {
    const struct series *from;
    struct summary *to;
  } hearth_figures[] = {{&h->exits, &wf->exits},
                        {&h->syscalls, &wf->syscalls},
                        {&h->lstar_syscalls, &wf->lstar_syscalls},
                        {&h->pages_populated, &wf->pages_populated},
                        {&h->vmm_rss_kib, &wf->vmm_rss_kib},
                        {&h->guest_kib, &wf->guest_kib},
                        {&h->excl_kib, &wf->excl_kib}};
  for (size_t i = 0; i < sizeof hearth_figures / sizeof hearth_figures[0] && rc == 0; i++)
    rc = series_summarize(hearth_figures[i].from, hearth_figures[i].to);
  wf->rss_excludes_guest = h->excl_kib.n > 0 && h->guest_kib_missing == 0;
  compute_ratios(wf);
  return rc;
}

int figures_compute(const struct bench_result *r, struct figures *f) {
  memset(f, 0, sizeof *f);
  int rc = 0;
  for (int w = 0; w < WORKLOAD_COUNT && rc == 0; w++)
    rc = compute_workload(&r->workloads[w], &f->workloads[w]);
  memcpy(f->goals, goal_table, sizeof goal_table);
  for (int i = 0; i < GOAL_COUNT; i++)
    judge_goal(&f->goals[i], &f->workloads[f->goals[i].workload]);
  return rc;
}
