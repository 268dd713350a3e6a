/* test_python.c - Debian's dynamically linked /usr/bin/python3 run by
 * hearth-vmm with --root / (issue 4, section 2): a one-liner, a script file,
 * stdin, the guest's own /tmp, standard-library results checked against
 * values computed independently on the host, an uncaught exception,
 * sys.exit, and the clear refusals of fork and threads.
 *
 * The guest's /tmp is hearth's in-memory tmpfs, not the host's, so the
 * files these tests hand python live in a scratch directory under /var/tmp
 * (main() points the fixture's TMPDIR there) and are passed by absolute
 * path: with --root /, a host path is the same path in the guest. */
#include "itest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"
/* Outside /tmp, which the guest sees as its own empty tmpfs. */
#define HOST_SCRATCH "/var/tmp"
#define MAX_ARGS 16

/* Skips (or, with HEARTH_REQUIRE_KVM=1, fails) without KVM or python3. */
static void require_kvm_and_python(void) {
  itest_require_kvm();
  struct stat st;
  const char *problem = "not a regular file";
  if (stat(PYTHON, &st) != 0 || (S_ISREG(st.st_mode) && access(PYTHON, X_OK) != 0))
    problem = strerror(errno);
  else if (S_ISREG(st.st_mode))
    return;
  char why[160];
  snprintf(why, sizeof why, "cannot run %s: %s (scripts/deps.sh installs Debian's python3)", PYTHON,
           problem);
  itest_skip_unless_required(why);
}

/* hearth-vmm --root / [--trace-syscalls=FILE] -- python3 ARGS..., with `in`
 * on stdin. `args` is NULL-terminated. */
static const struct spawn_result *run_python(struct itest *t, bool trace, const void *in,
                                             size_t in_len, const char *const *args) {
  require_kvm_and_python();
  static char trace_flag[PATH_MAX + 32];
  snprintf(trace_flag, sizeof trace_flag, "--trace-syscalls=%s", t->trace);
  const char *argv[MAX_ARGS] = {"--root", "/"};
  size_t n = 2;
  if (trace)
    argv[n++] = trace_flag;
  argv[n++] = "--";
  argv[n++] = PYTHON;
  for (size_t i = 0; args[i] != NULL; i++) {
    if (n + 1 >= MAX_ARGS)
      fail_msg("too many python arguments");
    argv[n++] = args[i];
  }
  argv[n] = NULL;
  return itest_vmm_args(t, in, in_len, argv);
}

#define PY(t, ...) run_python((t), false, NULL, 0, (const char *const[]){__VA_ARGS__, NULL})
#define PY_TRACED(t, ...) run_python((t), true, NULL, 0, (const char *const[]){__VA_ARGS__, NULL})

/* The absolute path of `name` in the scratch directory: also its path in
 * the guest. */
static const char *scratch_path(const struct itest *t, const char *name, char *path, size_t cap) {
  int n = snprintf(path, cap, "%s/%s", t->root, name);
  if (n < 0 || (size_t)n >= cap)
    fail_msg("path too long: %s/%s", t->root, name);
  return path;
}

/* Writes a file into the scratch directory; returns its absolute path. */
static const char *put_host_file(struct itest *t, const char *name, const char *text, char *path,
                                 size_t cap) {
  char rel[PATH_MAX];
  snprintf(rel, sizeof rel, "/%s", name);
  itest_put_file(t, rel, text, strlen(text), 0644);
  return scratch_path(t, name, path, cap);
}

/* Reads the syscall trace; fails the test when it cannot. Caller frees. */
static char *read_trace(const struct itest *t) {
  FILE *f = fopen(t->trace, "re");
  if (f == NULL)
    fail_msg("cannot open the trace %s: %s", t->trace, strerror(errno));
  char *text = NULL;
  size_t cap = 0;
  ssize_t n = getdelim(&text, &cap, '\0', f); /* the whole file: a trace has no NUL */
  fclose(f);
  if (n < 0)
    fail_msg("cannot read the trace %s", t->trace);
  return text;
}

