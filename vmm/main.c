/* main.c - hearth-vmm: flags -> a VM (started, or restored from a
 * snapshot) -> run -> the program's exit status (or 124 timeout, 125 hearth
 * failed or a snapshot refused, 126 not executable, 127 not found; 143 after
 * the control socket's shutdown). A restore may be held paused until the
 * control socket resumes it (--start-paused). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/stats.h"
#include "args.h"
#include "image.h"
#include "log.h"
#include "run.h"
#include "snapshot/restore.h"
#include "vm.h"

#define EXIT_TIMEOUT 124
#define EXIT_HEARTH_FAILED 125
#define EXIT_NOT_EXECUTABLE 126
#define EXIT_NOT_FOUND 127

static struct vm *timeout_vm;

/* The guest's fds 0-2 are our 0-2. One we were started without would be
 * taken by the next file we open (the trace file, an image file, /dev/kvm),
 * and the guest's stdio would reach it: hold each closed one with
 * /dev/null first. */
static int hold_closed_stdio(void) {
  for (int fd = 0; fd < 3; fd++) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
      continue;
    int null = open("/dev/null", O_RDWR);
    if (null != fd) {
      if (null >= 0)
        close(null);
      return -1;
    }
  }
  return 0;
}

/* SIGALRM: ask the vCPU loop to stop. immediate_exit covers the window just
 * before KVM_RUN; a blocking host call returns EINTR (no SA_RESTART). */
static void on_timeout(int sig) {
  (void)sig;
  timeout_vm->timed_out = 1;
  timeout_vm->vcpu_wanted = 1;
  if (timeout_vm->kvm.run)
    timeout_vm->kvm.run->immediate_exit = 1;
}

static int arm_timeout(struct vm *vm, double seconds) {
  timeout_vm = vm;
  struct sigaction sa = {.sa_handler = on_timeout};
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGALRM, &sa, NULL) < 0)
    return -errno;
  struct itimerval it = {.it_value = {.tv_sec = (time_t)seconds,
                                      .tv_usec = (suseconds_t)((seconds - (time_t)seconds) * 1e6)}};
  if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0)
    it.it_value.tv_usec = 1;
  return setitimer(ITIMER_REAL, &it, NULL) < 0 ? -errno : 0;
}

