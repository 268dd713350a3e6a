/* imgerr.c - failure sentences of the image library (see imgerr.h). */
#include "imgerr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int img_fail(struct img_err *err, int rc, const char *fmt, ...) {
  if (!err || err->msg[0])
    return rc;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  return rc;
}

void img_err_prefix(struct img_err *err, const char *what) {
  if (!err)
    return;
  char old[IMG_ERR_MAX];
  memcpy(old, err->msg, sizeof old);
  if (snprintf(err->msg, sizeof err->msg, "%s: %s", what, old) >= (int)sizeof err->msg)
    memcpy(err->msg + sizeof err->msg - 4, "...", 4); /* cut short, and says so */
}