/* The trace has a line for system call `name` whose result contains `result`
 * (e.g. "= -1 ENOSYS"). */
static void assert_traced(const struct itest *t, const char *name, const char *result) {
  char *text = read_trace(t);
  size_t name_len = strlen(name);
  bool found = false;
  for (char *line = strtok(text, "\n"); line && !found; line = strtok(NULL, "\n"))
    found = strncmp(line, name, name_len) == 0 && line[name_len] == '(' && strstr(line, result);
  free(text);
  if (!found)
    fail_msg("no %s(...) %s in the trace %s", name, result, t->trace);
}

static void test_json_one_liner(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r = PY(t, "-c", "import json, sys; print(json.dumps({\"ok\": True}))");
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "{\"ok\": true}\n");
}

/* A script file with arguments, which reads a data file beside it and
 * imports a module from its own directory. That directory is read-only to
 * the guest, so python cannot cache the module's bytecode there (it tries). */
static void test_script_file(void **state) {
  struct itest *t = *state;
  static const char script[] = "import os, sys\n"
                               "import helper\n"
                               "here = os.path.dirname(os.path.abspath(__file__))\n"
                               "with open(os.path.join(here, 'data.txt'), encoding='utf-8') as f:\n"
                               "    words = f.read().split()\n"
                               "print('script', sys.argv[0])\n"
                               "print('args', sys.argv[1:])\n"
                               "print('words', len(words), sorted(set(words)))\n"
                               "print(helper.greeting(), __name__)\n";
  static const char helper[] = "def greeting():\n    return 'hello from helper'\n";
  char path[PATH_MAX], scratch[PATH_MAX];
  put_host_file(t, "data.txt", "pear apple fig apple\n", scratch, sizeof scratch);
  put_host_file(t, "helper.py", helper, scratch, sizeof scratch);
  put_host_file(t, "script.py", script, path, sizeof path);
  const struct spawn_result *r = PY(t, path, "one", "two words");
  char want[PATH_MAX + 256];
  snprintf(want, sizeof want,
           "script %s\nargs ['one', 'two words']\nwords 4 ['apple', 'fig', 'pear']\n"
           "hello from helper __main__\n",
           path);
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, want);
  scratch_path(t, "__pycache__", scratch, sizeof scratch);
  if (access(scratch, F_OK) == 0)
    fail_msg("the guest created %s on the host: its root must be read-only", scratch);
}

/* What goes in on stdin comes back out exactly: several lines, UTF-8, and
 * more than one pipe buffer (the VMM's read must block, not report EOF). */
static void test_stdin_read(void **state) {
  struct itest *t = *state;
  static const char head[] = "first line\nsecond line\n\xc3\xa9t\xc3\xa9 \xe2\x9c\x93\n";
  size_t len = strlen(head) + 3000 * 64;
  char *in = malloc(len + 1);
  assert_non_null(in);
  memcpy(in, head, strlen(head));
  for (size_t at = strlen(head); at < len; at += 64)
    snprintf(in + at, 65, "%063zu\n", at); /* 63 digits and a newline */
  size_t chars = 0;                        /* code points: bytes that do not continue one */
  for (size_t i = 0; i < len; i++)
    chars += ((unsigned char)in[i] & 0xc0) != 0x80;
  const struct spawn_result *r = run_python(
      t, false, in, len,
      (const char *const[]){"-c",
                            "import sys; data = sys.stdin.read(); sys.stdout.write(data); "
                            "print('characters read:', len(data), file=sys.stderr)",
                            NULL});
  char want_err[64];
  snprintf(want_err, sizeof want_err, "characters read: %zu\n", chars);
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, in);
  assert_vmm_stderr_has(r, want_err);
  free(in);
}

/* The guest's /tmp is writable and its own: it starts empty, holds what
 * python writes there, and none of it reaches the host's /tmp. */
