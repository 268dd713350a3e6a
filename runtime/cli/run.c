/* run.c - the phases of `hearth run` (run.h): each returns 0 to go on or
 * -1 with the outcome decided; the teardown runs after any of them. */
#include "run.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codepack.h"
#include "event.h"
#include "msgs.h"
#include "outcome.h"
#include "runopts.h"
#include "session.h"
#include "sig.h"
#include "snapkey.h"
#include "snapstore.h"
#include "timings.h"
#include "vmapi.h"
#include "vmdir.h"
#include "vmmfind.h"
#include "vmmproc.h"
#include "waiter.h"

#define START_BUDGET_S 30.0 /* spawn to HELLO: hearth's own work, not the handler's */
#define EXIT_GRACE_S 2.0    /* how long a VMM that closed its socket gets to exit */
#define EVENT_PIECE (64u << 10)
#define CONTROL_BUF (2 * HF_STRING_MAX + 1024)

struct run {
  const struct runopts *o;
  char **envp;
  struct waiter w;
  char vmm_path[PATH_MAX];
  char function[HF_STRING_MAX + 1];
  struct codepack *code;
  struct vmdir dir;
  struct event ev;
  bool have_event;
  struct vmmproc vmm;
  bool vmm_started;
  struct session s;
  bool connected;
  struct msg_hello hello;
  const char *doing;    /* for messages: "starting the VM", "loading the code"... */
  bool timeout_is_ours; /* the deadline is --timeout (124), not the start budget */
  struct outcome out;
  struct timings t;
  /* function snapshots (snapstore.h); none with --no-snapshot */
  bool snap_on;
  struct snapstore snap;       /* the function snapshot; its lock is the store's */
  struct snapstore image_snap; /* the image snapshot */
  char state_abs[PATH_MAX];    /* --state-dir, absolute: the snapshot records paths */
  bool creating;               /* the lock is held: snapshot once LOADED */
};

#define RESTORE_REFUSED 1 /* hearth-vmm refused the snapshot (start_vm) */

/* ---- stopping ------------------------------------------------------- */

static void interrupted(struct run *r, int signo) {
  char name[32];
  outcome_set(&r->out, EXIT_SIGNAL(signo), "interrupted by %s while %s; the VM was stopped",
              outcome_signal_name(signo, name, sizeof name), r->doing);
}

/* The connection ended without the frame we wanted: the VMM is gone or
 * going. Its exit status and last words say why. */
static void vm_gone(struct run *r) {
  if (r->vmm_started && vmmproc_wait_exit(&r->vmm, &r->w, EXIT_GRACE_S) == 0) {
    char reason[512];
    diag_reason(&r->vmm.diag, reason, sizeof reason);
    outcome_from_vmm_exit(&r->out, vmmproc_exit_code(&r->vmm), reason, r->doing, r->o->timeout_s);
    return;
  }
  if (r->w.signo)
    interrupted(r, r->w.signo);
  outcome_set(&r->out, EXIT_HEARTH, "the guest closed the connection while %s", r->doing);
}

/* Decides the outcome for an error from a wait, a send or a receive. */
static int stopped(struct run *r, int rc) {
  switch (rc) {
  case -EINTR:
    interrupted(r, r->w.signo);
    break;
  case -ETIMEDOUT:
    if (r->timeout_is_ours)
      outcome_set(&r->out, EXIT_TIMEOUT, "timed out after %g s while %s", r->o->timeout_s,
                  r->doing);
    else
      outcome_set(&r->out, EXIT_HEARTH, "the VM did not start within %g s", START_BUDGET_S);
    break;
  case -ECONNRESET:
  case -EPIPE:
  case -ECONNREFUSED:
  case -ENOENT:
  case -ECHILD:
    vm_gone(r);
    break;
  case -EPROTO:
    outcome_set(&r->out, EXIT_HEARTH, "protocol error while %s: %s", r->doing, r->s.why);
    break;
  default:
    outcome_set(&r->out, EXIT_HEARTH, "%s: %s", r->doing, strerror(-rc));
  }
  return -1;
}