static void write_stats(const struct vm *vm, const char *path) {
  FILE *f = fopen(path, "we");
  if (!f) {
    vlog(VLOG_WARN, "--stats %s: %s", path, strerror(errno));
    return;
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  fprintf(f,
          "{\"exits\":%llu,\"syscalls\":%llu,\"lstar_syscalls\":%llu,\"sites_rewritten\":%llu,"
          "\"guest_pages_populated\":%llu,\"guest_resident_kib\":%lu,\"vmm_peak_rss_kib\":%ld,"
          "\"exit_status\":%d}\n",
          (unsigned long long)vm->stats.exits, (unsigned long long)vm->stats.syscalls,
          (unsigned long long)vm->stats.lstar_syscalls,
          (unsigned long long)vm->stats.sites_rewritten,
          (unsigned long long)vm->mem.pages_populated, vm_guest_resident_kib(vm), ru.ru_maxrss,
          vm_exit_status(vm));
  fclose(f);
}

static int create_status(int rc) {
  if (rc == -ENOENT || rc == -ENOTDIR || rc == -ELOOP || rc == -ENAMETOOLONG)
    return EXIT_NOT_FOUND;
  if (rc == -ENOEXEC || rc == -EACCES || rc == -EISDIR)
    return EXIT_NOT_EXECUTABLE;
  return EXIT_HEARTH_FAILED;
}

/* --start-paused: a VM restored in full, held paused (no CPU: the vCPU
 * thread sleeps on the control socket) until a resume; the hold does not
 * count on the guest's clocks. */
static void hold_until_resumed(struct vm *vm) {
  struct restore_hold hold;
  vm_restore_hold_begin(&hold);
  api_serve_paused(vm);
  if (vm->stop == VM_RUNNING && !vm->timed_out)
    vm_restore_hold_end(vm, &hold);
}

/* --timeout and --api-sock around vm_run, then the exit status. */
static int run_built_vm(struct vm *vm, struct vmm_args *a) {
  int rc = 0;
  if (a->timeout_s > 0 && (rc = arm_timeout(vm, a->timeout_s)) < 0)
    vlog(VLOG_ERROR, "cannot arm --timeout: %s", strerror(-rc));
  if (rc == 0 && a->api_sock)
    rc = api_start(vm, a->api_sock);
  if (rc < 0) {
    vm_destroy(vm);
    return EXIT_HEARTH_FAILED;
  }
  if (a->start_paused)
    hold_until_resumed(vm);
  vm_run(vm);
  api_stop(vm);
  if (vm->stop == VM_STOP_TIMEOUT)
    vlog(VLOG_ERROR, "timeout: the guest ran longer than %g s and was stopped", a->timeout_s);
  int status = vm_exit_status(vm);
  if (a->stats_path)
    write_stats(vm, a->stats_path);
  vm_destroy(vm);
  return status;
}

static int run_vm(struct vmm_args *a) {
  static struct vm vm;
  const char *step = "?";
  int rc = vm_create(&vm, &a->cfg, &step);
  if (rc < 0) {
    if (strcmp(step, "program") != 0)
      vlog(VLOG_ERROR, "cannot start the VM (%s): %s", step, strerror(-rc));
    return strcmp(step, "program") == 0 ? create_status(rc) : EXIT_HEARTH_FAILED;
  }
  return run_built_vm(&vm, a);
}

/* --restore SNAPDIR: a refused snapshot is one line and status 125. */
static int restore_vm(struct vmm_args *a) {
  static struct vm vm;
  static struct snap_config store;
  struct vm_restore_args ra = {.dir = a->restore_dir,
                               .vsock_uds = a->cfg.vsock_uds,
                               .vsock_cid = a->vsock_cid_given ? a->cfg.vsock_cid : 0,
                               .ready_fd = a->cfg.ready_fd};
  char err[512];
  int rc = vm_restore(&vm, &store, &ra, err, sizeof err);
  if (rc < 0) {
    vlog(VLOG_ERROR, "cannot restore %s: %s", a->restore_dir, err);
    return EXIT_HEARTH_FAILED;
  }
  store.cfg.trace = a->cfg.trace; /* this run's, not the snapshot's */
  return run_built_vm(&vm, a);
}

int main(int argc, char **argv) {
  struct vmm_args a;
  char err[256];
  switch (args_parse(argc, argv, &a, err, sizeof err)) {
  case ARGS_HELP:
    args_usage(stdout);
    return 0;
  case ARGS_VERSION:
    printf("hearth-vmm %s\n", HEARTH_VERSION);
    return 0;
  case ARGS_ERROR:
    fprintf(stderr, "hearth-vmm: %s\n", err);
    args_usage(stderr);
    return EXIT_HEARTH_FAILED;
  case ARGS_RUN:
    break;
  }
  if (a.verbose)
    vlog_set_level(VLOG_DEBUG);
  if (hold_closed_stdio() < 0) {
    fprintf(stderr, "hearth-vmm: cannot open /dev/null for a closed stdin, stdout or stderr\n");
    return EXIT_HEARTH_FAILED;
  }
  /* A write to a closed pipe must come back as EPIPE, for the guest's
   * SIGPIPE, not kill the VMM. */
  signal(SIGPIPE, SIG_IGN);
  /* Each open image file holds two host descriptors (its O_PATH position and
   * the open file): take the hard limit so the guest's own RLIMIT_NOFILE,
   * not ours, is what it meets. */
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  if (a.trace) {
    a.cfg.trace = a.trace_path ? fopen(a.trace_path, "we") : stderr;
    if (!a.cfg.trace) {
      fprintf(stderr, "hearth-vmm: --trace-syscalls=%s: %s\n", a.trace_path, strerror(errno));
      return EXIT_HEARTH_FAILED;
    }
  }
  /* --image: verified (and unpacked once) before any KVM work. */
  static struct vmm_image image;
  if (a.cfg.image_dir && vmm_image_prepare(&a.cfg, &image) < 0)
    return EXIT_HEARTH_FAILED;
  if (a.cfg.image_dir) /* the manifest's SHA-256: a snapshot's image files are tied to it */
    snprintf(a.cfg.image_manifest_hash, sizeof a.cfg.image_manifest_hash, "%s", image.cache.key);
  int status = a.restore_dir ? restore_vm(&a) : run_vm(&a);
  if (a.cfg.image_dir)
    vmm_image_release(&image);
  if (a.cfg.trace && a.cfg.trace != stderr)
    fclose(a.cfg.trace);
  return status;
}
