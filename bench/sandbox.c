/* sandbox.c - starts and deletes the long-running gVisor sandbox that the
 * "gVisor exec" runs go into. runsc takes ownership of the files given as a
 * detached sandbox's stdio and keeps them open, so they are a file in the
 * work directory rather than pipes (or /dev/null). */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runcmd.h"

/* The host's root read-only (as `runsc do` gives it, without its tmpfs
 * overlay: nothing measured writes), its own /proc, namespaces of its own
 * and a process that waits until the sandbox is deleted. */
static const char config_json[] =
    "{\"ociVersion\": \"1.0.0\",\n"
    " \"process\": {\"terminal\": false, \"user\": {\"uid\": 0, \"gid\": 0},\n"
    "             \"args\": [\"/bin/sleep\", \"infinity\"],\n"
    "             \"env\": "
    "[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\n"
    "             \"cwd\": \"/\"},\n"
    " \"root\": {\"path\": \"/\", \"readonly\": true},\n"
    " \"hostname\": \"hearth-bench\",\n"
    " \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"}],\n"
    " \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": "
    "\"ipc\"},\n"
    "                            {\"type\": \"uts\"}, {\"type\": \"mount\"}]}}\n";

static int write_config(const char *bundle) {
  char path[PATH_MAX];
  int n = snprintf(path, sizeof path, "%s/config.json", bundle);
  if (n < 0 || (size_t)n >= sizeof path)
    return -ENAMETOOLONG;
  FILE *f = fopen(path, "we");
  if (!f)
    return -errno;
  int rc = fputs(config_json, f) < 0 ? -EIO : 0;
  if (fclose(f) != 0 && rc == 0)
    rc = -errno;
  return rc;
}

/* argv = runsc, its flags, then the words of `tail` (NULL-terminated). */
static void make_argv(const struct sandbox *s, const char *const *tail, char **argv, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; s->runsc_flags[i] && n + 1 < cap; i++)
    argv[n++] = (char *)s->runsc_flags[i];
  for (size_t i = 0; tail[i] && n + 1 < cap; i++)
    argv[n++] = (char *)tail[i];
  argv[n] = NULL;
}

/* The first line of the stdio file: runsc's complaint, if any. */
static void first_line_of(const char *path, char *dst, size_t cap) {
  dst[0] = '\0';
  FILE *f = fopen(path, "re");
  if (!f)
    return;
  if (fgets(dst, (int)cap, f))
    dst[strcspn(dst, "\n")] = '\0';
  fclose(f);
}

/* Why a runsc command failed, or "" when it exited 0. */
static void describe_failure(const struct cmd_result *res, const char *output, char *why,
                             size_t cap) {
  why[0] = '\0';
  if (res->spawn_errno)
    snprintf(why, cap, "cannot spawn runsc: %s", strerror(res->spawn_errno));
  else if (res->timed_out || res->interrupted)
    snprintf(why, cap, "%s, killed", res->timed_out ? "timed out" : "interrupted");
  else if (!WIFEXITED(res->status) || WEXITSTATUS(res->status) != 0)
    snprintf(why, cap, "runsc exited with wait status 0x%x: %.200s", res->status, output);
}

int sandbox_start(const struct sandbox *s, struct warm_sandbox_result *r) {
  memset(r, 0, sizeof *r);
  int rc = write_config(s->bundle);
  int fd = rc < 0 ? -1 : open(s->stdio, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (rc < 0 || fd < 0)
    return rc < 0 ? rc : -errno;
  close(fd);
  struct cmd_result *res = malloc(sizeof *res);
  if (!res)
    return -ENOMEM;
  char *argv[SANDBOX_FLAGS_MAX + 8];
  make_argv(s, (const char *const[]){"run", "-detach", "--bundle", s->bundle, s->id, NULL}, argv,
            sizeof argv / sizeof argv[0]);
  struct cmd c = {.argv = argv, .envp = s->envp, .timeout_s = s->timeout_s, .stdio_path = s->stdio};
  rc = run_cmd(&c, res);
  if (rc == 0) {
    char output[FAILURE_TEXT];
    first_line_of(s->stdio, output, sizeof output);
    describe_failure(res, output, r->why, sizeof r->why);
    r->started = r->why[0] == '\0';
    r->start_ms = res->wall_ms;
  }
  free(res);
  return rc;
}

void sandbox_stop(const struct sandbox *s, struct warm_sandbox_result *r) {
  if (!r->started)
    return;
  struct cmd_result *res = malloc(sizeof *res);
  if (!res) {
    snprintf(r->stop, sizeof r->stop, "out of memory: sandbox %s left running", s->id);
    return;
  }
  char *argv[SANDBOX_FLAGS_MAX + 8];
  make_argv(s, (const char *const[]){"delete", "-force", s->id, NULL}, argv,
            sizeof argv / sizeof argv[0]);
  struct cmd c = {.argv = argv, .envp = s->envp, .timeout_s = s->timeout_s};
  int rc = run_cmd(&c, res);
  char output[FAILURE_TEXT];
  snprintf(output, sizeof output, "%.*s", (int)(res->err.len < 200 ? res->err.len : 200),
           res->err.buf);
  output[strcspn(output, "\n")] = '\0';
  if (rc < 0)
    snprintf(r->stop, sizeof r->stop, "cannot run runsc delete: %s", strerror(-rc));
  else
    describe_failure(res, output, r->stop, sizeof r->stop);
  free(res);
}