/* An ERROR frame from the guest (hearth-init or the Python shim). */
static int guest_error(struct run *r) {
  struct msg_error e;
  if (msg_parse_error(r->s.control, r->s.control_len, &e) < 0)
    return outcome_set(&r->out, EXIT_HEARTH, "the guest sent a malformed ERROR while %s", r->doing),
           -1;
  if (strcmp(e.code, "load_failed") == 0) { /* the handler's own failure: its traceback */
    fprintf(stderr, "%s\n", e.message);
    outcome_set(&r->out, 1, "the handler failed to load (load_failed)");
  } else if (strcmp(e.code, "handler_missing") == 0) {
    outcome_set(&r->out, EXIT_NOT_FOUND, "no handler: %s", e.message);
  } else if (strcmp(e.code, "exec_failed") == 0 && strstr(e.message, strerror(ENOENT))) {
    outcome_set(&r->out, EXIT_NOT_FOUND, "the runtime was not found: %s", e.message);
  } else if (strcmp(e.code, "handler_not_executable") == 0 || strcmp(e.code, "exec_failed") == 0) {
    outcome_set(&r->out, EXIT_NOT_EXECUTABLE, "the handler cannot run: %s", e.message);
  } else if (strcmp(e.code, "bad_code") == 0) {
    outcome_set(&r->out, EXIT_HEARTH, "code refused by hearth-init: %s", e.message);
  } else {
    outcome_set(&r->out, EXIT_HEARTH, "the guest failed while %s (%s): %s", r->doing, e.code,
                e.message);
  }
  return -1;
}

/* Waits for control frame `want`; anything else ends the run. */
static int expect(struct run *r, int want) {
  int type = session_next_control(&r->s);
  if (type < 0)
    return stopped(r, type);
  if (type == HF_ERROR)
    return guest_error(r);
  if (type != want) {
    snprintf(r->s.why, sizeof r->s.why, "got %s, wanted %s", hf_type_name((uint8_t)type),
             hf_type_name((uint8_t)want));
    return stopped(r, -EPROTO);
  }
  return 0;
}

/* ---- preparing (no VM yet) -------------------------------------------- */

/* The function's name: the last component of --code, without an archive's
 * extension. */
static void function_name(struct run *r) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s", r->o->code);
  size_t len = strlen(path);
  while (len > 1 && path[len - 1] == '/')
    path[--len] = '\0';
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  snprintf(r->function, sizeof r->function, "%s", base[0] && strcmp(base, "/") ? base : "function");
  static const char *const exts[] = {".tar.gz", ".tgz", ".tar", ".zip"};
  for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
    size_t n = strlen(r->function), e = strlen(exts[i]);
    if (n > e && strcmp(r->function + n - e, exts[i]) == 0) {
      r->function[n - e] = '\0';
      break;
    }
  }
}

static int open_code(struct run *r) {
  char err[512];
  bool refused;
  struct code_limits lim = code_limits_default();
  int rc = codepack_open(&r->code, r->o->code, &lim, err, sizeof err, &refused);
  if (rc < 0)
    outcome_set(&r->out, EXIT_HEARTH, "%s: %s", refused ? "code refused" : "cannot read the code",
                err);
  return rc < 0 ? -1 : 0;
}

static int make_vmdir(struct run *r) {
  int rc = vmdir_create(&r->dir, r->o->state_dir);
  if (rc == -ENAMETOOLONG)
    outcome_set(&r->out, EXIT_HEARTH,
                "--state-dir %s is too long: the VM's socket path would be %zu bytes, over the "
                "%d a Unix socket path may have here; use a shorter --state-dir",
                r->o->state_dir, vmdir_sock_len(r->o->state_dir), VMDIR_SOCK_MAX);
  else if (rc < 0)
    outcome_set(&r->out, EXIT_HEARTH, "cannot create a VM directory under %s/vms: %s",
                r->o->state_dir, strerror(-rc));
  return rc < 0 ? -1 : 0;
}

