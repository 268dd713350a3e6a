/* msgs.h - the control frames `hearth run` sends and receives, as typed
 * structs: LOAD and INVOKE built with guest-init's JSON writer, HELLO,
 * LOADED, RESULT and ERROR read with its strict reader (proto/json.h), so
 * host and guest agree on every limit of PROTOCOL.md. */
#ifndef HEARTH_CLI_MSGS_H
#define HEARTH_CLI_MSGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/frame.h"

#define MSG_NAME_MAX 256 /* image, runtime, boot id, status, error code */

struct msg_hello {
  uint64_t protocol;
  char image[MSG_NAME_MAX], runtime[MSG_NAME_MAX];
  bool restored; /* a VM restored from a function snapshot (PROTOCOL.md, "Snapshots") */
};

struct msg_loaded {
  uint64_t files, bytes;
  char runtime[MSG_NAME_MAX];
};

struct msg_result {
  char status[MSG_NAME_MAX]; /* "ok", "error", "signal"; hearth-vmm also says "timeout" */
  uint64_t exit_status, duration_us, response_bytes, log_bytes;
  bool response_truncated, logs_truncated;
  char error[HF_STRING_MAX + 1]; /* "" when absent */
};

struct msg_error {
  char code[MSG_NAME_MAX];
  char message[HF_STRING_MAX + 1];
};

struct msg_invoke {
  char request_id[33]; /* 32 hex digits */
  const char *function, *content_type;
  const char *const *env; /* "K=V" each */
  unsigned nenv;
  uint64_t timeout_ms, memory_mb, response_cap, log_cap;
};

/* Each parse: 0, or -EINVAL when the JSON is malformed or misses a member
 * the protocol requires (unknown members are ignored). */
int msg_parse_hello(const char *json, size_t len, struct msg_hello *m);
int msg_parse_loaded(const char *json, size_t len, struct msg_loaded *m);
int msg_parse_result(const char *json, size_t len, struct msg_result *m);
int msg_parse_error(const char *json, size_t len, struct msg_error *m);

/* Each build: the JSON's length in buf (NUL-terminated), or -errno
 * (-ENOSPC: buf too small). handler may be NULL (the runtime's default). */
/* snapshot: the host may snapshot the VM once LOADED. */
long msg_build_load(char *buf, size_t cap, const char *handler, bool snapshot);
long msg_build_invoke(char *buf, size_t cap, const struct msg_invoke *m);

/* 32 random hex digits (getrandom) into id[33]. 0 or -errno. */
int msg_request_id(char id[33]);

#endif
