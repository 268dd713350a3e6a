/* test_init.c - hearth-init in a real microVM: hearth-vmm runs it with a
 * vsock Unix socket, and the test plays the host (Firecracker's CONNECT
 * handshake, then protocol frames): HELLO, the code unpacked into the
 * VM's in-memory /code (LOADED's counts), and the ERROR frames for refused
 * code, a missing handler, /code's own caps and a host that breaks the
 * protocol. The exec of the runtime after INVOKE is covered by the
 * `hearth run` tests (test_run.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "converse.h"
#include "itest.h"
#include "proto/frame_io.h"
#include "proto/json.h"
#include "tarbuild.h"

/* One hearth-init VM and the host's connection to it. */
struct init_vm {
  struct converse vmm;
  int conn;
  char uds[PATH_MAX], err_path[PATH_MAX];
};

/* Starts hearth-vmm running hearth-init (extra: more VMM flags, NULL-
 * terminated), waits until the guest listens (--ready-fd: the VMM's
 * stdout), connects and reads HELLO into hello[cap]. */
static void start_init(struct itest *t, struct init_vm *vm, const char *const *extra, char *hello,
                       size_t cap) {
  itest_require_kvm();
  int fd = open(HEARTH_INIT_PATH, O_RDONLY);
  assert_true(fd >= 0);
  static char bin[1 << 20];
  ssize_t n = read(fd, bin, sizeof bin);
  close(fd);
  assert_true(n > 0 && n < (ssize_t)sizeof bin);
  itest_put_file(t, "/hearth-init", bin, (size_t)n, 0755);

  int n_uds = snprintf(vm->uds, sizeof vm->uds, "%s/v.sock", t->dir);
  int n_err = snprintf(vm->err_path, sizeof vm->err_path, "%s/vmm.err", t->dir);
  assert_true(n_err > 0 && (size_t)n_err < sizeof vm->err_path);
  assert_true(n_uds > 0 && (size_t)n_uds < sizeof((struct sockaddr_un){0}).sun_path);
  const char *argv[32] = {HEARTH_VMM_PATH,
                          "--guest-pages",
                          itest_guest_pages,
                          "--root",
                          t->root,
                          "--vsock-uds",
                          vm->uds,
                          "--ready-fd",
                          "1",
                          "--timeout",
                          "60"};
  size_t k = 11;
  for (; extra && *extra; extra++)
    argv[k++] = *extra;
  const char *tail[] = {"--", "/hearth-init", "--image", "base", "--runtime", "native", NULL};
  for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++)
    argv[k++] = tail[i];
  assert_int_equal(converse_start(&vm->vmm, HEARTH_VMM_PATH, (char *const *)argv,
                                  itest_vmm_environment(), vm->err_path),
                   0);
  char line[64];
  if (converse_read_line(&vm->vmm, line, sizeof line, 30000) != 0 || strcmp(line, "ready") != 0)
    fail_msg("hearth-init never listened (see %s)", vm->err_path);

  vm->conn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strcpy(addr.sun_path, vm->uds);
  assert_int_equal(connect(vm->conn, (struct sockaddr *)&addr, sizeof addr), 0);
  struct timeval limit = {.tv_sec = 30}; /* a hung VM fails the test, not ctest */
  setsockopt(vm->conn, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  const char connect_line[] = "CONNECT 52\n";
  assert_int_equal(write(vm->conn, connect_line, sizeof connect_line - 1),
                   (ssize_t)sizeof connect_line - 1);
  char ok[32];
  size_t got = 0;
  while (got < sizeof ok - 1 && (got == 0 || ok[got - 1] != '\n'))
    assert_int_equal(read(vm->conn, ok + got++, 1), 1);
  ok[got] = '\0';
  assert_memory_equal(ok, "OK ", 3);
  struct hf_header h;
  assert_int_equal(hf_read_control(vm->conn, hello, cap, &h), HF_HELLO);
}