static void test_tmp_write_read(void **state) {
  struct itest *t = *state;
  char name[64], code[2048];
  snprintf(name, sizeof name, "hearth-itest-python-%ld.txt", (long)getpid());
  snprintf(
      code, sizeof code,
      "import os, tempfile\n"
      "p = '/tmp/%s'\n"
      "print(os.listdir('/tmp'))\n"
      "with open(p, 'w') as f: f.write('written in the guest\\n')\n"
      "with open(p, 'a') as f: f.write('and appended\\n')\n"
      "os.rename(p, p + '.moved')\n"
      "with open(p + '.moved') as f: print(f.read(), end='')\n"
      "print(os.path.getsize(p + '.moved'), os.path.exists(p), os.listdir('/tmp'))\n"
      "with tempfile.TemporaryDirectory() as d:\n"
      "    with open(os.path.join(d, 'x'), 'wb') as f: f.write(b'12345')\n"
      "    print(d.startswith('/tmp/'), os.listdir(d), os.stat(os.path.join(d, 'x')).st_size)\n"
      "print(os.listdir('/tmp'))\n",
      name);
  const struct spawn_result *r = PY(t, "-c", code);
  char want[512];
  snprintf(want, sizeof want,
           "[]\nwritten in the guest\nand appended\n34 False ['%s.moved']\n"
           "True ['x'] 5\n['%s.moved']\n",
           name, name);
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, want);
  char host[PATH_MAX];
  snprintf(host, sizeof host, "/tmp/%s.moved", name);
  if (access(host, F_OK) == 0)
    fail_msg("the guest's /tmp file appeared on the host as %s", host);
}

/* Imports alone prove nothing: a wrong syscall rewrite in libcrypto or libz
 * corrupts results silently. Each line is checked against a value computed
 * independently on the host:
 *   sha256, sha512:  printf 'hearth runs python' | sha256sum   (| openssl dgst -sha512)
 *   sha256 of 1.2 MB: printf 'hearth%.0s' $(seq 200000) | sha256sum
 *   hmac-sha256:     printf 'hearth runs python' | openssl dgst -sha256 -hmac 'key for hearth'
 *   pbkdf2:          openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt pass:password
 *                      -kdfopt salt:salt -kdfopt iter:1000 PBKDF2
 *   zlib crc32, length: printf 'The quick brown fox jumps over the lazy dog\n%.0s' $(seq 100)
 *                      | gzip -c | tail -c8 | od -An -tx4   (the gzip trailer: CRC32, size)
 *   decimal:         1/7 = 0.142857 recurring, to 28 significant digits rounded half-even
 *   base64:          printf 'hearth\000\377\376' | base64
 *   datetime:        date -u -d '2026-11-25 +40 days' +%F; date -u -d 2026-11-25 +%A
 *   random:          CPython's Mersenne Twister seeded with 2026, as the host's own python3
 *                      computes it natively (seeded output is documented as reproducible)
 *   re, collections: worked out by hand. */
