/* request.h - one control-socket line (API.md) parsed into a typed
 * request, apart from executing it (serve.c), and the error reply. */
#ifndef HEARTH_VMM_API_REQUEST_H
#define HEARTH_VMM_API_REQUEST_H

#include <limits.h>
#include <stddef.h>

/* A line, newline excluded, is at most this long; longer ones are refused. */
#define API_LINE_MAX (64u << 10)

enum api_cmd { API_PAUSE, API_RESUME, API_SNAPSHOT, API_SHUTDOWN, API_STATS };

struct api_request {
  enum api_cmd cmd;
  char dir[PATH_MAX]; /* API_SNAPSHOT: the host directory to write */
};

/* Parses `line` (len bytes, any content). 0, or -EINVAL with a one-line
 * reason in err ("not JSON", "unknown cmd 'x'", "snapshot needs \"dir\""). */
int api_request_parse(const char *line, size_t len, struct api_request *out, char *err,
                      size_t errlen);

/* The name of a command, as the protocol spells it. */
const char *api_cmd_name(enum api_cmd cmd);

/* {"ok":false,"error":reason}\n, malloc'd (NULL when out of memory). */
char *api_reply_error(const char *reason);
/* {"ok":true}\n, malloc'd, or with `extra` (an object whose members are
 * added; consumed) when not NULL. */
struct cJSON;
char *api_reply_ok(struct cJSON *extra);

#endif
