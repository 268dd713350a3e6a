/* init_exec.h - the last step of hearth-init: exec what serves the
 * invocations, with the connection handed over. Each function returns only
 * on failure, reported (stderr and an ERROR frame), with the exit status
 * hearth-init should end with (126 not executable, 127 not found, 1
 * otherwise). */
#ifndef HEARTH_INIT_EXEC_H
#define HEARTH_INIT_EXEC_H

#include "init_args.h"
#include "init_session.h"
#include "unpack/codelimits.h"

/* Checks that handler (normal form, inside code_dir) is an executable
 * regular file: 0, or a reported -errno (ERROR handler_missing or
 * handler_not_executable). */
int exec_check_native(int conn, int code_dir, const char *handler);

/* Native: reads INVOKE (session_read_invoke: across a connection reset
 * when ls >= 0), asks the VMM to frame stdio for it
 * (HEARTH_IOC_FRAME_STDIO), and execs code_path/handler with the image's
 * environment plus INVOKE's env, HEARTH_REQUEST_ID and HEARTH_FUNCTION. */
int exec_native_at(int conn, int ls, const struct session_self *self, const char *code_path,
                   const char *handler);

/* exec_native_at without a listener: a closed connection ends it. */
int exec_native(int conn, const char *code_path, const char *handler);

/* Python: execs args->runtime_argv with the connection inherited
 * (HEARTH_FD) and HEARTH_HANDLER, HEARTH_CODE_FILES, HEARTH_CODE_BYTES,
 * HEARTH_IMAGE, HEARTH_BOOT_ID; the shim sends LOADED. When ls >= 0 (LOAD
 * asked for "snapshot") the listener is inherited too, as
 * HEARTH_LISTEN_FD: the shim accepts the next host there after a reset. */
int exec_python_at(int conn, int ls, const struct init_args *args, const char *handler,
                   const struct code_totals *totals, const char *boot_id);

/* exec_python_at without a listener. */
int exec_python(int conn, const struct init_args *args, const char *handler,
                const struct code_totals *totals, const char *boot_id);

#endif
