/* vmmstats.c - parses hearth-vmm's --stats JSON with cJSON; a missing or
 * malformed required field is an error rather than a zero. */
#include "vmmstats.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <unistd.h>

#define STATS_FILE_MAX 65536

/* Reads the whole file into buf; *len gets its size. A file that fills all
 * cap bytes counts as too big (-EFBIG). */
static int read_bounded(const char *path, char *buf, size_t cap, size_t *len) {
  *len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t n;
  while ((n = read(fd, buf + *len, cap - *len)) > 0 && *len + (size_t)n < cap)
    *len += (size_t)n;
  int rc = n < 0 ? -errno : n > 0 ? -EFBIG : 0;
  close(fd);
  return rc;
}

/* A non-negative integer field, or -EINVAL. */
static int get_count(const cJSON *obj, const char *key, double *out) {
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!cJSON_IsNumber(item))
    return -EINVAL;
  double v = item->valuedouble;
  if (!(v >= 0 && v <= 9007199254740992.0) || floor(v) != v) /* 2^53: still exact */
    return -EINVAL;
  *out = v;
  return 0;
}

static int parse_stats(const cJSON *obj, struct vmm_run_stats *s) {
  if (!cJSON_IsObject(obj))
    return -EINVAL;
  int rc = get_count(obj, "exits", &s->exits);
  if (rc == 0)
    rc = get_count(obj, "syscalls", &s->syscalls);
  if (rc == 0)
    rc = get_count(obj, "lstar_syscalls", &s->lstar_syscalls);
  if (rc == 0)
    s->has_guest_resident = get_count(obj, "guest_resident_kib", &s->guest_resident_kib) == 0;
  if (rc == 0)
    s->has_pages_populated = get_count(obj, "guest_pages_populated", &s->pages_populated) == 0;
  return rc;
}

int vmm_stats_load(const char *path, struct vmm_run_stats *s) {
  static char text[STATS_FILE_MAX];
  size_t len = 0;
  int rc = read_bounded(path, text, sizeof text, &len);
  if (rc < 0)
    return rc;
  cJSON *obj = cJSON_ParseWithLength(text, len);
  if (!obj)
    return -EINVAL; /* cJSON does not tell a syntax error from a failed allocation */
  rc = parse_stats(obj, s);
  cJSON_Delete(obj);
  return rc;
}
