/* log.c - hearth-vmm's diagnostic lines (see log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

#define VLOG_SITE_BURST 10

static enum vlog_level vlog_threshold = VLOG_WARN;
static const char *const vlog_names[] = {"error", "warning", "info", "debug"};

void vlog_set_level(enum vlog_level level) { vlog_threshold = level; }

static void vlog_emit(enum vlog_level level, const char *fmt, va_list ap) {
  char line[1024];
  vsnprintf(line, sizeof line, fmt, ap);
  fprintf(stderr, "hearth-vmm: %s: %s\n", vlog_names[level], line);
}

void vlog(enum vlog_level level, const char *fmt, ...) {
  if (level > vlog_threshold)
    return;
  va_list ap;
  va_start(ap, fmt);
  vlog_emit(level, fmt, ap);
  va_end(ap);
}

void vlog_ratelimited(struct vlog_budget *b, enum vlog_level level, const char *fmt, ...) {
  if (level > vlog_threshold || b->emitted > VLOG_SITE_BURST)
    return;
  if (b->emitted++ == VLOG_SITE_BURST) {
    fprintf(stderr, "hearth-vmm: %s: further messages like the last are suppressed\n",
            vlog_names[level]);
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  vlog_emit(level, fmt, ap);
  va_end(ap);
}