/* Closes the connection, waits for the VM; its exit status. stderr of the
 * VM (hearth-init's log lines included) lands in err[cap]. */
static int finish_init(struct init_vm *vm, char *err, size_t cap) {
  close(vm->conn);
  int status = converse_finish(&vm->vmm, 30000);
  FILE *f = fopen(vm->err_path, "r");
  size_t n = f ? fread(err, 1, cap - 1, f) : 0;
  err[n] = '\0';
  if (f)
    fclose(f);
  return status;
}

static void send_load(struct init_vm *vm, const char *json, const struct tarbuild *tb,
                      size_t piece) {
  assert_int_equal(hf_write_frame(vm->conn, HF_LOAD, 0, json, (uint32_t)strlen(json)), 0);
  for (size_t pos = 0; pos < tb->len; pos += piece) {
    size_t n = tb->len - pos < piece ? tb->len - pos : piece;
    assert_int_equal(hf_write_frame(vm->conn, HF_DATA, HF_STREAM_CODE, tb->p + pos, (uint32_t)n),
                     0);
  }
  assert_int_equal(hf_write_frame(vm->conn, HF_END, HF_STREAM_CODE, NULL, 0), 0);
}

/* The next frame is ERROR with this code and a message holding part. */
static void expect_error(struct init_vm *vm, const char *code, const char *part) {
  char buf[8192], s[4200];
  struct hf_header h;
  struct json_doc doc;
  int type = hf_read_control(vm->conn, buf, sizeof buf, &h);
  if (type != HF_ERROR)
    fail_msg("want ERROR %s, got %d: %s", code, type, type > 0 ? buf : "");
  assert_int_equal(json_parse(&doc, buf, h.length), 0);
  assert_true(json_get_string(&doc, "code", s, sizeof s) > 0);
  assert_string_equal(s, code);
  assert_true(json_get_string(&doc, "message", s, sizeof s) > 0);
  if (!strstr(s, part))
    fail_msg("ERROR message \"%s\" lacks \"%s\"", s, part);
}

static void assert_has(const char *text, const char *part) {
  if (!strstr(text, part))
    fail_msg("\"%s\" not in:\n%s", part, text);
}

/* HELLO, then a bundle (nested directories, a 100 KiB executable spread
 * over many DATA frames, a symlink, a pax long path) unpacked into /code:
 * LOADED counts every entry and byte. */
static void test_hello_load_loaded(void **state) {
  struct itest *t = *state;
  struct init_vm vm;
  char hello[512], s[64], err[8192];
  start_init(t, &vm, NULL, hello, sizeof hello);
  struct json_doc doc;
  uint64_t v;
  assert_int_equal(json_parse(&doc, hello, strlen(hello)), 0);
  assert_int_equal(json_get_u64(&doc, "protocol", &v), 0);
  assert_int_equal(v, 1);
  assert_int_equal(json_get_string(&doc, "image", s, sizeof s), 4);
  assert_string_equal(s, "base");
  assert_int_equal(json_get_string(&doc, "runtime", s, sizeof s), 6);
  assert_string_equal(s, "native");
  assert_int_equal(json_get_string(&doc, "boot_id", s, sizeof s), 32);
  assert_int_equal(strspn(s, "0123456789abcdef"), 32);

  struct tarbuild tb = {0};
  static char big[100001];
  for (size_t i = 0; i < sizeof big - 1; i++)
    big[i] = (char)('A' + i % 26);
  char longpath[300];
  snprintf(longpath, sizeof longpath, "lib/%0200d/deep.txt", 7);
  tb_dir(&tb, "bin");
  tb_file(&tb, "bin/handler", big, 0755);
  tb_file(&tb, "lib/a.py", "print('a')\n", 0644);
  tb_symlink(&tb, "lib/link", "a.py");
  tb_pax(&tb, 'x', "path", longpath);
  tb_file(&tb, "placeholder", "deep", 0644);
  tb_end(&tb);
  send_load(&vm, "{\"format\":\"tar\",\"handler\":\"bin/handler\"}", &tb, 32768);
  char buf[256];
  struct hf_header h;
  assert_int_equal(hf_read_control(vm.conn, buf, sizeof buf, &h), HF_LOADED);
  /* bin, handler, lib, a.py, link, lib/000..7, deep.txt */
  assert_string_equal(buf, "{\"files\":7,\"bytes\":100015,\"runtime\":\"native\"}");
  tb_free(&tb);
  /* The host goes away instead of sending INVOKE. */
  assert_int_equal(finish_init(&vm, err, sizeof err), 1);
  assert_has(err, "hearth-init: invoke: the host closed the connection");
}