static int read_event(struct run *r) {
  int rc = event_prepare(&r->ev, STDIN_FILENO, r->o->content_type, r->o->event_cap, r->dir.path);
  r->have_event = true;
  char cap[32];
  if (rc == -EFBIG)
    outcome_set(&r->out, EXIT_HEARTH, "the event is larger than --event-cap (%s)",
                outcome_size(r->o->event_cap, cap, sizeof cap));
  else if (rc == -EINTR)
    interrupted(r, sig_pending());
  else if (rc < 0)
    outcome_set(&r->out, EXIT_HEARTH, "cannot read the event from stdin: %s", strerror(-rc));
  return rc < 0 ? -1 : 0;
}

static int prepare(struct run *r) {
  r->doing = "preparing";
  int rc = vmmfind(r->vmm_path, sizeof r->vmm_path);
  if (rc < 0) {
    outcome_set(&r->out, EXIT_HEARTH,
                "cannot find hearth-vmm (set HEARTH_VMM, or install it beside hearth or in PATH)");
    return -1;
  }
  function_name(r);
  if (open_code(r) < 0 || make_vmdir(r) < 0)
    return -1;
  r->doing = "reading the event";
  return read_event(r);
}

/* ---- the VM --------------------------------------------------------- */

static int spawn_vmm(struct run *r, const char *restore_dir) {
  const struct runopts *o = r->o;
  struct vmm_launch l = {.vmm = r->vmm_path,
                         .image = o->image,
                         .trust = o->trust,
                         .state_dir = r->snap_on ? r->state_abs : o->state_dir,
                         .restore_dir = restore_dir,
                         .api_sock = r->creating ? r->dir.api : NULL,
                         .vsock_uds = r->dir.sock,
                         .mem_mib = o->mem_mib,
                         .timeout_s = START_BUDGET_S + 2 * o->timeout_s + 5, /* a backstop */
                         .guest_pages = o->guest_pages,
                         .verbose = o->verbose};
  r->t.spawn = waiter_now_ms();
  int rc = vmmproc_spawn(&r->vmm, &l, r->envp);
  if (rc < 0) {
    outcome_set(&r->out, EXIT_HEARTH, "cannot start %s: %s", r->vmm_path, strerror(-rc));
    return -1;
  }
  r->vmm_started = true;
  r->w.diag = &r->vmm.diag;
  return 0;
}

/* hearth-vmm ended before "ready": it refused the image, or could not make
 * the VM. Its own last line says which. */
static void start_failed(struct run *r) {
  char reason[512];
  diag_reason(&r->vmm.diag, reason, sizeof reason);
  int code = vmmproc_exit_code(&r->vmm);
  bool image = strstr(reason, "image") || strstr(reason, "manifest") ||
               strstr(reason, "signature") || strstr(reason, "trust");
  const char *said = "image refused: "; /* hearth-vmm's own words, not to be doubled */
  const char *why = strncmp(reason, said, strlen(said)) == 0 ? reason + strlen(said) : reason;
  if (code == EXIT_HEARTH && image)
    outcome_set(&r->out, EXIT_HEARTH, "image refused: %s", why);
  else
    outcome_from_vmm_exit(&r->out, code, reason, r->doing, r->o->timeout_s);
}

static int check_hello(struct run *r) {
  if (msg_parse_hello(r->s.control, r->s.control_len, &r->hello) < 0) {
    snprintf(r->s.why, sizeof r->s.why, "a malformed HELLO");
    return stopped(r, -EPROTO);
  }
  if (r->hello.protocol != HF_VERSION) {
    outcome_set(&r->out, EXIT_HEARTH, "the guest speaks protocol %llu; this hearth speaks %d",
                (unsigned long long)r->hello.protocol, HF_VERSION);
    return -1;
  }
  return 0;
}

/* Spawns hearth-vmm, afresh or from the snapshot in restore_dir, and
 * waits for ready. 0, -1 with the outcome decided, or RESTORE_REFUSED:
 * hearth-vmm refused the snapshot (it has exited; nothing is decided). */
