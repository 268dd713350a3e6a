/* main.c - hearth-init, the first program of every hearth VM: it waits for
 * the host on vsock port HF_INIT_PORT, says HELLO, unpacks the code the
 * host LOADs into /code, then execs the runtime with the connection
 * (PROTOCOL.md): the native handler itself, or python3 and hearth's shim.
 * Everything before accept() is done first, so the VM's image snapshot,
 * taken while it waits there, holds a ready init; the function snapshot
 * (PROTOCOL.md, "Snapshots") is taken once the code is LOADED. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "init_args.h"
#include "init_exec.h"
#include "init_listen.h"
#include "init_log.h"
#include "init_session.h"
#include "proto/frame.h"

int main(int argc, char **argv) {
  struct init_args args;
  char err_text[256];
  if (init_args_parse(argc, argv, &args, err_text, sizeof err_text) < 0) {
    init_log("%s", err_text);
    fprintf(stderr, "usage: hearth-init --image NAME --runtime native|python [--code DIR] "
                    "[-- RUNTIME_ARGV...]\n");
    return 125;
  }
  /* A vanished host is an -EPIPE to handle, not a death by signal. */
  signal(SIGPIPE, SIG_IGN);
  int code_dir = open(args.code_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (code_dir < 0) {
    init_log("%s: %s", args.code_dir, strerror(errno));
    return 1;
  }
  const char *runtime = init_runtime_name(args.runtime);
  const char *default_handler = args.runtime == INIT_PYTHON ? "handler.py" : "handler";
  char boot_id[INIT_BOOT_ID_LEN + 1];
  static struct load_request req;
  struct code_totals totals;
  int ls = init_listen(HF_INIT_PORT);
  if (ls < 0)
    return 1;
  /* The image snapshot point: blocked here, nothing connected. The boot
   * id is drawn after accept(): VMs restored from it must not share one. */
  int conn = session_accept(ls);
  if (conn < 0)
    return 1;
  if (session_boot_id(boot_id) < 0 || session_hello(conn, args.image, runtime, boot_id) < 0 ||
      session_load_request(conn, code_dir, default_handler, &req, &totals) < 0)
    return 1;
  /* Only a host that may snapshot after LOADED gets the listener kept for
   * a restored clone's next connection; for others a closed connection
   * still ends the VM. */
  if (!req.snapshot) {
    close(ls);
    ls = -1;
  }
  if (args.runtime == INIT_PYTHON)
    return exec_python_at(conn, ls, &args, req.handler, &totals, boot_id);
  if (exec_check_native(conn, code_dir, req.handler) < 0 ||
      session_loaded(conn, &totals, runtime) < 0)
    return 1;
  close(code_dir);
  /* The native function snapshot point: reading INVOKE. */
  struct session_self self = {.image = args.image, .runtime = runtime};
  return exec_native_at(conn, ls, &self, args.code_dir, req.handler);
}
