/* machine.c - describes the host a benchmark ran on: date, CPUs, kernel,
 * CPU model, which KVM, which runsc. */
#include "machine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "runcmd.h"

/* Copies the first line of src[0..len) (not NUL-terminated) into dst. */
static void copy_line(char *dst, size_t cap, const char *src, size_t len) {
  const char *nl = memchr(src, '\n', len);
  size_t n = nl ? (size_t)(nl - src) : len;
  snprintf(dst, cap, "%.*s", (int)(n < cap ? n : cap - 1), src);
}

static void describe_cpu(char *dst, size_t cap) {
  snprintf(dst, cap, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "re");
  if (!f)
    return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    const char *colon = strchr(line, ':');
    if (strncmp(line, "model name", 10) == 0 && colon) {
      colon += strspn(colon + 1, " \t") + 1;
      copy_line(dst, cap, colon, strlen(colon));
      break;
    }
  }
  fclose(f);
}

/* Which KVM module is loaded: PVM runs guests very differently from
 * hardware KVM (see PLATFORM.md), so a result must say. */
static void describe_kvm(char *dst, size_t cap) {
  static const char *const modules[][2] = {
      {"kvm_pvm", "PVM"}, {"kvm_intel", "hardware"}, {"kvm_amd", "hardware"}};
  for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++) {
    char path[64];
    snprintf(path, sizeof path, "/sys/module/%s", modules[i][0]);
    if (access(path, F_OK) == 0) {
      snprintf(dst, cap, "%s (%s)", modules[i][1], modules[i][0]);
      return;
    }
  }
  snprintf(dst, cap, access("/dev/kvm", F_OK) == 0 ? "unknown module" : "none (/dev/kvm absent)");
}

static void describe_runsc(char *dst, size_t cap, const char *runsc) {
  snprintf(dst, cap, "not measured");
  if (!runsc)
    return;
  struct cmd_result *r = malloc(sizeof *r);
  if (!r)
    return;
  char *argv[] = {(char *)runsc, "--version", NULL};
  struct cmd c = {.argv = argv, .envp = environ, .timeout_s = 10};
  if (run_cmd(&c, r) == 0 && r->reaped && r->status == 0 && r->out.len > 0)
    copy_line(dst, cap, r->out.buf, r->out.len);
  else
    snprintf(dst, cap, "unknown (`%s --version` failed)", runsc);
  free(r);
}

void machine_describe(struct machine *m, const char *runsc) {
  time_t now = time(NULL);
  struct tm tm;
  if (!gmtime_r(&now, &tm) || !strftime(m->date, sizeof m->date, "%Y-%m-%d %H:%M UTC", &tm))
    snprintf(m->date, sizeof m->date, "unknown");
  m->nproc = sysconf(_SC_NPROCESSORS_ONLN);
  struct utsname u;
  snprintf(m->kernel, sizeof m->kernel, "%s", uname(&u) == 0 ? u.release : "unknown");
  describe_cpu(m->cpu, sizeof m->cpu);
  describe_kvm(m->kvm, sizeof m->kvm);
  describe_runsc(m->runsc, sizeof m->runsc, runsc);
}

void machine_loadavg(double out[3]) {
  if (getloadavg(out, 3) != 3)
    out[0] = out[1] = out[2] = -1;
}
