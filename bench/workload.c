/* workload.c - the three workloads and the command lines that run each one
 * as a plain process, under hearth-vmm, and under gVisor (fresh and warm). */
#include "workload.h"

#include <errno.h>
#include <string.h>

static const struct workload_spec specs[WORKLOAD_COUNT] = {
    [WORKLOAD_HELLO] = {"hello", "static hello", false, NULL, NULL, "4k"},
    [WORKLOAD_PY_PASS] = {"python-pass", "python3 -c pass", true, "pass", "", "2m"},
    [WORKLOAD_PY_JSON] = {"python-json", "python3 -c 'import json; print(json.dumps(...))'", true,
                          "import json; print(json.dumps({\"ok\": True}))", "{\"ok\": true}\n",
                          "2m"},
};

const struct workload_spec *workload_spec(enum workload w) { return &specs[w]; }

int workload_by_key(const char *key) {
  for (int w = 0; w < WORKLOAD_COUNT; w++)
    if (strcmp(specs[w].key, key) == 0)
      return w;
  return -EINVAL;
}

/* Appends the program and its arguments, as the guest or host sees them. */
static size_t add_program(char **argv, size_t n, enum workload w, const char *program) {
  argv[n++] = (char *)program;
  if (specs[w].python) {
    argv[n++] = "-c";
    argv[n++] = (char *)specs[w].code;
  }
  return n;
}

/* runsc's global flags, the same for `do` and `exec`. */
static size_t add_runsc(char **argv, const struct bench_options *o,
                        const struct workload_paths *p) {
  size_t n = 0;
  argv[n++] = (char *)o->runsc;
  argv[n++] = (char *)p->runsc_root;
  argv[n++] = "--network=none";
  argv[n++] = "--ignore-cgroups";
  argv[n++] = (char *)p->platform;
  return n;
}

/* hearth-vmm: the hello in a root of its own; python3 with the host's root
 * (read-only to the guest), its libraries and standard library from there. */
static size_t add_hearth(char **argv, enum workload w, const struct bench_options *o,
                         const struct workload_paths *p) {
  size_t n = 0;
  argv[n++] = (char *)o->vmm;
  argv[n++] = "--guest-pages";
  argv[n++] = (char *)specs[w].guest_pages;
  argv[n++] = "--root";
  argv[n++] = specs[w].python ? "/" : (char *)p->hearth_root;
  argv[n++] = "--stats";
  argv[n++] = (char *)p->stats;
  argv[n++] = "--";
  return add_program(argv, n, w, specs[w].python ? o->python : "/hello");
}

void workload_argv(enum workload w, enum kind k, const struct bench_options *o,
                   const struct workload_paths *p, char *argv[WORKLOAD_ARGV_MAX]) {
  const char *program = specs[w].python ? o->python : p->hello;
  size_t n = 0;
  switch (k) {
  case KIND_PLAIN:
    n = add_program(argv, 0, w, program);
    break;
  case KIND_HEARTH:
    n = add_hearth(argv, w, o, p);
    break;
  case KIND_GVISOR: /* a fresh sandbox: the host's root read-only under a tmpfs overlay */
    n = add_runsc(argv, o, p);
    argv[n++] = "do";
    n = add_program(argv, n, w, program);
    break;
  case KIND_GVISOR_EXEC:
  case KIND_COUNT:
    n = add_runsc(argv, o, p);
    argv[n++] = "exec";
    argv[n++] = (char *)p->sandbox_id;
    n = add_program(argv, n, w, program);
    break;
  }
  argv[n] = NULL;
}