static int boot_vm(struct run *r, const char *restore_dir) {
  r->doing = restore_dir ? "restoring the VM" : "starting the VM";
  waiter_set_timeout(&r->w, START_BUDGET_S);
  if (spawn_vmm(r, restore_dir) < 0)
    return -1;
  int rc = vmmproc_wait_ready(&r->vmm, &r->w);
  if (rc == -ECHILD) { /* it closed the pipe: it should be exiting */
    rc = vmmproc_wait_exit(&r->vmm, &r->w, EXIT_GRACE_S);
    if (rc == 0 && restore_dir && vmmproc_exit_code(&r->vmm) == EXIT_HEARTH)
      return RESTORE_REFUSED;
    if (rc == 0)
      start_failed(r);
    else if (rc == -ETIMEDOUT)
      outcome_set(&r->out, EXIT_HEARTH, "hearth-vmm closed --ready-fd without saying ready");
    return rc == -EINTR ? stopped(r, rc) : -1;
  }
  if (rc == -EPROTO)
    snprintf(r->s.why, sizeof r->s.why, "hearth-vmm wrote something other than ready");
  if (rc < 0)
    return stopped(r, rc);
  r->t.ready = waiter_now_ms();
  return 0;
}

/* Connects and reads HELLO; a VM restored from a function snapshot must
 * say "restored" (fn_restored). */
static int connect_vm(struct run *r, bool fn_restored) {
  r->doing = "connecting to the VM";
  int rc = session_open(&r->s, r->dir.sock, &r->w, STDOUT_FILENO, STDERR_FILENO);
  r->connected = true;
  if (rc < 0)
    return stopped(r, rc);
  if (expect(r, HF_HELLO) < 0)
    return -1;
  r->t.hello = waiter_now_ms();
  if (check_hello(r) < 0)
    return -1;
  if (fn_restored && !r->hello.restored) {
    snprintf(r->s.why, sizeof r->s.why, "a restored VM said HELLO without \"restored\"");
    return stopped(r, -EPROTO);
  }
  return 0;
}

/* boot_vm then connect_vm, restore_dir a function snapshot's. */
static int start_vm(struct run *r, const char *restore_dir) {
  int rc = boot_vm(r, restore_dir);
  return rc == 0 ? connect_vm(r, restore_dir != NULL) : rc;
}

/* ---- the code ------------------------------------------------------- */

static int code_sink(void *ctx, const void *buf, size_t len) {
  struct run *r = ctx;
  return session_send_data(&r->s, HF_STREAM_CODE, buf, len);
}

static int send_control(struct run *r, uint8_t type, const char *json, long len) {
  if (len < 0) {
    outcome_set(&r->out, EXIT_HEARTH, "cannot build the %s frame: %s", hf_type_name(type),
                strerror((int)-len));
    return -1;
  }
  int rc = session_send_frame(&r->s, type, HF_STREAM_NONE, json, (uint32_t)len);
  return rc < 0 && rc != -EPIPE ? stopped(r, rc) : 0; /* -EPIPE: the guest's reason may follow */
}

static int load_code(struct run *r) {
  r->doing = "loading the code";
  r->timeout_is_ours = true;
  waiter_set_timeout(&r->w, r->o->timeout_s);
  char json[CONTROL_BUF];
  r->t.load = waiter_now_ms();
  long len = msg_build_load(json, sizeof json, r->o->handler, r->creating);
  if (send_control(r, HF_LOAD, json, len) < 0)
    return -1;
  char err[512];
  bool refused;
  int rc = codepack_write(r->code, code_sink, r, err, sizeof err, &refused);
  bool host_side = refused || rc == -EIO || rc == -ENOMEM; /* not the connection's fault */
  if (rc < 0 && host_side) {
    outcome_set(&r->out, EXIT_HEARTH, "%s: %s", refused ? "code refused" : "cannot pack the code",
                err);
    return -1;
  }
  if (rc == 0)
    rc = session_send_frame(&r->s, HF_END, HF_STREAM_CODE, NULL, 0);
  if (rc < 0 && rc != -EPIPE) /* -EPIPE: the guest's ERROR may be waiting */
    return stopped(r, rc);
  if (expect(r, HF_LOADED) < 0)
    return -1;
  r->t.loaded = waiter_now_ms();
  return 0;
}

