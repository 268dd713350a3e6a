/* results.c - allocates and frees the series of a bench/start result, and
 * names the kinds. */
#include "results.h"

#include <stdlib.h>

#define SERIES_PER_WORKLOAD (2 * KIND_COUNT + 7)

const char *kind_name(enum kind k) {
  static const char *const names[KIND_COUNT] = {"plain", "hearth", "gVisor do", "gVisor exec"};
  return names[k];
}

const char *kind_key(enum kind k) {
  static const char *const keys[KIND_COUNT] = {"plain", "hearth", "gvisor_do", "gvisor_exec"};
  return keys[k];
}

/* Every series of one workload's result, into all[]; returns how many. */
static size_t workload_series(struct workload_result *wr, struct series *all[SERIES_PER_WORKLOAD]) {
  size_t n = 0;
  for (int k = 0; k < KIND_COUNT; k++) {
    all[n++] = &wr->kinds[k].wall_ms;
    all[n++] = &wr->kinds[k].maxrss_kib;
  }
  struct hearth_result *h = &wr->hearth;
  struct series *hearth[] = {&h->exits,           &h->syscalls,    &h->lstar_syscalls,
                             &h->pages_populated, &h->vmm_rss_kib, &h->guest_kib,
                             &h->excl_kib};
  for (size_t i = 0; i < sizeof hearth / sizeof hearth[0]; i++)
    all[n++] = hearth[i];
  return n;
}

struct bench_result *results_new(const struct bench_options *o) {
  struct bench_result *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  for (int w = 0; w < WORKLOAD_COUNT; w++) {
    struct series *all[SERIES_PER_WORKLOAD];
    size_t n = workload_series(&r->workloads[w], all);
    for (size_t i = 0; i < n; i++) {
      if (series_init(all[i], o->runs[w]) < 0) {
        results_free(r);
        return NULL;
      }
    }
  }
  return r;
}

void results_free(struct bench_result *r) {
  if (!r)
    return;
  for (int w = 0; w < WORKLOAD_COUNT; w++) {
    struct series *all[SERIES_PER_WORKLOAD];
    size_t n = workload_series(&r->workloads[w], all);
    for (size_t i = 0; i < n; i++)
      series_free(all[i]); /* safe on a series never set up */
  }
  free(r);
}
