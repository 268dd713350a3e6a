/* sighandler.c - signal handlers under hearth-vmm: siginfo of raise(), FPU
 * and vector state (ymm, MXCSR) kept across a handler that clobbers them, a
 * blocked signal delivered at unblock, the alternate signal stack and
 * siglongjmp out of a handler. Prints "sighandler: OK (ymm0-15)" ("xmm0-15"
 * when the CPU as the guest sees it lacks AVX) and exits 0, or names the
 * first failed check and exits 1.
 * `sighandler resethand`: SIGTERM with SA_RESETHAND; the second raise must
 * kill the program (status 143), so surviving it exits 1. */
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MXCSR_DEFAULT 0x1f80u
#define MXCSR_ROUND_DOWN (MXCSR_DEFAULT | 0x2000u)
#define MXCSR_JUNK 0xff80u /* round toward zero, flush to zero */

static volatile sig_atomic_t hits;
static volatile int got_signo, got_code, got_pid, usr1_blocked_inside, usr2_blocked_inside;
static volatile unsigned handler_mxcsr;
static volatile uintptr_t handler_local;
static volatile int handler_ss_flags;
static sigjmp_buf jump_back;

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      printf("sighandler: FAIL: " __VA_ARGS__);                                                    \
      putchar('\n');                                                                               \
      return 1;                                                                                    \
    }                                                                                              \
  } while (0)

/* Installs fn for sig; `also_block` (0 for none) goes into sa_mask. */
static void install(int sig, void (*fn)(int, siginfo_t *, void *), int flags, int also_block) {
  struct sigaction sa = {.sa_sigaction = fn, .sa_flags = SA_SIGINFO | flags};
  sigemptyset(&sa.sa_mask);
  if (also_block)
    sigaddset(&sa.sa_mask, also_block);
  if (sigaction(sig, &sa, NULL) != 0) {
    perror("sigaction");
    _exit(2);
  }
}

static void on_info(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)ctx;
  sigset_t now;
  got_signo = si->si_signo;
  got_code = si->si_code;
  got_pid = si->si_pid;
  sigprocmask(SIG_BLOCK, NULL, &now);
  usr1_blocked_inside = sigismember(&now, SIGUSR1);
  usr2_blocked_inside = sigismember(&now, SIGUSR2);
  hits++;
}

/* raise() is tgkill (SI_TKILL), kill() is SI_USER; while the handler runs,
 * its own signal and its sa_mask are blocked, and afterwards neither is. */
static int check_siginfo(void) {
  sigset_t after;
  hits = 0;
  install(SIGUSR1, on_info, 0, SIGUSR2);
  CHECK(raise(SIGUSR1) == 0, "raise(SIGUSR1) failed");
  CHECK(hits == 1, "SIGUSR1 handler ran %d times, want 1", (int)hits);
  CHECK(got_signo == SIGUSR1, "si_signo %d, want %d", got_signo, SIGUSR1);
  CHECK(got_code == SI_TKILL, "si_code %d, want SI_TKILL (%d)", got_code, SI_TKILL);
  CHECK(got_pid == getpid(), "si_pid %d, want getpid() %d", got_pid, (int)getpid());
  CHECK(usr1_blocked_inside == 1 && usr2_blocked_inside == 1,
        "inside the handler SIGUSR1 blocked %d, SIGUSR2 (sa_mask) blocked %d, want 1 and 1",
        usr1_blocked_inside, usr2_blocked_inside);
  CHECK(sigprocmask(SIG_BLOCK, NULL, &after) == 0 && !sigismember(&after, SIGUSR1) &&
            !sigismember(&after, SIGUSR2),
        "the handler's mask outlived it");
  CHECK(kill(getpid(), SIGUSR1) == 0 && hits == 2, "kill(getpid(), SIGUSR1): %d runs", (int)hits);
  CHECK(got_code == SI_USER, "kill(): si_code %d, want SI_USER (%d)", got_code, SI_USER);
  return 0;
}

/* Puts junk in every vector register and MXCSR, after noting the MXCSR it
 * was entered with (Linux enters handlers with the default FPU state). */
