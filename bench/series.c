/* series.c - sample storage and order statistics for the benchmark. */
#include "series.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int series_init(struct series *s, size_t cap) {
  s->n = 0;
  s->cap = cap;
  s->v = calloc(cap ? cap : 1, sizeof *s->v);
  return s->v ? 0 : -ENOMEM;
}

void series_free(struct series *s) {
  free(s->v);
  s->v = NULL;
  s->n = s->cap = 0;
}

int series_add(struct series *s, double x) {
  if (s->n >= s->cap)
    return -ENOSPC;
  s->v[s->n++] = x;
  return 0;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int series_summarize(const struct series *s, struct summary *out) {
  memset(out, 0, sizeof *out);
  if (s->n == 0)
    return 0;
  double *sorted = malloc(s->n * sizeof *sorted);
  if (!sorted)
    return -ENOMEM;
  memcpy(sorted, s->v, s->n * sizeof *sorted);
  qsort(sorted, s->n, sizeof *sorted, compare_doubles);
  size_t mid = s->n / 2;
  out->n = s->n;
  out->median = s->n % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  out->min = sorted[0];
  out->max = sorted[s->n - 1];
  free(sorted);
  return 0;
}
