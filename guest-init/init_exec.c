/* init_exec.c - handing over to the runtime (init_exec.h). */
#include "init_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init_env.h"
#include "init_invoke.h"
#include "init_log.h"
#include "init_session.h"
#include "proto/frame.h"
#include "proto/hearth_abi.h"

extern char **environ;

/* Variables hearth-init itself adds (beyond INVOKE's env). */
#define OWN_VARS 8

int exec_check_native(int conn, int code_dir, const char *handler) {
  struct stat st;
  if (fstatat(code_dir, handler, &st, 0) < 0) {
    int err = -errno;
    init_fail(conn, err == -ENOENT ? "handler_missing" : "handler_not_executable", "handler %s: %s",
              handler, strerror(-err));
    return err;
  }
  if (!S_ISREG(st.st_mode)) {
    init_fail(conn, "handler_not_executable", "handler %s: not a regular file", handler);
    return -EACCES;
  }
  if (!(st.st_mode & 0111)) {
    init_fail(conn, "handler_not_executable", "handler %s: no execute permission", handler);
    return -EACCES;
  }
  return 0;
}

/* The code path of handler: what execve is given (the kernel resolves it;
 * handler is already checked to stay inside the code tree). */
static char *code_file(const char *code_path, const char *handler) {
  size_t n = strlen(code_path) + 1 + strlen(handler) + 1;
  char *p = malloc(n);
  if (p)
    snprintf(p, n, "%s/%s", code_path, handler);
  return p;
}

/* execve, after undoing hearth-init's own SIGPIPE disposition (an ignored
 * signal stays ignored across exec). Returns the exit status to use. */
static int run(int conn, const char *path, char **argv, char **envp) {
  signal(SIGPIPE, SIG_DFL);
  execve(path, argv, envp);
  int err = errno;
  signal(SIGPIPE, SIG_IGN);
  init_fail(conn, "exec_failed", "execve %s: %s", path, strerror(err));
  return err == ENOENT ? 127 : 126;
}

/* INVOKE into env and the stdio framing ioctl on *conn (which a reset
 * replaces: session_read_invoke). */
static int prepare_invoke(int *connp, int ls, const struct session_self *self,
                          struct init_env *env) {
  char *json, why[512];
  size_t len;
  int err = session_read_invoke(connp, ls, self, &json, &len);
  int conn = *connp;
  if (err < 0)
    return err;
  struct invoke inv;
  err = invoke_parse(json, len, &inv, env, why, sizeof why);
  free(json);
  if (err < 0) {
    init_fail(conn, "bad_invoke", "INVOKE: %s", err == -ENOMEM ? "out of memory" : why);
    return err;
  }
  if ((err = init_env_set(env, "HEARTH_REQUEST_ID", inv.request_id)) < 0 ||
      (err = init_env_set(env, "HEARTH_FUNCTION", inv.function)) < 0) {
    invoke_free(&inv);
    init_fail(conn, "internal", "environment: %s", strerror(-err));
    return err;
  }
  struct hearth_frame_stdio arg = {.response_cap = inv.response_cap, .log_cap = inv.log_cap};
  invoke_free(&inv);
  if (ioctl(conn, HEARTH_IOC_FRAME_STDIO, &arg) < 0) {
    err = -errno;
    init_fail(conn, "internal", "HEARTH_IOC_FRAME_STDIO: %s", strerror(-err));
    return err;
  }
  return 0;
}

int exec_native_at(int conn, int ls, const struct session_self *self, const char *code_path,
                   const char *handler) {
  struct init_env env;
  if (init_env_start(&env, environ, HF_ENV_MAX + OWN_VARS) < 0) {
    init_fail(conn, "internal", "out of memory");
    return 1;
  }
  char *path = code_file(code_path, handler);
  int status = 1;
  if (!path)
    init_fail(conn, "internal", "out of memory");
  else if (prepare_invoke(&conn, ls, self, &env) == 0)
    status = run(conn, path, (char *[]){(char *)handler, NULL}, env.vars);
  free(path);
  init_env_free(&env);
  return status;
}

/* HEARTH_LISTEN_FD for the shim, the listener made inheritable. */
static int pass_listener(int conn, int ls, struct init_env *env) {
  char fd[16];
  snprintf(fd, sizeof fd, "%d", ls);
  int err = init_env_set(env, "HEARTH_LISTEN_FD", fd);
  if (err < 0) {
    init_fail(conn, "internal", "environment: %s", strerror(-err));
    return err;
  }
  if (fcntl(ls, F_SETFD, 0) < 0) {
    err = -errno;
    init_fail(conn, "internal", "fcntl(F_SETFD): %s", strerror(-err));
  }
  return err;
}

int exec_native(int conn, const char *code_path, const char *handler) {
  return exec_native_at(conn, -1, NULL, code_path, handler);
}

int exec_python_at(int conn, int ls, const struct init_args *args, const char *handler,
                   const struct code_totals *totals, const char *boot_id) {
  struct init_env env;
  char fd[16], files[24], bytes[24];
  snprintf(fd, sizeof fd, "%d", conn);
  snprintf(files, sizeof files, "%" PRIu64, totals->files);
  snprintf(bytes, sizeof bytes, "%" PRIu64, totals->bytes);
  char *path = code_file(args->code_dir, handler);
  int err = path ? init_env_start(&env, environ, OWN_VARS) : -ENOMEM;
  if (err < 0) {
    free(path);
    init_fail(conn, "internal", "out of memory");
    return 1;
  }
  int status = 1;
  if ((err = init_env_set(&env, "HEARTH_FD", fd)) < 0 ||
      (err = init_env_set(&env, "HEARTH_HANDLER", path)) < 0 ||
      (err = init_env_set(&env, "HEARTH_CODE_FILES", files)) < 0 ||
      (err = init_env_set(&env, "HEARTH_CODE_BYTES", bytes)) < 0 ||
      (err = init_env_set(&env, "HEARTH_IMAGE", args->image)) < 0 ||
      (err = init_env_set(&env, "HEARTH_BOOT_ID", boot_id)) < 0)
    init_fail(conn, "internal", "environment: %s", strerror(-err));
  else if (ls >= 0 && pass_listener(conn, ls, &env) < 0)
    ;
  else if (fcntl(conn, F_SETFD, 0) < 0) /* the shim inherits the connection */
    init_fail(conn, "internal", "fcntl(F_SETFD): %s", strerror(errno));
  else
    status = run(conn, args->runtime_argv[0], args->runtime_argv, env.vars);
  free(path);
  init_env_free(&env);
  return status;
}

int exec_python(int conn, const struct init_args *args, const char *handler,
                const struct code_totals *totals, const char *boot_id) {
  return exec_python_at(conn, -1, args, handler, totals, boot_id);
}
