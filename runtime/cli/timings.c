/* timings.c - the --timings JSON (timings.h). */
#include "timings.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

/* "name": b - a in ms, or null when either end was not reached. */
static void span(FILE *f, const char *name, double a, double b, const char *sep) {
  if (a > 0 && b > 0)
    fprintf(f, "  \"%s\": %.3f%s\n", name, b - a, sep);
  else
    fprintf(f, "  \"%s\": null%s\n", name, sep);
}

/* The last phase reached before the teardown. */
static double last_phase(const struct timings *t) {
  const double marks[] = {t->result, t->invoke, t->loaded, t->load, t->hello, t->ready, t->spawn};
  for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
    if (marks[i] > 0)
      return marks[i];
  return 0;
}

int timings_write(const char *path, const struct timings *t, int status) {
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof tmp)
    return -ENAMETOOLONG;
  FILE *f = fopen(tmp, "we");
  if (f == NULL)
    return -errno;
  fputs("{\n", f);
  span(f, "vm_start_ms", t->spawn, t->ready, ",");
  span(f, "connect_ms", t->ready, t->hello, ",");
  span(f, "code_load_ms", t->load, t->loaded, ",");
  span(f, "invoke_ms", t->invoke, t->result, ",");
  span(f, "teardown_ms", last_phase(t), t->end, ",");
  span(f, "total_ms", t->start, t->end, ",");
  fprintf(f, "  \"handler_us\": %llu,\n", (unsigned long long)t->handler_us);
  fprintf(f, "  \"snapshot\": \"%s\",\n", t->snapshot ? t->snapshot : "none");
  fprintf(f, "  \"exit_status\": %d\n}\n", status);
  int rc = ferror(f) ? -EIO : 0;
  if (fclose(f) != 0 && rc == 0)
    rc = -errno;
  if (rc == 0 && rename(tmp, path) != 0)
    rc = -errno;
  if (rc < 0)
    unlink(tmp);
  return rc;
}
