/* request.c - control-socket lines to typed requests, and replies
 * (request.h). The line is untrusted: length-bounded by the caller, parsed
 * with cJSON's length-bounded parser, and every member type-checked. */
#include "request.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const cmd_names[] = {
    [API_PAUSE] = "pause",       [API_RESUME] = "resume", [API_SNAPSHOT] = "snapshot",
    [API_SHUTDOWN] = "shutdown", [API_STATS] = "stats",
};

const char *api_cmd_name(enum api_cmd cmd) { return cmd_names[cmd]; }

static int parse_cmd(const cJSON *cmd, enum api_cmd *out) {
  for (size_t i = 0; i < sizeof cmd_names / sizeof cmd_names[0]; i++)
    if (strcmp(cmd->valuestring, cmd_names[i]) == 0) {
      *out = (enum api_cmd)i;
      return 0;
    }
  return -EINVAL;
}

static int parse_dir(const cJSON *root, struct api_request *out, char *err, size_t errlen) {
  const cJSON *dir = cJSON_GetObjectItemCaseSensitive(root, "dir");
  if (!cJSON_IsString(dir) || !dir->valuestring[0]) {
    snprintf(err, errlen, "snapshot needs \"dir\": a host directory path");
    return -EINVAL;
  }
  if (strlen(dir->valuestring) >= sizeof out->dir) {
    snprintf(err, errlen, "snapshot \"dir\" is longer than %zu bytes", sizeof out->dir - 1);
    return -EINVAL;
  }
  strcpy(out->dir, dir->valuestring);
  return 0;
}

static int parse_object(const cJSON *root, struct api_request *out, char *err, size_t errlen) {
  if (!cJSON_IsObject(root)) {
    snprintf(err, errlen, "want a JSON object per line");
    return -EINVAL;
  }
  const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(root, "cmd");
  if (!cJSON_IsString(cmd)) {
    snprintf(err, errlen, "want a string member \"cmd\"");
    return -EINVAL;
  }
  if (parse_cmd(cmd, &out->cmd) < 0) {
    snprintf(err, errlen, "unknown cmd '%.64s' (pause, resume, snapshot, shutdown, stats)",
             cmd->valuestring);
    return -EINVAL;
  }
  return out->cmd == API_SNAPSHOT ? parse_dir(root, out, err, errlen) : 0;
}

int api_request_parse(const char *line, size_t len, struct api_request *out, char *err,
                      size_t errlen) {
  memset(out, 0, sizeof *out);
  if (len > API_LINE_MAX) {
    snprintf(err, errlen, "line longer than %u bytes", API_LINE_MAX);
    return -EINVAL;
  }
  cJSON *root = cJSON_ParseWithLength(line, len);
  if (!root) {
    snprintf(err, errlen, "not JSON");
    return -EINVAL;
  }
  int rc = parse_object(root, out, err, errlen);
  cJSON_Delete(root);
  return rc;
}

/* The printed object and a newline, in one malloc'd string. */
static char *reply_line(cJSON *obj) {
  char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;
  cJSON_Delete(obj);
  if (!text)
    return NULL;
  size_t n = strlen(text);
  char *line = malloc(n + 2);
  if (line) {
    memcpy(line, text, n);
    memcpy(line + n, "\n", 2);
  }
  cJSON_free(text);
  return line;
}

char *api_reply_error(const char *reason) {
  cJSON *o = cJSON_CreateObject();
  if (o && (!cJSON_AddFalseToObject(o, "ok") || !cJSON_AddStringToObject(o, "error", reason))) {
    cJSON_Delete(o);
    o = NULL;
  }
  return reply_line(o);
}

char *api_reply_ok(cJSON *extra) {
  cJSON *o = extra ? extra : cJSON_CreateObject();
  if (o && !cJSON_AddTrueToObject(o, "ok")) {
    cJSON_Delete(o);
    o = NULL;
  }
  return reply_line(o);
}