/* ---- snapshots ------------------------------------------------------ */

/* Verifies the image and names its snapshots (snapkey.h). */
static int snap_prepare(struct run *r) {
  r->doing = "verifying the image";
  struct snapkeys keys;
  char err[512];
  bool image_refused;
  int rc = snapkey_derive(r->o, &keys, err, sizeof err, &image_refused);
  if (rc < 0)
    return outcome_set(&r->out, EXIT_HEARTH, "%s: %s",
                       image_refused ? "image refused" : "cannot hash the code", err),
           -1;
  if (realpath(r->o->state_dir, r->state_abs) == NULL)
    rc = -errno;
  else if ((rc = snapstore_init(&r->snap, r->o->state_dir, "fn-", keys.function)) == 0)
    rc = snapstore_init(&r->image_snap, r->o->state_dir, "image-", keys.image);
  if (rc < 0)
    return outcome_set(&r->out, EXIT_HEARTH, "--state-dir %s: %s", r->o->state_dir, strerror(-rc)),
           -1;
  r->snap_on = true;
  return 0;
}

/* Pauses the VM (it is at a snapshot point), writes the snapshot into a
 * temporary directory of st, publishes it and resumes. Failures are
 * reported and leave the VM running. */
static int snap_take(struct run *r, struct snapstore *st) {
  struct vmapi api = {.sock = -1};
  char why[512] = "";
  int rc = snapstore_begin(st);
  if (rc == 0)
    rc = vmapi_open(&api, r->dir.api, &r->w);
  if (rc == 0)
    rc = vmapi_snapshot(&api, st->tmp, why, sizeof why);
  if (rc == 0)
    rc = snapstore_publish(st);
  if (rc < 0)
    fprintf(stderr, "hearth: cannot snapshot the VM: %s\n", why[0] ? why : strerror(-rc));
  else if (r->o->verbose)
    fprintf(stderr, "hearth: made snapshot %s\n", st->name);
  vmapi_close(&api);
  return rc;
}

/* Forgets a VM that refused the snapshot st, for a fresh start, and
 * removes the snapshot when ino is not 0 (its inode; the lock is held). */
static void drop_refused(struct run *r, struct snapstore *st, ino_t ino) {
  char reason[512];
  diag_reason(&r->vmm.diag, reason, sizeof reason);
  fprintf(stderr, "hearth: snapshot %s refused (%s); making a new one\n", st->name, reason);
  vmmproc_kill(&r->vmm);
  r->vmm_started = false;
  r->w.diag = NULL;
  unlink(r->dir.sock); /* whatever it left there */
  unlink(r->dir.api);
  if (ino != 0 && snapstore_discard(st, ino) < 0)
    fprintf(stderr, "hearth: cannot remove the refused snapshot %s\n", st->name);
}

/* Under the lock: a VM at hearth-init's accept() with --api-sock, from the
 * image snapshot, else started afresh and snapshotted there (the image
 * snapshot point, before anything connects), then connected. */
static int boot_at_image_point(struct run *r) {
  ino_t ino = snapstore_find(&r->image_snap);
  if (ino != 0) {
    int rc = boot_vm(r, r->image_snap.path);
    if (rc != RESTORE_REFUSED) {
      if (rc == 0 && r->o->verbose)
        fprintf(stderr, "hearth: restored from %s\n", r->image_snap.name);
      return rc == 0 ? connect_vm(r, false) : rc;
    }
    drop_refused(r, &r->image_snap, ino);
  }
  if (boot_vm(r, NULL) != 0)
    return -1;
  snap_take(r, &r->image_snap);
  snapstore_end(&r->image_snap); /* the temporary directory; the lock is r->snap's */
  return connect_vm(r, false);
}

/* Under the lock, so concurrent first runs make one: the VM up to LOADED
 * (boot_at_image_point, then LOAD with "snapshot"), snapshotted there. When
 * the function snapshot appeared meanwhile (another run made it), it is
 * restored instead, unless it is refused_ino, the one that just failed to
 * restore: that one is replaced. */
