/* test_fuzz.c - hearth-vmm against hostile guests (tests/fuzz/vmfuzz.c): a
 * short deterministic fuzz run per guest build (a few seeds; more with
 * HEARTH_FUZZ_SEEDS=FIRST-LAST and HEARTH_FUZZ_ITERATIONS=N), one in a small
 * VM, one with the host bridge and host peers that connect in, send
 * garbage CONNECT lines and echo or hang up (their timing is the host's,
 * so that run is not repeatable call for call); and the probes of vmprobe.c
 * (what fuzzing found, and escapes through paths and symlinks). Every run
 * must end on its own, within its --timeout, with the guest's exit status
 * 0: a VMM crash, an ASan or UBSan report (build-asan/), a hang or a guest
 * killed by the VMM fails it. */
#include "itest.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define DEFAULT_SEEDS "1-4"
#define DEFAULT_ITERATIONS "5000"
#define RUN_TIMEOUT "50" /* --timeout of each run: below the harness's own 60 s */
#define HOST_PORT "7"    /* guest connects to CID 2 port 7 reach the host peer */

/* a + b into buf (cap bytes), or the test fails. */
static void join(char *buf, size_t cap, const char *a, const char *b) {
  int n = snprintf(buf, cap, "%s%s", a, b);
  if (n < 0 || (size_t)n >= cap)
    fail_msg("path too long: %s%s", a, b);
}

static void seed_range(unsigned long *first, unsigned long *last) {
  const char *s = getenv("HEARTH_FUZZ_SEEDS");
  if (!s || !*s)
    s = DEFAULT_SEEDS;
  char *end;
  *first = strtoul(s, &end, 10);
  *last = *end == '-' ? strtoul(end + 1, NULL, 10) : *first;
  if (*last < *first)
    fail_msg("HEARTH_FUZZ_SEEDS: want FIRST-LAST, got '%s'", s);
}

static const char *iterations(void) {
  const char *n = getenv("HEARTH_FUZZ_ITERATIONS");
  return n && *n ? n : DEFAULT_ITERATIONS;
}

/* One fuzz run of seed: exit 0 and "vmfuzz ok SEED" on stdout. */
static void fuzz_once(struct itest *t, unsigned long seed, const char *const *vmm_args) {
  char s[32], want[64];
  snprintf(s, sizeof s, "%lu", seed);
  snprintf(want, sizeof want, "vmfuzz ok %lu", seed);
  const char *args[24];
  size_t n = 0;
  for (; vmm_args[n]; n++)
    args[n] = vmm_args[n];
  const char *tail[] = {"--timeout", RUN_TIMEOUT, "--", "/vmfuzz", "run", s, iterations(), NULL};
  memcpy(args + n, tail, sizeof tail);
  const struct spawn_result *r = itest_vmm(t, NULL, 0, args);
  if (r->status != 0)
    print_message("vmfuzz seed %lu failed\n", seed);
  assert_vmm_status(r, 0);
  assert_vmm_stdout_has(r, want);
}

static void fuzz_seeds(struct itest *t, const char *const *vmm_args) {
  itest_put_guest(t, "vmfuzz", "/vmfuzz");
  unsigned long first, last;
  seed_range(&first, &last);
  for (unsigned long seed = first; seed <= last; seed++)
    fuzz_once(t, seed, vmm_args);
}

static void test_fuzz_default(void **state) { fuzz_seeds(*state, ARGS("--tmp-size", "8")); }

/* A 16 MiB VM: a 2 MiB stack, tight memory for mmap and execve. */
static void test_fuzz_small_vm(void **state) {
  fuzz_seeds(*state, ARGS("--mem", "16", "--tmp-size", "2"));
}

/* --- with the host bridge and host peers --- */

struct host_side {
  char uds[PATH_MAX], peer_path[PATH_MAX];
  int peer_fd;
  atomic_bool stop;
  pthread_t peer, prober;
};

/* The host end of guest connects to CID 2: accepts, echoes a little, and
 * hangs up on every other one. */
