/* fakevmm.c - a stand-in for hearth-vmm that plays the guest's side of the
 * protocol from a script, so test_run.c can drive `hearth run` (through
 * HEARTH_VMM) into every corner without KVM: it takes hearth-vmm's flags,
 * listens on --vsock-uds, writes "ready\n" to --ready-fd, answers
 * "CONNECT 52" and then speaks frames with the C codec (proto/frame_io.h).
 *
 * FAKEVMM_MODE picks the script:
 *   echo        LOADED after the code, then each EVENT piece straight back
 *               as RESPONSE while the event still arrives (a host that does
 *               not read while it sends deadlocks here), then a LOG line
 *               "content_type=<T> function=<F> env=<K=V,...> code=<files>",
 *               RESULT ok
 *   refuse      hearth-vmm refusing the image: a line, exit 125, never ready
 *   crash       dies of SIGSEGV after INVOKE
 *   hang        never answers INVOKE
 *   bad_code    ERROR bad_code in answer to LOAD
 *   garbage     bytes that are not a frame after INVOKE
 *   status3     RESULT error, exit status 3
 * Every path it creates is under the VM directory hearth gave it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/frame_io.h"
#include "proto/json.h"

#define PIECE (256u << 10)

static void die(const char *what) {
  fprintf(stderr, "hearth-vmm: error: fakevmm: %s: %s\n", what, strerror(errno));
  exit(125);
}

static const char *flag(int argc, char **argv, const char *name) {
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], name) == 0)
      return argv[i + 1];
  return NULL;
}

/* Listens on path, says ready, accepts one connection and answers CONNECT. */
static int serve_connect(const char *path, int ready_fd) {
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
  if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, 4) != 0)
    die("listen");
  if (write(ready_fd, "ready\n", 6) != 6)
    die("ready");
  close(ready_fd);
  int c = accept(l, NULL, NULL);
  if (c < 0)
    die("accept");
  char line[32];
  size_t n = 0;
  while (n < sizeof line - 1 && read(c, line + n, 1) == 1 && line[n] != '\n')
    n++;
  line[n] = '\0';
  if (strcmp(line, "CONNECT 52") != 0)
    die("CONNECT line");
  if (write(c, "OK 1073741824\n", 14) != 14)
    die("OK line");
  return c;
}

static void send_json(int c, uint8_t type, const char *json) {
  if (hf_write_frame(c, type, HF_STREAM_NONE, json, (uint32_t)strlen(json)) < 0)
    die("send");
}

/* Reads a control frame of type want into buf. */
static void read_control(int c, int want, char *buf, size_t cap) {
  struct hf_header h;
  if (hf_read_control(c, buf, cap, &h) != want)
    die("control frame");
}

/* The CODE stream: its bytes counted, checked to end with END. */
static unsigned long long drain_code(int c) {
  static char buf[PIECE];
  unsigned long long total = 0;
  for (;;) {
    struct hf_header h;
    if (hf_read_header(c, &h) < 0 || h.stream != HF_STREAM_CODE)
      die("CODE stream");
    if (h.type == HF_END)
      return total;
    if (hf_read_exact(c, buf, h.length) < 0)
      die("CODE data");
    total += h.length;
  }
}

/* INVOKE's members for the LOG line. */
static void describe_invoke(const char *json, char *out, size_t cap) {
  struct json_doc d;
  char ct[256] = "", fn[256] = "", envs[512] = "", k[128], v[128];
  if (json_parse(&d, json, strlen(json)) < 0)
    die("INVOKE JSON");
  json_get_string(&d, "content_type", ct, sizeof ct);
  json_get_string(&d, "function", fn, sizeof fn);
  struct json_object_iter it;
  if (json_get_object(&d, "env", &it) == 0)
    while (json_object_next_string(&it, k, sizeof k, v, sizeof v) == 1)
      snprintf(envs + strlen(envs), sizeof envs - strlen(envs), "%s%s=%s", envs[0] ? "," : "", k,
               v);
  if (snprintf(out, cap, "content_type=%s function=%s env=%s", ct, fn, envs) >= (int)cap)
    die("INVOKE too long for the log line");
}

