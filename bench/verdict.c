/* verdict.c - judges one run and words the reason a failed run failed. */
#include "verdict.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

/* The first line of a capture, at most 160 bytes of it. */
static int first_line_len(const struct capture *c) {
  const char *nl = memchr(c->buf, '\n', c->len); /* buf is not NUL-terminated */
  size_t n = nl ? (size_t)(nl - c->buf) : c->len;
  return (int)(n > 160 ? 160 : n);
}

/* What went wrong, or "" when the run is good. */
static void describe(const char *program, const struct cmd_result *r, const char *expected,
                     size_t len, char *why, size_t whylen) {
  why[0] = '\0';
  if (r->spawn_errno)
    snprintf(why, whylen, "cannot spawn %s: %s", program, strerror(r->spawn_errno));
  else if (r->interrupted)
    snprintf(why, whylen, "interrupted");
  else if (r->timed_out)
    snprintf(why, whylen, "timed out, killed");
  else if (WIFSIGNALED(r->status))
    snprintf(why, whylen, "killed by signal %d (%s)", WTERMSIG(r->status),
             strsignal(WTERMSIG(r->status)));
  else if (WEXITSTATUS(r->status) != 0)
    snprintf(why, whylen, "exit status %d", WEXITSTATUS(r->status));
  else if (r->pipe_held)
    snprintf(why, whylen, "exited, but something kept its stdout/stderr open");
  else if (r->out.truncated || r->out.len != len || memcmp(r->out.buf, expected, len) != 0)
    snprintf(why, whylen, "unexpected stdout (%zu bytes): \"%.*s\"", r->out.len,
             first_line_len(&r->out), r->out.buf);
}

bool run_succeeded(const char *program, const struct cmd_result *r, const char *expected,
                   size_t len, char *why, size_t whylen) {
  describe(program, r, expected, len, why, whylen);
  if (why[0] == '\0')
    return true;
  size_t used = strlen(why);
  if (r->err.len > 0 && used < whylen)
    snprintf(why + used, whylen - used, "; stderr: %.*s", first_line_len(&r->err), r->err.buf);
  return false;
}
