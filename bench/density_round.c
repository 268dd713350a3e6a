/* density_round.c - one bench/density round (density_round.h). */
#include "density_round.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "density_cgroup.h"
#include "restore_vm.h"

#define HELLO_WAIT_MS 5000.0

static long long meminfo_kib(const char *key) {
  FILE *f = fopen("/proc/meminfo", "re");
  if (!f)
    return -errno;
  char line[256];
  long long v = -ENOENT;
  size_t klen = strlen(key);
  while (v < 0 && fgets(line, sizeof line, f))
    if (strncmp(line, key, klen) == 0 && line[klen] == ':')
      v = strtoll(line + klen + 1, NULL, 10);
  fclose(f);
  return v;
}

long long dn_mem_available_kib(void) { return meminfo_kib("MemAvailable"); }
long long dn_mem_total_kib(void) { return meminfo_kib("MemTotal"); }

static int uds_path(char *out, const char *work, size_t i) {
  int n = snprintf(out, PATH_MAX, "%s/v%zu.sock", work, i);
  return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static void note(struct dn_round *r, const char *what) {
  if (!r->failure[0])
    snprintf(r->failure, DN_TEXT, "%s", what);
}

/* Spawns up to n restores; r->spawned says how many started. */
static void spawn_all(const struct dn_round_args *a, struct rvm *vms, size_t n, const char *log,
                      struct dn_round *r) {
  char uds[PATH_MAX], ready[16];
  snprintf(ready, sizeof ready, "%d", RVM_READY_FD);
  for (size_t i = 0; i < n && !*a->interrupt; i++) {
    if (uds_path(uds, a->work, i) < 0) {
      note(r, "bridge path too long");
      return;
    }
    char *argv[] = {(char *)a->o->vmm,
                    "--restore",
                    (char *)a->snap,
                    "--vsock-uds",
                    uds,
                    "--ready-fd",
                    ready,
                    NULL};
    int rc = rvm_spawn(&vms[i], argv, log);
    if (rc < 0) {
      char why[DN_TEXT];
      snprintf(why, sizeof why, "spawn %zu: %s", i + 1, strerror(-rc));
      note(r, why);
      return;
    }
    r->spawned++;
  }
}

/* Blocks in poll until every spawned VM said "ready" or failed, or the
 * deadline. Returns the time of the last "ready". */
static double wait_all_ready(const struct dn_round_args *a, struct rvm *vms, struct dn_round *r,
                             double deadline_ms) {
  struct pollfd *p = calloc(r->spawned ? r->spawned : 1, sizeof *p);
  size_t *which = calloc(r->spawned ? r->spawned : 1, sizeof *which);
  double last = rvm_now_ms();
  for (;;) {
    size_t pending = 0;
    for (size_t i = 0; p && which && i < r->spawned; i++)
      if (vms[i].ready_fd >= 0) {
        p[pending] = (struct pollfd){.fd = vms[i].ready_fd, .events = POLLIN};
        which[pending++] = i;
      }
    double left = deadline_ms - rvm_now_ms();
    if (pending == 0 || left <= 0 || *a->interrupt)
      break;
    if (poll(p, pending, (int)left + 1) <= 0)
      continue; /* EINTR or the deadline: checked above */
    for (size_t j = 0; j < pending; j++) {
      if (!p[j].revents)
        continue;
      int rc = rvm_read_ready(&vms[which[j]]);
      if (rc > 0) {
        r->ready++;
        last = rvm_now_ms();
      } else if (rc < 0) {
        note(r, "a VM ended before \"ready\" (see its log)");
      }
    }
  }
  if (!p || !which)
    note(r, "out of memory");
  free(p);
  free(which);
  return last;
}

static void idle(double seconds) {
  struct timespec ts = {.tv_sec = (time_t)seconds,
                        .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9)};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

/* Each ready VM must answer HELLO through its own bridge. */
static void check_answers(const struct dn_round_args *a, struct rvm *vms, struct dn_round *r) {
  char uds[PATH_MAX], hello[512];
  for (size_t i = 0; i < r->spawned && !*a->interrupt; i++) {
    if (vms[i].pid <= 0 || uds_path(uds, a->work, i) < 0)
      continue;
    int rc = rvm_hello(uds, rvm_now_ms() + HELLO_WAIT_MS, hello, sizeof hello);
    if (rc == 0) {
      r->answered++;
    } else {
      char why[DN_TEXT];
      snprintf(why, sizeof why, "VM %zu: no HELLO: %s", i + 1, rvm_why(rc));
      note(r, why);
    }
  }
}

static void end_all(struct rvm *vms, size_t n, struct dn_round *r) {
  double t0 = rvm_now_ms();
  for (size_t i = 0; i < n; i++)
    if (vms[i].pid > 0)
      kill(-vms[i].pid, SIGKILL);
  for (size_t i = 0; i < n; i++)
    rvm_end(&vms[i]);
  r->teardown_ms = rvm_now_ms() - t0;
}

static void read_memory(const struct dcg *g, long long *avail, long long *cg, long long *kmem) {
  *avail = dn_mem_available_kib();
  *cg = g && g->entered ? dcg_usage(g) : -1;
  *kmem = g && g->entered ? dcg_kernel_usage(g) : -1;
  if (*kmem < 0)
    *kmem = -1;
}

/* Spawn, wait, idle, read, check: the VMs are ended by the caller. */
static void measure(const struct dn_round_args *a, struct rvm *vms, size_t n, const char *log,
                    const struct dcg *g, struct dn_round *r) {
  read_memory(g, &r->avail_before_kib, &r->cg_before, &r->kmem_before);
  double t0 = rvm_now_ms();
  spawn_all(a, vms, n, log, r);
  r->spawn_all_ms = rvm_now_ms() - t0;
  r->all_ready_ms = wait_all_ready(a, vms, r, t0 + a->o->timeout_s * 1e3) - t0;
  if (r->ready < r->spawned)
    note(r, "not every VM said \"ready\" in time");
  idle(a->o->settle_s);
  read_memory(g, &r->avail_after_kib, &r->cg_after, &r->kmem_after);
  check_answers(a, vms, r);
}

static double cpu_ms(int who) {
  struct rusage ru;
  if (getrusage(who, &ru) != 0)
    return 0;
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

int dn_round_run(const struct dn_round_args *a, size_t n, struct dn_round *r) {
  memset(r, 0, sizeof *r);
  r->asked = n;
  char log[PATH_MAX];
  if (snprintf(log, sizeof log, "%s/vms.log", a->work) >= (int)sizeof log)
    return -ENAMETOOLONG;
  struct rvm *vms = calloc(n, sizeof *vms);
  if (!vms)
    return -ENOMEM;
  struct dcg g;
  bool have_cg = dcg_enter(&g, r->cgroup_note, sizeof r->cgroup_note) == 0;
  if (have_cg)
    snprintf(r->cgroup_note, sizeof r->cgroup_note, "%.200s (%s)", g.dir, g.usage_file);
  double children0 = cpu_ms(RUSAGE_CHILDREN), self0 = cpu_ms(RUSAGE_SELF);
  measure(a, vms, n, log, have_cg ? &g : NULL, r);
  end_all(vms, r->spawned, r);
  r->vm_cpu_ms = cpu_ms(RUSAGE_CHILDREN) - children0; /* reaped children only: all of them */
  r->bench_cpu_ms = cpu_ms(RUSAGE_SELF) - self0;
  if (have_cg && dcg_leave(&g) < 0)
    fprintf(stderr, "bench/density: cannot remove the cgroup %s\n", g.dir);
  free(vms);
  return 0;
}