static void on_clobber(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)si, (void)ctx;
  static const uint8_t junk[32] = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd,
                                   0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10, 0x11, 0x22,
                                   0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc};
  unsigned mx, junk_mx = MXCSR_JUNK;
  __asm__ volatile("stmxcsr %0" : "=m"(mx));
  handler_mxcsr = mx;
  if (__builtin_cpu_supports("avx"))
    __asm__ volatile(".irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
                     "vmovdqu %0, %%ymm\\r\n"
                     ".endr" ::"m"(junk)
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
  else
    __asm__ volatile(".irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
                     "movdqu %0, %%xmm\\r\n"
                     ".endr" ::"m"(junk)
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
  __asm__ volatile("ldmxcsr %0" ::"m"(junk_mx));
  hits++;
}

/* Loads ymm0-15 (xmm0-15 without AVX) and a non-default MXCSR, sends
 * SIGUSR2 with a bare `syscall` so nothing saves them for us, and stores
 * them back: the handler's junk must not show through. */
static int check_vector_registers(void) {
  static uint8_t in[16][32], out[16][32];
  unsigned mx_in = MXCSR_ROUND_DOWN, mx_out = 0, mx_default = MXCSR_DEFAULT;
  bool avx = __builtin_cpu_supports("avx");
  size_t width = avx ? 32 : 16;
  for (size_t r = 0; r < 16; r++)
    for (size_t b = 0; b < 32; b++)
      in[r][b] = (uint8_t)(r * 32 + b + 1);
  long ret, nr = SYS_tkill, tid = syscall(SYS_gettid);
  hits = 0;
  install(SIGUSR2, on_clobber, 0, 0);
#define VECTOR_ROUND_TRIP(load, store, reg)                                                        \
  __asm__ volatile(                                                                                \
      ".irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n" load " \\r*32(%[in]), %%" reg               \
      "\\r\n.endr\n"                                                                               \
      "ldmxcsr %[mxi]\n"                                                                           \
      "syscall\n"                                                                                  \
      "stmxcsr %[mxo]\n"                                                                           \
      "ldmxcsr %[mxd]\n"                                                                           \
      ".irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n" store " %%" reg                             \
      "\\r, \\r*32(%[out])\n.endr"                                                                 \
      : "=a"(ret), [mxo] "=m"(mx_out)                                                              \
      : "0"(nr), "D"(tid),                                                                         \
        "S"(SIGUSR2), [in] "r"(in), [out] "r"(out), [mxi] "m"(mx_in), [mxd] "m"(mx_default)        \
      : "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",    \
        "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15")
  if (avx)
    VECTOR_ROUND_TRIP("vmovdqu", "vmovdqu", "ymm");
  else
    VECTOR_ROUND_TRIP("movdqu", "movdqu", "xmm");
  CHECK(ret == 0, "tkill(self, SIGUSR2) returned %ld", ret);
  CHECK(hits == 1, "SIGUSR2 handler ran %d times, want 1", (int)hits);
  CHECK(handler_mxcsr == MXCSR_DEFAULT, "handler entered with MXCSR %#x, want %#x", handler_mxcsr,
        MXCSR_DEFAULT);
  CHECK(mx_out == MXCSR_ROUND_DOWN, "MXCSR %#x after the handler, want %#x", mx_out,
        MXCSR_ROUND_DOWN);
  for (size_t r = 0; r < 16; r++)
    CHECK(memcmp(in[r], out[r], width) == 0, "%s%zu changed across the signal handler",
          avx ? "ymm" : "xmm", r);
  return 0;
}

static double harmonic(int n, bool signal_midway) {
  double sum = 0;
  for (int k = 1; k <= n; k++) {
    sum += 1.0 / (volatile double){k};
    if (signal_midway && k == n / 2)
      raise(SIGUSR2);
  }
  return sum;
}

/* Plain C doubles around raise(): a leaked rounding mode changes the sum. */
static int check_double_math(void) {
  hits = 0;
  double quiet = harmonic(1000, false), interrupted = harmonic(1000, true);
  CHECK(hits == 1, "SIGUSR2 handler ran %d times, want 1", (int)hits);
  CHECK(quiet == interrupted, "harmonic sum %.17g with a signal midway, %.17g without", interrupted,
        quiet);
  return 0;
}

static int check_blocked_until_unblocked(void) {
  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  hits = 0;
  install(SIGUSR1, on_info, 0, 0);
  CHECK(sigprocmask(SIG_BLOCK, &usr1, &old) == 0, "sigprocmask(SIG_BLOCK)");
  CHECK(raise(SIGUSR1) == 0, "raise(SIGUSR1) while blocked");
  CHECK(hits == 0, "a blocked SIGUSR1 ran its handler");
  CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0, "sigprocmask(SIG_SETMASK)");
  CHECK(hits == 1, "SIGUSR1 handler ran %d times when unblocked, want 1", (int)hits);
  return 0;
}

