/* init_session.h - hearth-init's side of a session up to the code being in
 * place (PROTOCOL.md): HELLO, LOAD and its CODE stream, LOADED. Each
 * function reports its own failures (init_log.h: stderr and an ERROR
 * frame) and returns -errno; the caller only exits. */
#ifndef HEARTH_INIT_SESSION_H
#define HEARTH_INIT_SESSION_H

#include <stddef.h>

#include "unpack/codelimits.h"

#define INIT_BOOT_ID_LEN 32 /* hex digits */

/* A fresh boot id (16 random bytes in hex) into out[INIT_BOOT_ID_LEN + 1]. */
int session_boot_id(char *out);

/* Sends HELLO {"protocol":1,"image":..,"runtime":..,"boot_id":..}. */
int session_hello(int conn, const char *image, const char *runtime, const char *boot_id);

/* Reads LOAD, then extracts the CODE stream into code_dir (a directory
 * fd) within the default code limits. handler[cap] gets LOAD's handler
 * (default_handler when absent) in normal form; totals what was unpacked. */
int session_load(int conn, int code_dir, const char *default_handler, char *handler, size_t cap,
                 struct code_totals *totals);

/* Sends LOADED {"files":..,"bytes":..,"runtime":..}. */
int session_loaded(int conn, const struct code_totals *totals, const char *runtime);

/* Reads one control frame of type want into a new heap buffer (*json,
 * NUL-terminated, *len bytes). A frame of another type is a protocol
 * error (reported). */
int session_read_control(int conn, int want, char **json, size_t *len);

#endif
