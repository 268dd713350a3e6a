/* init_log.c - hearth-init's one-line reports (init_log.h). */
#include "init_log.h"

#include <stdarg.h>
#include <stdio.h>

#include "proto/frame_io.h"

/* Control characters would break the one-line rule. */
static void flatten(char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20)
      *s = ' ';
}

void init_log(const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  flatten(line);
  fprintf(stderr, "hearth-init: %s\n", line);
}

void init_fail(int conn, const char *code, const char *fmt, ...) {
  char message[HF_STRING_MAX + 1];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  if (conn >= 0)
    hf_send_error(conn, code, message);
  init_log("%s: %s", code, message);
}
