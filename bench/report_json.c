/* report_json.c - the machine-readable bench/start summary (cJSON). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "workload.h"

/* cJSON's adders return NULL when out of memory; `ok` remembers it so the
 * whole document is checked once at the end. */
struct builder {
  bool ok;
};

static cJSON *add_object(struct builder *b, cJSON *parent, const char *key) {
  cJSON *o = cJSON_AddObjectToObject(parent, key);
  b->ok = b->ok && o;
  return o;
}

static void add_number(struct builder *b, cJSON *o, const char *key, double v) {
  b->ok = b->ok && o && cJSON_AddNumberToObject(o, key, v);
}

static void add_string(struct builder *b, cJSON *o, const char *key, const char *v) {
  b->ok = b->ok && o && cJSON_AddStringToObject(o, key, v);
}

static void add_summary(struct builder *b, cJSON *parent, const char *key,
                        const struct summary *s) {
  cJSON *o = add_object(b, parent, key);
  add_number(b, o, "n", (double)s->n);
  if (s->n == 0)
    return;
  add_number(b, o, "median", s->median);
  add_number(b, o, "min", s->min);
  add_number(b, o, "max", s->max);
}

static void add_machine(struct builder *b, cJSON *root, const struct machine *m,
                        const struct bench_options *o) {
  cJSON *mo = add_object(b, root, "machine");
  add_string(b, mo, "date", m->date);
  add_number(b, mo, "nproc", (double)m->nproc);
  add_string(b, mo, "kernel", m->kernel);
  add_string(b, mo, "cpu", m->cpu);
  add_string(b, mo, "kvm", m->kvm);
  add_string(b, mo, "runsc", m->runsc);
  add_string(b, mo, "runsc_platform", o->platform);
}

static void add_kinds(struct builder *b, cJSON *parent, const struct bench_options *o,
                      const struct workload_result *wr, const struct workload_figures *wf) {
  cJSON *kinds = add_object(b, parent, "kinds");
  for (int k = 0; k < KIND_COUNT; k++) {
    if (o->skip[k])
      continue;
    const struct kind_result *kr = &wr->kinds[k];
    cJSON *ko = add_object(b, kinds, kind_key(k));
    add_number(b, ko, "ok", (double)kr->ok);
    add_number(b, ko, "failed", (double)kr->failed);
    add_string(b, ko, "warmup", kr->warmup);
    add_summary(b, ko, "wall_ms", &wf->wall_ms[k]);
    add_summary(b, ko, "maxrss_kib", &wf->maxrss_kib[k]);
    if (kr->failed)
      add_string(b, ko, "first_failure", kr->failures[0]);
    if (k != KIND_HEARTH && wf->has_ratio[k])
      add_number(b, ko, "hearth_over_this", wf->ratio[k]);
  }
}

static void add_hearth(struct builder *b, cJSON *parent, const struct workload_figures *wf) {
  cJSON *h = add_object(b, parent, "hearth_vmm");
  add_summary(b, h, "exits", &wf->exits);
  add_summary(b, h, "syscalls", &wf->syscalls);
  add_summary(b, h, "lstar_syscalls", &wf->lstar_syscalls);
  add_summary(b, h, "guest_pages_populated", &wf->pages_populated);
  add_summary(b, h, "peak_rss_kib", &wf->vmm_rss_kib);
  add_summary(b, h, "guest_resident_kib", &wf->guest_kib);
  add_summary(b, h, "peak_rss_excl_guest_kib", &wf->excl_kib);
  b->ok = b->ok && h && cJSON_AddBoolToObject(h, "rss_excludes_guest", wf->rss_excludes_guest);
}

static void add_workloads(struct builder *b, cJSON *root, const struct bench_options *o,
                          const struct bench_result *r, const struct figures *f) {
  cJSON *all = add_object(b, root, "workloads");
  for (int w = 0; w < WORKLOAD_COUNT; w++) {
    if (o->skip_workload[w])
      continue;
    const struct workload_spec *spec = workload_spec(w);
    cJSON *wo = add_object(b, all, spec->key);
    add_string(b, wo, "title", spec->title);
    add_string(b, wo, "program", spec->python ? o->python : o->hello);
    add_string(b, wo, "guest_pages", spec->guest_pages);
    if (spec->python)
      add_string(b, wo, "code", spec->code);
    add_number(b, wo, "runs", (double)o->runs[w]);
    add_kinds(b, wo, o, &r->workloads[w], &f->workloads[w]);
    if (!o->skip[KIND_HEARTH])
      add_hearth(b, wo, &f->workloads[w]);
  }
}

static void add_sandbox(struct builder *b, cJSON *root, const struct bench_options *o,
                        const struct warm_sandbox_result *s) {
  if (o->skip[KIND_GVISOR_EXEC])
    return;
  cJSON *so = add_object(b, root, "gvisor_warm_sandbox");
  b->ok = b->ok && so && cJSON_AddBoolToObject(so, "started", s->started);
  if (s->started)
    add_number(b, so, "start_ms", s->start_ms);
  else
    add_string(b, so, "why", s->why);
  if (s->stop[0])
    add_string(b, so, "delete_failed", s->stop);
}

static void add_goals(struct builder *b, cJSON *root, const struct bench_options *o,
                      const struct figures *f) {
  static const char *const verdicts[] = {"not measured", "met", "not met"};
  cJSON *goals = add_object(b, root, "goals");
  for (int i = 0; i < GOAL_COUNT; i++) {
    const struct goal *g = &f->goals[i];
    if (o->skip_workload[g->workload])
      continue;
    cJSON *go = add_object(b, goals, g->key);
    add_string(b, go, "what", goal_what(g->measure));
    add_string(b, go, "from", g->issue);
    if (g->state != GOAL_NOT_MEASURED)
      add_number(b, go, "measured", g->measured);
    add_number(b, go, "limit", g->limit);
    add_string(b, go, "comparison", g->strict ? "<" : "<=");
    add_string(b, go, "verdict", verdicts[g->state]);
  }
}

static int write_text(const char *path, const char *text) {
  FILE *out = fopen(path, "we");
  if (!out)
    return -errno;
  int rc = fputs(text, out) < 0 || fputc('\n', out) == EOF ? -EIO : 0;
  if (fclose(out) != 0 && rc == 0)
    rc = -errno;
  return rc;
}

int report_json(const char *path, const struct bench_options *o, const struct bench_result *r,
                const struct figures *f) {
  struct builder b = {.ok = true};
  cJSON *root = cJSON_CreateObject();
  b.ok = root != NULL;
  add_string(&b, root, "benchmark", "bench/start");
  add_number(&b, root, "warmup_runs", 1);
  add_number(&b, root, "bench_self_hwm_kib", (double)r->self_hwm_kib);
  b.ok = b.ok && cJSON_AddBoolToObject(root, "interrupted", r->interrupted);
  add_machine(&b, root, &r->machine, o);
  add_sandbox(&b, root, o, &r->sandbox);
  add_workloads(&b, root, o, r, f);
  add_goals(&b, root, o, f);
  char *text = b.ok ? cJSON_Print(root) : NULL;
  cJSON_Delete(root);
  if (!text)
    return -ENOMEM;
  int rc = write_text(path, text);
  free(text);
  return rc;
}
