/* figures.c - medians, ratios and goal verdicts from the raw samples. */
#include "figures.h"

#include <string.h>

static void judge(struct goal *g, bool measured, double value) {
  g->state = GOAL_NOT_MEASURED;
  if (!measured)
    return;
  g->measured = value;
  bool met = g->strict ? value < g->limit : value <= g->limit;
  g->state = met ? GOAL_MET : GOAL_MISSED;
}

static void judge_ratio(struct goal *g, const struct summary *num, const struct summary *den) {
  judge(g, num->n > 0 && den->n > 0 && den->median > 0, num->n ? num->median / den->median : 0);
}

static void judge_goals(struct figures *f) {
  static const struct goal templates[GOAL_COUNT] = {
      [GOAL_VS_PLAIN] = {"hearth median / plain median", "hearth_over_plain", 0,
                         GOAL_HEARTH_OVER_PLAIN, false, GOAL_NOT_MEASURED},
      [GOAL_VS_GVISOR] = {"hearth median / gVisor median", "hearth_over_gvisor", 0,
                          GOAL_HEARTH_OVER_GVISOR, false, GOAL_NOT_MEASURED},
      [GOAL_VMM_RSS] = {"VMM peak RSS excl. guest memory, KiB (max)", "vmm_rss_excl_guest_kib", 0,
                        GOAL_VMM_RSS_KIB, true, GOAL_NOT_MEASURED},
  };
  memcpy(f->goals, templates, sizeof templates);
  judge_ratio(&f->goals[GOAL_VS_PLAIN], &f->wall_ms[KIND_HEARTH], &f->wall_ms[KIND_PLAIN]);
  judge_ratio(&f->goals[GOAL_VS_GVISOR], &f->wall_ms[KIND_HEARTH], &f->wall_ms[KIND_GVISOR]);
  /* Without the guest's share the raw RSS is judged: an upper bound. */
  const struct summary *rss = f->rss_excludes_guest ? &f->excl_kib : &f->vmm_rss_kib;
  judge(&f->goals[GOAL_VMM_RSS], rss->n > 0, rss->max);
}

int figures_compute(const struct bench_result *r, struct figures *f) {
  memset(f, 0, sizeof *f);
  int rc = 0;
  for (int k = 0; k < KIND_COUNT && rc == 0; k++) {
    rc = series_summarize(&r->kinds[k].wall_ms, &f->wall_ms[k]);
    if (rc == 0)
      rc = series_summarize(&r->kinds[k].maxrss_kib, &f->maxrss_kib[k]);
  }
  const struct hearth_result *h = &r->hearth;
  const struct {
    const struct series *from;
    struct summary *to;
  } hearth_figures[] = {{&h->exits, &f->exits},
                        {&h->syscalls, &f->syscalls},
                        {&h->lstar_syscalls, &f->lstar_syscalls},
                        {&h->vmm_rss_kib, &f->vmm_rss_kib},
                        {&h->guest_kib, &f->guest_kib},
                        {&h->excl_kib, &f->excl_kib}};
  for (size_t i = 0; i < sizeof hearth_figures / sizeof hearth_figures[0] && rc == 0; i++)
    rc = series_summarize(hearth_figures[i].from, hearth_figures[i].to);
  f->rss_excludes_guest = h->excl_kib.n > 0 && h->guest_kib_missing == 0;
  judge_goals(f);
  return rc;
}