/* Each EVENT piece straight back as RESPONSE, as it arrives. */
static unsigned long long echo_event(int c) {
  static char buf[PIECE];
  unsigned long long total = 0;
  for (;;) {
    struct hf_header h;
    if (hf_read_header(c, &h) < 0 || h.stream != HF_STREAM_EVENT)
      die("EVENT stream");
    if (h.type == HF_END)
      return total;
    if (hf_read_exact(c, buf, h.length) < 0 ||
        hf_write_data(c, HF_STREAM_RESPONSE, buf, h.length) < 0)
      die("echo");
    total += h.length;
  }
}

static void finish(int c, const char *log, const char *result) {
  if (hf_write_frame(c, HF_END, HF_STREAM_RESPONSE, NULL, 0) < 0 ||
      hf_write_data(c, HF_STREAM_LOG, log, strlen(log)) < 0 ||
      hf_write_frame(c, HF_END, HF_STREAM_LOG, NULL, 0) < 0)
    die("finish");
  send_json(c, HF_RESULT, result);
}

static void invoke(int c, const char *mode, unsigned long long code_bytes) {
  static char json[HF_CONTROL_MAX + 1];
  read_control(c, HF_INVOKE, json, sizeof json);
  if (strcmp(mode, "crash") == 0) {
    signal(SIGSEGV, SIG_DFL); /* past a sanitizer's handler: a real death by signal */
    raise(SIGSEGV);
  }
  if (strcmp(mode, "hang") == 0)
    pause();
  if (strcmp(mode, "garbage") == 0) {
    if (write(c, "not a frame at all", 18) < 0)
      die("garbage");
    pause();
  }
  char log[1024], result[256];
  describe_invoke(json, log, sizeof log - 64);
  snprintf(log + strlen(log), 64, " code=%llu\n", code_bytes);
  unsigned long long n = echo_event(c);
  if (strcmp(mode, "status3") == 0)
    snprintf(result, sizeof result,
             "{\"status\":\"error\",\"exit_status\":3,\"duration_us\":5,\"response_bytes\":%llu}",
             n);
  else
    snprintf(result, sizeof result,
             "{\"status\":\"ok\",\"exit_status\":0,\"duration_us\":1800,\"response_bytes\":%llu,"
             "\"response_truncated\":false,\"log_bytes\":%zu,\"logs_truncated\":false}",
             n, strlen(log));
  finish(c, log, result);
}

int main(int argc, char **argv) {
  const char *mode = getenv("FAKEVMM_MODE") ? getenv("FAKEVMM_MODE") : "echo";
  const char *uds = flag(argc, argv, "--vsock-uds"), *ready = flag(argc, argv, "--ready-fd");
  if (!uds || !ready || !flag(argc, argv, "--image") || !flag(argc, argv, "--timeout"))
    die("flags");
  if (strcmp(mode, "refuse") == 0) {
    fprintf(stderr, "hearth-vmm: error: image refused: fake: the signature does not match\n");
    return 125;
  }
  signal(SIGPIPE, SIG_IGN);
  int c = serve_connect(uds, atoi(ready));
  send_json(c, HF_HELLO,
            "{\"protocol\":1,\"image\":\"fake\",\"runtime\":\"native\",\"boot_id\":\"0\"}");
  static char json[HF_CONTROL_MAX + 1];
  read_control(c, HF_LOAD, json, sizeof json);
  if (strcmp(mode, "bad_code") == 0) {
    hf_send_error(c, "bad_code", "fake: the archive is not to my liking");
    return 1;
  }
  unsigned long long code = drain_code(c);
  char loaded[128];
  snprintf(loaded, sizeof loaded, "{\"files\":1,\"bytes\":%llu,\"runtime\":\"native\"}", code);
  send_json(c, HF_LOADED, loaded);
  invoke(c, mode, code);
  return 0;
}
