/* capture.h - runs one program the way a supervisor would: posix_spawn with
 * pipes for stdin, stdout and stderr, default signal dispositions, a wall
 * clock limit, and everything it prints captured in memory. */
#ifndef HEARTH_ITEST_CAPTURE_H
#define HEARTH_ITEST_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

/* The status of a child killed by a host signal (for hearth-vmm: the VMM
 * itself died, e.g. an ASan abort or the harness's own kill). Far above 255
 * so it can never be mistaken for an exit status such as 139. */
#define SPAWN_KILLED_BY(sig) (1000 + (sig))

/* Bytes kept of each output stream; the rest is counted as truncated. */
#define SPAWN_OUTPUT_CAP (64u << 20)

struct spawn_result {
  int status; /* exit status 0..255, or SPAWN_KILLED_BY(signal) */
  char *out;  /* stdout, NUL-terminated (the bytes may contain NULs too) */
  size_t out_len;
  char *err; /* stderr, NUL-terminated */
  size_t err_len;
  bool truncated; /* an output stream went past SPAWN_OUTPUT_CAP */
  bool timed_out; /* killed with SIGKILL after timeout_ms */
  double seconds; /* wall time from spawn to exit */
};

/* Runs `path` with `argv` and `envp`, writing in[0..in_len) to its stdin and
 * then closing it, until it exits; after timeout_ms it is killed with
 * SIGKILL. Returns 0 with *r filled (free with spawn_result_free), or a
 * negative errno when the program could not be started (r left empty). */
int spawn_capture(const char *path, char *const argv[], char *const envp[], const void *in,
                  size_t in_len, unsigned timeout_ms, struct spawn_result *r);

/* Frees the buffers of *r and empties it; safe on an empty result. */
void spawn_result_free(struct spawn_result *r);

#endif
