/* restore.h - bench/restore's options and results: spawn to the guest
 * answering on vsock, restored from an image snapshot vs a fresh start, for
 * the base and python images. */
#ifndef HEARTH_BENCH_RESTORE_H
#define HEARTH_BENCH_RESTORE_H

#include <stdbool.h>
#include <stddef.h>

#include "machine.h"
#include "series.h"

#define RS_RUNS_DEFAULT 20
#define RS_TEXT 256

enum rs_image { RS_BASE, RS_PYTHON, RS_IMAGES };
/* prestarted: --restore --start-paused spawned ahead, resumed when timed. */
enum rs_kind { RS_FRESH, RS_RESTORED, RS_PRESTARTED, RS_KINDS };

struct rs_options {
  size_t runs;
  bool skip[RS_IMAGES];
  const char *vmm, *images, *keys, *json;
  unsigned mem_mib;
  double timeout_s;
};

struct rs_kind_result {
  /* For prestarted: ready_ms is spawn -> the paused VMM answers "stats",
   * hello_ms is resume sent -> HELLO, spawn_hello_ms spawn -> HELLO
   * (which includes the harness's own steps between). */
  struct series ready_ms;       /* spawn -> "ready" on --ready-fd */
  struct series hello_ms;       /* spawn -> HELLO read through the bridge */
  struct series spawn_hello_ms; /* prestarted only: spawn -> HELLO */
  struct series teardown_ms;    /* SIGKILL -> reaped */
  size_t ok, failed;
  char failure[RS_TEXT]; /* the first failure */
  char warmup[RS_TEXT];
};

struct rs_image_result {
  bool measured;
  char snapshot_error[RS_TEXT]; /* non-empty: no snapshot, nothing restored */
  double snapshot_ms;           /* spawn -> the snapshotted VM's exit */
  long long memory_file_bytes, memory_disk_bytes, state_file_bytes;
  struct rs_kind_result kinds[RS_KINDS];
};

struct rs_result {
  struct machine machine;
  double loadavg[3];      /* at the start */
  struct series floor_ms; /* `hearth-vmm --version`, spawn -> reaped */
  struct rs_image_result img[RS_IMAGES];
  bool interrupted;
};

const char *rs_image_key(enum rs_image i);
const char *rs_kind_key(enum rs_kind k);

#endif
