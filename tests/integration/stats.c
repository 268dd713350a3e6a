/* stats.c - parses hearth-vmm's --stats JSON with cJSON, strictly: a
 * missing or non-integer field is an error, not a zero. */
#include "stats.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define STATS_MAX_BYTES 65536

static int read_small_file(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return -errno;
  size_t n = fread(buf, 1, cap, f);
  int rc = ferror(f) ? -EIO : 0;
  fclose(f);
  if (rc == 0 && n == cap)
    rc = -EFBIG;
  if (rc == 0)
    buf[n] = '\0';
  return rc;
}

static int get_count(const cJSON *root, const char *name, uint64_t *out) {
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, name);
  if (!cJSON_IsNumber(item))
    return -EINVAL;
  double v = item->valuedouble;
  /* 2^53: beyond it a double no longer holds every integer */
  if (!(v >= 0 && v <= 9007199254740992.0) || (double)(uint64_t)v != v)
    return -EINVAL;
  *out = (uint64_t)v;
  return 0;
}

int vmm_stats_read(const char *path, struct vmm_stats *s) {
  static char text[STATS_MAX_BYTES + 1];
  int rc = read_small_file(path, text, sizeof text);
  if (rc != 0)
    return rc;
  cJSON *root = cJSON_Parse(text);
  if (!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return -EINVAL;
  }
  rc = get_count(root, "exits", &s->exits);
  if (rc == 0)
    rc = get_count(root, "syscalls", &s->syscalls);
  if (rc == 0)
    rc = get_count(root, "lstar_syscalls", &s->lstar_syscalls);
  if (rc == 0)
    rc = get_count(root, "sites_rewritten", &s->sites_rewritten);
  cJSON_Delete(root);
  return rc;
}