static void test_bad_code(void **state) {
  struct itest *t = *state;
  struct init_vm vm;
  char hello[512], err[8192];
  start_init(t, &vm, NULL, hello, sizeof hello);
  struct tarbuild tb = {0};
  tb_file(&tb, "a/ok", "fine", 0644);
  tb_symlink(&tb, "a/l", "../../x");
  tb_end(&tb);
  send_load(&vm, "{\"format\":\"tar\"}", &tb, 65536);
  expect_error(&vm, "bad_code", "a/l -> ../../x: symlink target leaves the code tree");
  tb_free(&tb);
  assert_int_equal(finish_init(&vm, err, sizeof err), 1);
  assert_has(err, "hearth-init: bad_code: a/l -> ../../x");
}

static void test_handler_missing(void **state) {
  struct itest *t = *state;
  struct init_vm vm;
  char hello[512], err[8192];
  start_init(t, &vm, NULL, hello, sizeof hello);
  struct tarbuild tb = {0};
  tb_file(&tb, "handler.sh", "#!/bin/sh\n", 0755);
  tb_file(&tb, "data", "not executable", 0644);
  tb_end(&tb);
  send_load(&vm, "{\"format\":\"tar\"}", &tb, 65536); /* default: "handler" */
  expect_error(&vm, "handler_missing", "handler handler");
  tb_free(&tb);
  assert_int_equal(finish_init(&vm, err, sizeof err), 1);
  assert_has(err, "hearth-init: handler_missing");
}

/* /code's caps are the VMM's (--code-files): past them the extraction
 * fails with the file system's error, reported as bad_code. */
static void test_code_dir_cap(void **state) {
  struct itest *t = *state;
  struct init_vm vm;
  char hello[512], err[8192];
  const char *extra[] = {"--code-files", "3", NULL};
  start_init(t, &vm, extra, hello, sizeof hello);
  struct tarbuild tb = {0};
  tb_file(&tb, "one", "1", 0644);
  tb_file(&tb, "two", "2", 0644);
  tb_file(&tb, "three", "3", 0644);
  tb_file(&tb, "four", "4", 0644);
  tb_end(&tb);
  send_load(&vm, "{\"format\":\"tar\"}", &tb, 65536);
  expect_error(&vm, "bad_code", "four:");
  tb_free(&tb);
  assert_int_equal(finish_init(&vm, err, sizeof err), 1);
}

static void test_protocol_breach(void **state) {
  struct itest *t = *state;
  struct init_vm vm;
  char hello[512], err[8192];
  start_init(t, &vm, NULL, hello, sizeof hello);
  /* A DATA frame where LOAD belongs. */
  assert_int_equal(hf_write_frame(vm.conn, HF_DATA, HF_STREAM_CODE, "tar?", 4), 0);
  expect_error(&vm, "protocol", "load");
  assert_int_equal(finish_init(&vm, err, sizeof err), 1);
  assert_has(err, "hearth-init: protocol:");
}

static const struct CMUnitTest tests[] = {
    HOST_TEST(test_hello_load_loaded), HOST_TEST(test_bad_code),
    HOST_TEST(test_handler_missing),   HOST_TEST(test_code_dir_cap),
    HOST_TEST(test_protocol_breach),
};

ITEST_MAIN(tests)
