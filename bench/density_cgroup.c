/* density_cgroup.c - bench/density's memory cgroup (density_cgroup.h). */
#include "density_cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* This process's memory cgroup from /proc/self/cgroup: the v1 "memory"
 * line, else the v2 "0::" line. Fills g->parent and g->usage_file. */
static int find_own(struct dcg *g) {
  FILE *f = fopen("/proc/self/cgroup", "re");
  if (!f)
    return -errno;
  char line[PATH_MAX], v2[PATH_MAX] = "";
  int rc = -ENOENT;
  while (rc < 0 && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    char *colon = strchr(line, ':'), *path = colon ? strchr(colon + 1, ':') : NULL;
    if (!path)
      continue;
    *path++ = '\0';
    if (strcmp(colon + 1, "memory") == 0) {
      snprintf(g->parent, sizeof g->parent, "/sys/fs/cgroup/memory%s", path);
      g->usage_file = "memory.usage_in_bytes";
      rc = 0;
    } else if (strcmp(line, "0") == 0 && colon[1] == '\0') {
      snprintf(v2, sizeof v2, "/sys/fs/cgroup%s", path);
    }
  }
  fclose(f);
  if (rc < 0 && v2[0]) {
    snprintf(g->parent, sizeof g->parent, "%s", v2);
    g->usage_file = "memory.current";
    rc = 0;
  }
  return rc;
}

static int write_pid(const char *dir) {
  char path[PATH_MAX + 16], pid[32];
  snprintf(path, sizeof path, "%s/cgroup.procs", dir);
  int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int rc = write(fd, pid, (size_t)n) == n ? 0 : -errno;
  close(fd);
  return rc;
}

int dcg_enter(struct dcg *g, char *why, size_t cap) {
  memset(g, 0, sizeof *g);
  int rc = find_own(g);
  if (rc < 0) {
    snprintf(why, cap, "no memory cgroup in /proc/self/cgroup");
    return rc;
  }
  int n = snprintf(g->dir, sizeof g->dir, "%s/hearth-bench-density.%d", g->parent, (int)getpid());
  if (n < 0 || n >= (int)sizeof g->dir) {
    snprintf(why, cap, "cgroup path too long");
    return -ENAMETOOLONG;
  }
  if (mkdir(g->dir, 0755) < 0) {
    rc = -errno;
    snprintf(why, cap, "cannot make %s: %s", g->dir, strerror(errno));
    return rc;
  }
  if (dcg_usage(g) < 0 || (rc = write_pid(g->dir)) < 0) {
    rc = rc < 0 ? rc : -ENOENT;
    snprintf(why, cap, "cannot use %s (%s): %s", g->dir, g->usage_file, strerror(-rc));
    rmdir(g->dir);
    return rc;
  }
  g->entered = true;
  return 0;
}

static long long read_number(const struct dcg *g, const char *file) {
  char path[PATH_MAX + 32], text[64];
  snprintf(path, sizeof path, "%s/%s", g->dir, file);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0)
    return -EIO;
  text[n] = '\0';
  return strtoll(text, NULL, 10);
}

long long dcg_usage(const struct dcg *g) { return read_number(g, g->usage_file); }

long long dcg_kernel_usage(const struct dcg *g) {
  if (strcmp(g->usage_file, "memory.usage_in_bytes") != 0)
    return -ENOENT;
  return read_number(g, "memory.kmem.usage_in_bytes");
}

int dcg_leave(struct dcg *g) {
  if (!g->entered)
    return 0;
  int rc = write_pid(g->parent);
  if (rc == 0 && rmdir(g->dir) < 0)
    rc = -errno;
  g->entered = false;
  return rc;
}