static const char stdlib_script[] =
    "import base64, collections, datetime, decimal, hashlib, hmac, random, re, ssl, zlib\n"
    "msg = b'hearth runs python'\n"
    "print('sha256', hashlib.sha256(msg).hexdigest())\n"
    "print('sha512', hashlib.sha512(msg).hexdigest())\n"
    "print('sha256-1.2MB', hashlib.sha256(b'hearth' * 200000).hexdigest())\n"
    "print('hmac-sha256', hmac.new(b'key for hearth', msg, 'sha256').hexdigest())\n"
    "print('pbkdf2', hashlib.pbkdf2_hmac('sha256', b'password', b'salt', 1000).hex())\n"
    "data = b'The quick brown fox jumps over the lazy dog\\n' * 100\n"
    "packed = zlib.compress(data, 9)\n"
    "print('zlib', len(data), zlib.decompress(packed) == data, len(packed) < len(data),\n"
    "      '%08x' % zlib.crc32(data))\n"
    "D = decimal.Decimal\n"
    "decimal.getcontext().prec = 28\n"
    "print('decimal', D(1) / D(7), D('0.1') + D('0.2'), D('1.10') * 3)\n"
    "print('base64', base64.b64encode(b'hearth\\x00\\xff\\xfe').decode(),\n"
    "      base64.b64decode('aGVhcnRoAP/+') == b'hearth\\x00\\xff\\xfe')\n"
    "print('re', re.sub(r'(\\w+)@(\\w+)\\.org', r'\\2:\\1', 'mail alice@hearth.org, "
    "bob@python.org'),\n"
    "      re.findall(r'\\d+', 'a1b22c333'))\n"
    "utc = datetime.timezone.utc\n"
    "print('datetime', datetime.datetime(2026, 11, 25, 14, 30, 5, 123456, "
    "tzinfo=utc).isoformat(),\n"
    "      (datetime.date(2026, 11, 25) + datetime.timedelta(days=40)).isoformat(),\n"
    "      datetime.date(2026, 11, 25).strftime('%A'),\n"
    "      datetime.datetime.fromisoformat('2026-11-25T14:30:05+01:00').astimezone(utc)"
    ".isoformat())\n"
    "print('random', random.Random(2026).getrandbits(32), random.Random(2026).random())\n"
    "d = collections.deque(range(5))\n"
    "d.rotate(2)\n"
    "print('collections', collections.Counter('abracadabra').most_common(2), list(d))\n"
    "ctx = ssl.create_default_context()\n"
    "print('ssl', ssl.OPENSSL_VERSION.split()[0], ctx.verify_mode == ssl.CERT_REQUIRED,\n"
    "      len(ssl.RAND_bytes(16)))\n";

static const char stdlib_expected[] =
    "sha256 a69bae9da83c407381a76427ae1b9f088ecb812ba2a5da13d382c6da9b5fc5e3\n"
    "sha512 f3e9e2b6d9d471580941080d1b24ed78021afa7370ff714996e605a1f07b905a"
    "6abc9af154f0bc065e13f76b93f4acef5d41262e8ca2140a7e2488b6fb3f0637\n"
    "sha256-1.2MB 3dc5e007d7728f8a4b330fc202c74a07f353999712671f78ba5f5195b2af3ed3\n"
    "hmac-sha256 007c9f424118885ec1dc2a2b4fc3c121e9bad62e247744491f688a8213e4828c\n"
    "pbkdf2 632c2812e46d4604102ba7618e9d6d7d2f8128f6266b4a03264d2a0460b7dcb3\n"
    "zlib 4400 True True db2eee73\n"
    "decimal 0.1428571428571428571428571429 0.3 3.30\n"
    "base64 aGVhcnRoAP/+ True\n"
    "re mail hearth:alice, python:bob ['1', '22', '333']\n"
    "datetime 2026-11-25T14:30:05.123456+00:00 2027-01-04 Wednesday 2026-11-25T13:30:05+00:00\n"
    "random 511616025 0.11911988496396309\n"
    "collections [('a', 5), ('b', 2)] [3, 4, 0, 1, 2]\n"
    "ssl OpenSSL True 16\n";

static void test_stdlib_known_values(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r = PY(t, "-c", stdlib_script);
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, stdlib_expected);
}

/* An uncaught exception in a script file: the traceback names the file, the
 * lines and the source of each frame (python reads the file again for it),
 * then the exception; exit status 1. */
static void test_uncaught_exception(void **state) {
  struct itest *t = *state;
  static const char script[] = "def inner(n):\n"
                               "    raise ValueError('boom %d' % n)\n"
                               "\n"
                               "def outer():\n"
                               "    inner(42)\n"
                               "\n"
                               "print('before')\n"
                               "outer()\n"
                               "print('never')\n";
  char path[PATH_MAX], line[PATH_MAX + 64];
  put_host_file(t, "fail.py", script, path, sizeof path);
  const struct spawn_result *r = PY(t, path);
  assert_vmm_status(r, 1);
  assert_vmm_stdout(r, "before\n");
  assert_vmm_stderr_has(r, "Traceback (most recent call last):\n");
  snprintf(line, sizeof line, "  File \"%s\", line 8, in <module>\n", path);
  assert_vmm_stderr_has(r, line);
  snprintf(line, sizeof line, "  File \"%s\", line 2, in inner\n", path);
  assert_vmm_stderr_has(r, line);
  assert_vmm_stderr_has(r, "    raise ValueError('boom %d' % n)\n");
  assert_vmm_stderr_has(r, "ValueError: boom 42\n");
}

