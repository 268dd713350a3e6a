/* density_report.c - prints bench/density's figures and goals, and writes
 * them as JSON (density_report.h). */
#include "density_report.h"

#include <cjson/cJSON.h>

#include "json_file.h"

#define GOAL_PER_VM_KIB 2048.0
#define GOAL_RATE 200.0

static double rate(const struct dn_round *r) {
  return r->all_ready_ms > 0 ? (double)r->ready / (r->all_ready_ms / 1e3) : 0;
}

/* Restores per second the machine's CPUs could sustain at this round's CPU
 * cost per VM (its VMs' and the benchmark's), whatever else was running. */
static double cpu_bound_rate(const struct dn_round *r, long nproc) {
  double per_vm = r->spawned ? (r->vm_cpu_ms + r->bench_cpu_ms) / (double)r->spawned : 0;
  return per_vm > 0 ? (double)nproc * 1e3 / per_vm : 0;
}

static void print_round(FILE *out, size_t i, const struct dn_round *r, long nproc) {
  fprintf(out, "\nround %zu: %zu VMs asked, %zu spawned, %zu ready, %zu answered HELLO\n", i + 1,
          r->asked, r->spawned, r->ready, r->answered);
  if (r->failure[0])
    fprintf(out, "  first failure: %s\n", r->failure);
  fprintf(out, "  spawning all: %.1f ms; all ready: %.1f ms after the first spawn: %.0f VMs/s\n",
          r->spawn_all_ms, r->all_ready_ms, rate(r));
  fprintf(out,
          "  CPU: %.2f ms per VM over its life (restore, idle, one HELLO, teardown) + %.2f ms of "
          "the benchmark's: %.0f VMs/s if %ld CPUs did nothing else\n",
          r->spawned ? r->vm_cpu_ms / (double)r->spawned : 0,
          r->spawned ? r->bench_cpu_ms / (double)r->spawned : 0, cpu_bound_rate(r, nproc), nproc);
  fprintf(out, "  MemAvailable: %lld -> %lld KiB: %.0f KiB per idle VM\n", r->avail_before_kib,
          r->avail_after_kib, dn_per_vm_avail_kib(r));
  if (r->cg_before >= 0)
    fprintf(out, "  cgroup %s: %lld -> %lld KiB: %.0f KiB per idle VM\n", r->cgroup_note,
            r->cg_before / 1024, r->cg_after / 1024, dn_per_vm_cgroup_kib(r));
  if (r->cg_before >= 0 && r->kmem_before >= 0)
    fprintf(out, "    of which kernel memory (memory.kmem.usage_in_bytes): %.0f KiB per idle VM\n",
            dn_per_vm_kernel_kib(r));
  else
    fprintf(out, "  no cgroup figure: %s\n", r->cgroup_note);
  fprintf(out, "  teardown (SIGKILL to all -> all reaped): %.1f ms\n", r->teardown_ms);
}

static void print_goals(FILE *out, const struct dn_result *res) {
  const struct dn_round *r = &res->rounds[0];
  double avail = dn_per_vm_avail_kib(r), cg = dn_per_vm_cgroup_kib(r);
  fprintf(out, "\ngoals (round 1)\n");
  fprintf(out, "  <= 2 MiB per idle VM: MemAvailable %.0f KiB, %s", avail,
          avail <= GOAL_PER_VM_KIB ? "MET" : "NOT MET");
  if (cg >= 0)
    fprintf(out, "; cgroup %.0f KiB, %s", cg, cg <= GOAL_PER_VM_KIB ? "MET" : "NOT MET");
  fprintf(out, "\n  >= %.0f restores/s on %ld CPUs: %.0f VMs/s, %s (CPU-bound estimate %.0f/s)\n",
          GOAL_RATE, res->machine.nproc, rate(r), rate(r) >= GOAL_RATE ? "MET" : "NOT MET",
          cpu_bound_rate(r, res->machine.nproc));
}