static void *peer_main(void *arg) {
  struct host_side *h = arg;
  for (unsigned n = 0; !atomic_load(&h->stop); n++) {
    int c = accept4(h->peer_fd, NULL, NULL, SOCK_NONBLOCK);
    if (c < 0) {
      usleep(1000);
      continue;
    }
    char buf[4096];
    ssize_t k = n % 2 ? recv(c, buf, sizeof buf, 0) : 0;
    if (k > 0)
      send(c, buf, (size_t)k, MSG_NOSIGNAL);
    close(c);
  }
  return NULL;
}

/* Host-initiated connections: good and bad CONNECT lines, some cut short,
 * some left open for a while. */
static void *prober_main(void *arg) {
  static const char *const lines[] = {
      "CONNECT 2000\n", "CONNECT 52\n",           "CONNECT 1024\n",      "CONNECT 99999999999\n",
      "CONN",           "GET / HTTP/1.0\r\n\r\n", "CONNECT 2001\nhello", ""};
  struct host_side *h = arg;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  join(sa.sun_path, sizeof sa.sun_path, h->uds, "");
  int held[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
  for (unsigned n = 0; !atomic_load(&h->stop); n++) {
    int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c >= 0 && connect(c, (struct sockaddr *)&sa, sizeof sa) == 0) {
      const char *l = lines[n % (sizeof lines / sizeof lines[0])];
      send(c, l, strlen(l), MSG_NOSIGNAL);
    }
    if (held[n % 8] >= 0)
      close(held[n % 8]);
    held[n % 8] = c;
    usleep(2000);
  }
  for (int i = 0; i < 8; i++)
    if (held[i] >= 0)
      close(held[i]);
  return NULL;
}

static void host_start(struct itest *t, struct host_side *h) {
  join(h->uds, sizeof h->uds, t->dir, "/v.sock");
  join(h->peer_path, sizeof h->peer_path, h->uds, "_" HOST_PORT);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  join(sa.sun_path, sizeof sa.sun_path, h->peer_path, "");
  h->peer_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  assert_true(h->peer_fd >= 0);
  assert_int_equal(bind(h->peer_fd, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(listen(h->peer_fd, 64), 0);
  atomic_store(&h->stop, false);
  assert_int_equal(pthread_create(&h->peer, NULL, peer_main, h), 0);
  assert_int_equal(pthread_create(&h->prober, NULL, prober_main, h), 0);
}

static void host_stop(struct host_side *h) {
  atomic_store(&h->stop, true);
  pthread_join(h->peer, NULL);
  pthread_join(h->prober, NULL);
  close(h->peer_fd);
  unlink(h->peer_path);
}

static void test_fuzz_bridge(void **state) {
  struct itest *t = *state;
  itest_require_kvm();
  struct host_side h;
  host_start(t, &h);
  fuzz_seeds(t, ARGS("--tmp-size", "8", "--vsock-uds", h.uds));
  host_stop(&h);
}

/* --- regression probes --- */

static void probe(struct itest *t, const char *mem, const char *mode) {
  itest_put_guest(t, "vmprobe", "/vmprobe");
  const struct spawn_result *r =
      itest_vmm(t, NULL, 0, ARGS("--mem", mem, "--timeout", RUN_TIMEOUT, "--", "/vmprobe", mode));
  char want[64];
  snprintf(want, sizeof want, "vmprobe: %s OK\n", mode);
  assert_vmm_status(r, 0);
  assert_vmm_stdout_has(r, want);
}

static void test_exec_count_cap(void **state) {
  probe(*state, "64", "exec_count");
  assert_vmm_stdout_has(&((struct itest *)*state)->res, "vmprobe: done argc=65536\n");
}

static void test_exec_args_fit_the_stack(void **state) {
  probe(*state, "16", "exec_bytes");
  assert_vmm_stdout_has(&((struct itest *)*state)->res, "vmprobe: done argc=100\n");
}

/* Nothing outside the root runs or opens through any path or symlink. */
static void test_exec_escape(void **state) { probe(*state, "64", "exec_escape"); }

static const struct CMUnitTest tests[] = {
    GUEST_TEST(test_fuzz_default),
    GUEST_TEST(test_fuzz_small_vm),
    GUEST_TEST(test_fuzz_bridge),
    GUEST_TEST(test_exec_count_cap),
    GUEST_TEST(test_exec_args_fit_the_stack),
    GUEST_TEST(test_exec_escape),
};

ITEST_MAIN(tests)
