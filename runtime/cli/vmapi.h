/* vmapi.h - a client of hearth-vmm's control socket (vmm/api/API.md): one
 * JSON line out, one reply line back, waited for through the waiter (a
 * signal or the deadline ends the wait). */
#ifndef HEARTH_CLI_VMAPI_H
#define HEARTH_CLI_VMAPI_H

#include <stddef.h>

#include "waiter.h"

#define VMAPI_REPLY_MAX 4096

struct vmapi {
  int sock;
  struct waiter *w;
  char why[VMAPI_REPLY_MAX]; /* the reply's "error", or what went wrong */
};

/* Connects to the control socket at path. 0 or -errno. */
int vmapi_open(struct vmapi *a, const char *path, struct waiter *w);

/* Sends request (one JSON object, no newline) and reads the reply:
 * 0 when it says "ok":true; -EIO with a->why the reply's error; or the
 * socket's or the waiter's errors. */
int vmapi_call(struct vmapi *a, const char *request);

/* Pause, {"cmd":"snapshot","dir":dir}, then resume (even when the
 * snapshot failed). 0, or the first failure's -errno with its reason in
 * why[cap]. */
int vmapi_snapshot(struct vmapi *a, const char *dir, char *why, size_t cap);

void vmapi_close(struct vmapi *a);

#endif