static void test_sys_exit_status(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r = PY(t, "-c", "import sys; print('leaving'); sys.exit(3)");
  assert_vmm_status(r, 3);
  assert_vmm_stdout(r, "leaving\n"); /* buffered stdout flushed on the way out */
}

/* hearth has no processes yet: fork gets ENOSYS, which python raises as
 * OSError, and hearth-vmm says in its log why. */
static void test_fork_refused(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r = PY_TRACED(t, "-c", "import os; os.fork(); print('forked')");
  assert_vmm_status(r, 1);
  assert_vmm_stdout(r, "");
  assert_vmm_stderr_has(r, "OSError: [Errno 38] Function not implemented\n");
  assert_vmm_stderr_has(r, "creation is not supported");
  assert_traced(t, "clone", "= -1 ENOSYS");
}

/* No threads yet either: glibc's pthread_create gets EAGAIN from clone (as
 * at a thread limit) after clone3's ENOSYS, and python says so. */
static void test_thread_refused(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r =
      PY_TRACED(t, "-c", "import threading; threading.Thread(target=print).start()");
  assert_vmm_status(r, 1);
  assert_vmm_stdout(r, "");
  assert_vmm_stderr_has(r, "RuntimeError: can't start new thread\n");
  assert_vmm_stderr_has(r, "creation is not supported");
  assert_traced(t, "clone", "= -1 EAGAIN");
}

/* The guest has one CPU: glibc counts it from /sys/devices/system/cpu/online
 * (hearth's, not the host's), python's affinity from sched_getaffinity. */
static void test_cpu_count_is_one(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r =
      PY(t, "-c", "import os; print(os.cpu_count(), len(os.sched_getaffinity(0)))");
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "1 1\n");
}

/* /proc/self/maps names python's own code (by its real path), libc's code
 * mapped by the dynamic loader, and the stack. */
static void test_proc_self_maps(void **state) {
  struct itest *t = *state;
  const struct spawn_result *r =
      PY(t, "-c",
         "import os, sys\n"
         "m = [l.split(None, 5) for l in open('/proc/self/maps').read().splitlines()]\n"
         "code = lambda p: any(len(l) == 6 and l[1] == 'r-xp' and p(l[5]) for l in m)\n"
         "print(code(lambda n: n == os.path.realpath(sys.executable)),\n"
         "      code(lambda n: n.endswith('/libc.so.6')),\n"
         "      any(len(l) == 6 and l[5] == '[stack]' for l in m))");
  assert_vmm_status(r, 0);
  assert_vmm_stdout(r, "True True True\n");
}

static const struct CMUnitTest tests[] = {
    HOST_TEST(test_cpu_count_is_one),    HOST_TEST(test_proc_self_maps),
    HOST_TEST(test_json_one_liner),      HOST_TEST(test_script_file),
    HOST_TEST(test_stdin_read),          HOST_TEST(test_tmp_write_read),
    HOST_TEST(test_stdlib_known_values), HOST_TEST(test_uncaught_exception),
    HOST_TEST(test_sys_exit_status),     HOST_TEST(test_fork_refused),
    HOST_TEST(test_thread_refused),
};

/* The fixture's scratch directory goes under $TMPDIR: put it in /var/tmp,
 * which the guest sees as the host's, unlike /tmp. */
int main(int argc, char **argv) {
  if (setenv("TMPDIR", HOST_SCRATCH, 1) != 0) {
    perror("setenv TMPDIR");
    return 2;
  }
  return itest_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