static int create_and_load(struct run *r, ino_t refused_ino) {
  r->doing = "waiting for the snapshot lock";
  int rc = snapstore_lock(&r->snap);
  if (rc == -EINTR)
    return interrupted(r, r->w.signo ? r->w.signo : sig_pending()), -1;
  if (rc < 0)
    return outcome_set(&r->out, EXIT_HEARTH, "cannot lock %s/.lock: %s", r->snap.dir,
                       strerror(-rc)),
           -1;
  ino_t ino = snapstore_find(&r->snap);
  if (ino != 0 && ino != refused_ino) {
    snapstore_unlock(&r->snap);
    rc = start_vm(r, r->snap.path);
    if (rc == RESTORE_REFUSED)
      return outcome_set(&r->out, EXIT_HEARTH, "hearth-vmm refused the new snapshot %s",
                         r->snap.name),
             -1;
    if (rc == 0 && r->o->verbose)
      fprintf(stderr, "hearth: restored from %s\n", r->snap.name);
    r->t.snapshot = "restored";
    return rc;
  }
  if (ino != 0 && (rc = snapstore_discard(&r->snap, ino)) < 0)
    fprintf(stderr, "hearth: cannot remove the refused snapshot %s: %s\n", r->snap.name,
            strerror(-rc));
  r->creating = true;
  if (boot_at_image_point(r) != 0 || load_code(r) < 0)
    return -1;
  if (snap_take(r, &r->snap) == 0)
    r->t.snapshot = "created";
  snapstore_end(&r->snap);
  return 0;
}

/* The VM up to the code LOADED: from the function snapshot when there is
 * one, else create_and_load (fresh, without snapshots, with --no-snapshot). */
static int vm_with_code(struct run *r) {
  if (r->o->no_snapshot) {
    r->t.snapshot = "off";
    return start_vm(r, NULL) == 0 ? load_code(r) : -1;
  }
  if (snap_prepare(r) < 0)
    return -1;
  ino_t ino = snapstore_find(&r->snap);
  if (ino != 0) {
    int rc = start_vm(r, r->snap.path);
    if (rc != RESTORE_REFUSED) {
      if (rc == 0 && r->o->verbose)
        fprintf(stderr, "hearth: restored from %s\n", r->snap.name);
      r->t.snapshot = "restored";
      return rc;
    }
    drop_refused(r, &r->snap, 0); /* removed under the lock, in create_and_load */
  }
  return create_and_load(r, ino);
}

/* ---- the invocation ------------------------------------------------- */

static int send_invoke(struct run *r) {
  struct msg_invoke m = {.function = r->function,
                         .content_type = r->ev.content_type,
                         .env = r->o->env,
                         .nenv = r->o->nenv,
                         .timeout_ms = (uint64_t)(r->o->timeout_s * 1e3),
                         .memory_mb = r->o->mem_mib,
                         .response_cap = r->o->response_cap,
                         .log_cap = r->o->log_cap};
  int rc = msg_request_id(m.request_id);
  if (rc < 0)
    return outcome_set(&r->out, EXIT_HEARTH, "getrandom: %s", strerror(-rc)), -1;
  char *json = malloc(HF_CONTROL_MAX);
  if (json == NULL)
    return outcome_set(&r->out, EXIT_HEARTH, "out of memory"), -1;
  long len = msg_build_invoke(json, HF_CONTROL_MAX, &m);
  rc = send_control(r, HF_INVOKE, json, len);
  free(json);
  return rc;
}

/* Streams the event. Returns 0 when the event went out whole, or when the
 * guest stopped listening (its RESULT or ERROR, or its reason for closing,
 * is then read by the caller); -1 with the outcome decided. */