static void on_altstack(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)si, (void)ctx;
  volatile char local = 0;
  stack_t now;
  handler_local = (uintptr_t)&local;
  handler_ss_flags = sigaltstack(NULL, &now) == 0 ? now.ss_flags : -1;
  hits++;
}

static int check_altstack(void) {
  static char alt[64 * 1024];
  stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt}, now;
  CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack");
  hits = 0;
  install(SIGUSR1, on_altstack, SA_ONSTACK, 0);
  raise(SIGUSR1);
  CHECK(hits == 1, "SA_ONSTACK handler ran %d times, want 1", (int)hits);
  CHECK(handler_local >= (uintptr_t)alt && handler_local < (uintptr_t)alt + sizeof alt,
        "handler's local at %#lx, outside the alternate stack %p..%p", (unsigned long)handler_local,
        (void *)alt, (void *)(alt + sizeof alt));
  CHECK(handler_ss_flags == SS_ONSTACK, "sigaltstack in the handler: ss_flags %d, want SS_ONSTACK",
        handler_ss_flags);
  CHECK(sigaltstack(NULL, &now) == 0 && now.ss_flags == 0 && now.ss_sp == alt,
        "sigaltstack after the handler: flags %d sp %p", now.ss_flags, now.ss_sp);
  ss.ss_flags = SS_DISABLE;
  CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack(SS_DISABLE)");
  return 0;
}

static void on_jump(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)si, (void)ctx;
  hits++;
  siglongjmp(jump_back, 7);
}

/* The handler never returns; siglongjmp restores the mask saved at
 * sigsetjmp, so SIGUSR1 (blocked while its handler ran) works again. */
static int check_siglongjmp(void) {
  hits = 0;
  install(SIGUSR1, on_jump, 0, 0);
  volatile int rounds = 0;
  int back = sigsetjmp(jump_back, 1);
  if (back == 0 || rounds < 2) {
    CHECK(back == 0 || back == 7, "sigsetjmp returned %d, want 7", back);
    rounds++;
    raise(SIGUSR1);
    CHECK(0, "raise returned although the handler jumps out");
  }
  sigset_t now;
  CHECK(sigprocmask(SIG_BLOCK, NULL, &now) == 0 && !sigismember(&now, SIGUSR1),
        "SIGUSR1 still blocked after siglongjmp");
  CHECK(hits == 2, "jumping handler ran %d times, want 2", (int)hits);
  return 0;
}

static void on_term(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)si, (void)ctx;
  hits++;
}

static int resethand(void) {
  struct sigaction now;
  install(SIGTERM, on_term, SA_RESETHAND, 0);
  raise(SIGTERM);
  CHECK(hits == 1, "SIGTERM handler ran %d times, want 1", (int)hits);
  CHECK(sigaction(SIGTERM, NULL, &now) == 0 && now.sa_handler == SIG_DFL,
        "SA_RESETHAND left the handler installed");
  fputs("sighandler: raising SIGTERM again\n", stderr);
  raise(SIGTERM);
  CHECK(0, "survived the second SIGTERM");
  return 1;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc > 1 && strcmp(argv[1], "resethand") == 0)
    return resethand();
  if (check_siginfo() || check_vector_registers() || check_double_math() ||
      check_blocked_until_unblocked() || check_altstack() || check_siglongjmp())
    return 1;
  printf("sighandler: OK (%s0-15)\n", __builtin_cpu_supports("avx") ? "ymm" : "xmm");
  return 0;
}