void dn_report_text(FILE *out, const struct dn_options *o, const struct dn_result *res) {
  const struct machine *m = &res->machine;
  fprintf(out, "bench/density: idle %u MiB VMs restored from one snapshot of the base image\n",
          o->mem_mib);
  fprintf(out,
          "%s, %ld CPUs, %s, kernel %s, KVM %s, load average %.2f %.2f %.2f, MemTotal %lld KiB\n",
          m->date, m->nproc, m->cpu, m->kernel, m->kvm, res->loadavg[0], res->loadavg[1],
          res->loadavg[2], res->mem_total_kib);
  if (res->snapshot_error[0]) {
    fprintf(out, "no snapshot: %s\n", res->snapshot_error);
    return;
  }
  fprintf(out, "snapshot taken in %.1f ms; memory read %.1f s after the last \"ready\"\n",
          res->snapshot_ms, o->settle_s);
  for (size_t i = 0; i < res->nrounds; i++)
    print_round(out, i, &res->rounds[i], m->nproc);
  if (res->cap_note[0])
    fprintf(out, "\nsecond round: %s\n", res->cap_note);
  if (res->nrounds > 0)
    print_goals(out, res);
  if (res->interrupted)
    fprintf(out, "\ninterrupted: the figures are partial\n");
}

static void add_round(cJSON *arr, const struct dn_round *r, long nproc) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "asked", (double)r->asked);
  cJSON_AddNumberToObject(j, "spawned", (double)r->spawned);
  cJSON_AddNumberToObject(j, "ready", (double)r->ready);
  cJSON_AddNumberToObject(j, "answered", (double)r->answered);
  cJSON_AddNumberToObject(j, "spawn_all_ms", r->spawn_all_ms);
  cJSON_AddNumberToObject(j, "all_ready_ms", r->all_ready_ms);
  cJSON_AddNumberToObject(j, "restores_per_s", rate(r));
  cJSON_AddNumberToObject(j, "mem_available_before_kib", (double)r->avail_before_kib);
  cJSON_AddNumberToObject(j, "mem_available_after_kib", (double)r->avail_after_kib);
  cJSON_AddNumberToObject(j, "per_vm_mem_available_kib", dn_per_vm_avail_kib(r));
  cJSON_AddNumberToObject(j, "per_vm_cgroup_kib", dn_per_vm_cgroup_kib(r));
  cJSON_AddNumberToObject(j, "per_vm_cgroup_kernel_kib", dn_per_vm_kernel_kib(r));
  cJSON_AddStringToObject(j, "cgroup", r->cgroup_note);
  cJSON_AddNumberToObject(j, "teardown_ms", r->teardown_ms);
  cJSON_AddNumberToObject(j, "vm_cpu_ms", r->vm_cpu_ms);
  cJSON_AddNumberToObject(j, "bench_cpu_ms", r->bench_cpu_ms);
  cJSON_AddNumberToObject(j, "cpu_bound_restores_per_s", cpu_bound_rate(r, nproc));
  if (r->failure[0])
    cJSON_AddStringToObject(j, "first_failure", r->failure);
  cJSON_AddItemToArray(arr, j);
}

int dn_report_json(const char *path, const struct dn_options *o, const struct dn_result *res) {
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "date", res->machine.date);
  cJSON_AddNumberToObject(root, "nproc", (double)res->machine.nproc);
  cJSON_AddStringToObject(root, "kvm", res->machine.kvm);
  cJSON_AddNumberToObject(root, "loadavg_1m", res->loadavg[0]);
  cJSON_AddNumberToObject(root, "mem_total_kib", (double)res->mem_total_kib);
  cJSON_AddNumberToObject(root, "mem_mib", o->mem_mib);
  if (res->snapshot_error[0])
    cJSON_AddStringToObject(root, "snapshot_error", res->snapshot_error);
  cJSON *arr = cJSON_AddArrayToObject(root, "rounds");
  for (size_t i = 0; i < res->nrounds; i++)
    add_round(arr, &res->rounds[i], res->machine.nproc);
  cJSON_AddStringToObject(root, "second_round", res->cap_note);
  return json_file_write(path, root);
}