static int send_event(struct run *r) {
  char *buf = malloc(EVENT_PIECE);
  if (buf == NULL)
    return outcome_set(&r->out, EXIT_HEARTH, "out of memory"), -1;
  int rc = 0;
  for (;;) {
    if (r->ev.may_block && (rc = session_wait_readable(&r->s, r->ev.fd)) != 0)
      break; /* 1: the guest answered already; < 0 see below */
    ssize_t n = event_read(&r->ev, buf, EVENT_PIECE);
    if (n <= 0) {
      rc = n == 0 ? session_send_frame(&r->s, HF_END, HF_STREAM_EVENT, NULL, 0) : (int)n;
      break;
    }
    if ((rc = session_send_data(&r->s, HF_STREAM_EVENT, buf, (size_t)n)) < 0)
      break;
  }
  free(buf);
  char cap[32];
  if (rc == -EFBIG)
    return outcome_set(&r->out, EXIT_HEARTH, "the event is larger than --event-cap (%s)",
                       outcome_size(r->o->event_cap, cap, sizeof cap)),
           -1;
  return rc < 0 && rc != -EPIPE ? stopped(r, rc) : 0;
}

static int invoke(struct run *r) {
  r->doing = "invoking the handler";
  waiter_set_timeout(&r->w, r->o->timeout_s);
  r->t.invoke = waiter_now_ms();
  if (send_invoke(r) < 0 || send_event(r) < 0 || expect(r, HF_RESULT) < 0)
    return -1;
  r->t.result = waiter_now_ms();
  struct msg_result res;
  if (msg_parse_result(r->s.control, r->s.control_len, &res) < 0) {
    snprintf(r->s.why, sizeof r->s.why, "a malformed RESULT");
    return stopped(r, -EPROTO);
  }
  r->t.handler_us = res.duration_us;
  if (r->s.out_lost)
    fprintf(stderr, "hearth: stdout or stderr was closed: part of the output was dropped\n");
  outcome_from_result(&r->out, &res, r->o->response_cap);
  return 0;
}

/* ---- teardown ------------------------------------------------------- */

static void teardown(struct run *r) {
  if (r->snap_on) {
    snapstore_end(&r->image_snap);
    snapstore_end(&r->snap);
  }
  if (r->connected)
    session_close(&r->s);
  if (r->vmm_started)
    vmmproc_kill(&r->vmm);
  if (r->have_event)
    event_close(&r->ev);
  int rc = vmdir_remove(&r->dir);
  if (rc < 0)
    fprintf(stderr, "hearth: cannot remove the VM directory: %s\n", strerror(-rc));
  codepack_close(r->code);
  r->t.end = waiter_now_ms();
}

static int run_with(struct run *r) {
  if (prepare(r) == 0 && vm_with_code(r) == 0)
    invoke(r);
  teardown(r);
  /* On a terminal, a response without a final newline would run into the
   * status line. */
  if (r->s.response_last && r->s.response_last != '\n' && isatty(STDOUT_FILENO) &&
      isatty(STDERR_FILENO))
    fputc('\n', stderr);
  outcome_print(&r->out);
  if (r->o->timings) {
    int rc = timings_write(r->o->timings, &r->t, r->out.status);
    if (rc < 0)
      fprintf(stderr, "hearth: cannot write --timings %s: %s\n", r->o->timings, strerror(-rc));
  }
  return r->out.set ? r->out.status : EXIT_HEARTH;
}

int run_command(int argc, char **argv, char **envp) {
  struct runopts o;
  char err[512];
  switch (runopts_parse(argc, argv, &o, err, sizeof err)) {
  case RUNOPTS_HELP:
    runopts_usage(stdout);
    return 0;
  case RUNOPTS_ERROR:
    fprintf(stderr, "hearth run: %s\n(hearth run --help lists the flags)\n", err);
    return EXIT_HEARTH;
  case RUNOPTS_RUN:
    break;
  }
  struct run *r = calloc(1, sizeof *r);
  if (r == NULL) {
    fprintf(stderr, "hearth: out of memory\n");
    return EXIT_HEARTH;
  }
  r->o = &o;
  r->envp = envp;
  r->snap.lock_fd = r->image_snap.lock_fd = -1;
  r->t.start = waiter_now_ms();
  r->w.sig_fd = sig_install();
  int status;
  if (r->w.sig_fd < 0) {
    fprintf(stderr, "hearth: cannot set up signal handling: %s\n", strerror(-r->w.sig_fd));
    status = EXIT_HEARTH;
  } else {
    status = run_with(r);
  }
  free(r);
  return status;
}
