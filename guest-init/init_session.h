/* init_session.h - hearth-init's side of a session up to the code being in
 * place (PROTOCOL.md): accepting the host, HELLO, LOAD and its CODE
 * stream, LOADED. Each
 * function reports its own failures (init_log.h: stderr and an ERROR
 * frame) and returns -errno; the caller only exits. */
#ifndef HEARTH_INIT_SESSION_H
#define HEARTH_INIT_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/frame.h"

#include "unpack/codelimits.h"

#define INIT_BOOT_ID_LEN 32 /* hex digits */

/* Accepts the host's connection on the listener ls. The connected fd
 * (O_CLOEXEC) or -errno (logged). */
int session_accept(int ls);

/* A fresh boot id (16 random bytes in hex) into out[INIT_BOOT_ID_LEN + 1]. */
int session_boot_id(char *out);

/* Sends HELLO {"protocol":1,"image":..,"runtime":..,"boot_id":..}. */
int session_hello(int conn, const char *image, const char *runtime, const char *boot_id);

/* The same with "restored":true: a clone of a function snapshot. */
int session_hello_restored(int conn, const char *image, const char *runtime, const char *boot_id);

/* What LOAD asked for. */
struct load_request {
  char handler[HF_STRING_MAX + 1]; /* in normal form */
  bool snapshot;                   /* the host may snapshot the VM once LOADED ("snapshot":true) */
};

/* Reads LOAD, then extracts the CODE stream into code_dir (a directory
 * fd) within the default code limits. req gets LOAD's members (the handler
 * default_handler when absent); totals what was unpacked. */
int session_load_request(int conn, int code_dir, const char *default_handler,
                         struct load_request *req, struct code_totals *totals);

/* session_load_request for the handler alone, into handler[cap]. */
int session_load(int conn, int code_dir, const char *default_handler, char *handler, size_t cap,
                 struct code_totals *totals);

/* Sends LOADED {"files":..,"bytes":..,"runtime":..}. */
int session_loaded(int conn, const struct code_totals *totals, const char *runtime);

/* Reads one control frame of type want into a new heap buffer (*json,
 * NUL-terminated, *len bytes). A frame of another type is a protocol
 * error (reported). */
int session_read_control(int conn, int want, char **json, size_t *len);

/* Who hearth-init is, for a HELLO after a reset. */
struct session_self {
  const char *image, *runtime;
};

/* The function snapshot point (PROTOCOL.md, "Snapshots"): reads INVOKE as
 * session_read_control does, except that when ls >= 0 and the connection
 * ends before a frame (a VM restored from a snapshot taken here finds it
 * reset), it accepts the next host on ls, says HELLO with a fresh boot id
 * and "restored":true, and reads INVOKE there. *conn follows. */
int session_read_invoke(int *conn, int ls, const struct session_self *self, char **json,
                        size_t *len);

#endif
