/* outcome.c - exit statuses and the closing line (outcome.h). */
#include "outcome.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void outcome_set(struct outcome *o, int status, const char *fmt, ...) {
  if (o->set)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(o->line, sizeof o->line, fmt, ap);
  va_end(ap);
  o->status = status;
  o->set = true;
}

const char *outcome_size(uint64_t bytes, char *buf, unsigned cap) {
  if (bytes < 1024)
    snprintf(buf, cap, "%llu B", (unsigned long long)bytes);
  else if (bytes < (1u << 20))
    snprintf(buf, cap, "%.1f KiB", (double)bytes / 1024);
  else if (bytes < (1u << 30))
    snprintf(buf, cap, "%.1f MiB", (double)bytes / (1 << 20));
  else
    snprintf(buf, cap, "%.1f GiB", (double)bytes / (1 << 30));
  return buf;
}

const char *outcome_signal_name(int signo, char *buf, unsigned cap) {
  const char *abbrev = sigabbrev_np(signo);
  if (abbrev != NULL)
    snprintf(buf, cap, "SIG%s", abbrev);
  else
    snprintf(buf, cap, "signal %d", signo);
  return buf;
}

static const char *duration(uint64_t us, char *buf, unsigned cap) {
  if (us < 1000000)
    snprintf(buf, cap, "%.1f ms", (double)us / 1e3);
  else
    snprintf(buf, cap, "%.2f s", (double)us / 1e6);
  return buf;
}

/* "(response 12 B)", with what was truncated. */
static void details(const struct msg_result *r, uint64_t cap, char *buf, size_t len) {
  char size[32], cap_text[32];
  int n = snprintf(buf, len, "(response %s", outcome_size(r->response_bytes, size, sizeof size));
  if (r->response_truncated)
    n += snprintf(buf + n, len - (size_t)n, ", truncated at the %s cap",
                  outcome_size(cap, cap_text, sizeof cap_text));
  if (r->logs_truncated && (size_t)n < len)
    n += snprintf(buf + n, len - (size_t)n, "; logs truncated at %s",
                  outcome_size(r->log_bytes, size, sizeof size));
  if ((size_t)n < len)
    snprintf(buf + n, len - (size_t)n, ")");
}

void outcome_from_result(struct outcome *o, const struct msg_result *r, uint64_t response_cap) {
  char took[32], more[160], sig[32];
  duration(r->duration_us, took, sizeof took);
  details(r, response_cap, more, sizeof more);
  /* hearth-vmm's "exit status N" says nothing the line does not. */
  bool say_error = r->error[0] && strncmp(r->error, "exit status ", 12) != 0;
  const char *sep = say_error ? ": " : "";
  if (strcmp(r->status, "ok") == 0) {
    outcome_set(o, 0, "ok, %s %s", took, more);
  } else if (strcmp(r->status, "signal") == 0 && r->exit_status > 128 && r->exit_status < 256) {
    int signo = (int)r->exit_status - 128;
    outcome_set(o, (int)r->exit_status, "handler killed by %s after %s %s",
                outcome_signal_name(signo, sig, sizeof sig), took, more);
  } else if (strcmp(r->status, "timeout") == 0) {
    outcome_set(o, EXIT_TIMEOUT, "timed out (the VM's own limit) after %s %s", took, more);
  } else {
    /* A native handler's own status passes through; a python handler that
     * raised (or a status out of range) is 1. */
    int status = r->exit_status > 0 && r->exit_status < 256 ? (int)r->exit_status : 1;
    outcome_set(o, status, "handler failed with status %d after %s%s%.300s %s", status, took, sep,
                say_error ? r->error : "", more);
  }
}

void outcome_from_vmm_exit(struct outcome *o, int code, const char *reason, const char *doing,
                           double timeout_s) {
  char sig[32];
  const char *sep = reason[0] ? ": " : "";
  if (code == EXIT_TIMEOUT)
    outcome_set(o, EXIT_TIMEOUT, "timed out after %g s (hearth-vmm's own limit) while %s",
                timeout_s, doing);
  else if (code > 128 && code < 128 + 65)
    outcome_set(o, code, "the VM died of %s while %s%s%.400s",
                outcome_signal_name(code - 128, sig, sizeof sig), doing, sep, reason);
  else
    outcome_set(o, EXIT_HEARTH, "the VM failed while %s (hearth-vmm status %d)%s%.400s", doing,
                code, sep, reason);
}

void outcome_print(const struct outcome *o) {
  fprintf(stderr, "hearth: %s\n", o->set ? o->line : "finished without an outcome");
}
