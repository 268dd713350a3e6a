/* snap_ts.h - a struct timespec in a snapshot section: seconds and
 * nanoseconds as two u64s. Reading checks the value is a normalised,
 * non-negative time (else the cursor fails with -EBADMSG). */
#ifndef HEARTH_VMM_SNAPSHOT_SNAP_TS_H
#define HEARTH_VMM_SNAPSHOT_SNAP_TS_H

#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "snapshot/snapfile.h"

static inline void snap_put_ts(struct snap_buf *b, struct timespec t) {
  snap_put_u64(b, (uint64_t)t.tv_sec);
  snap_put_u64(b, (uint64_t)t.tv_nsec);
}

static inline struct timespec snap_get_ts(struct snap_cursor *c) {
  uint64_t sec = snap_get_u64(c), nsec = snap_get_u64(c);
  if (sec > INT64_MAX || nsec >= 1000000000u) {
    if (!c->err)
      c->err = -EBADMSG;
    return (struct timespec){0};
  }
  return (struct timespec){.tv_sec = (time_t)sec, .tv_nsec = (long)nsec};
}

#endif
