/* series.h - the samples of one measured quantity, and their median, minimum
 * and maximum. */
#ifndef HEARTH_BENCH_SERIES_H
#define HEARTH_BENCH_SERIES_H

#include <stddef.h>

struct series {
  double *v;
  size_t n, cap;
};

struct summary {
  size_t n; /* 0: no samples, the other fields are 0 */
  double median, min, max;
};

/* Makes room for up to `cap` samples. Returns 0 or -ENOMEM. */
int series_init(struct series *s, size_t cap);

/* Frees the samples; s may be zero-initialised and never set up. */
void series_free(struct series *s);

/* Appends x. Returns 0, or -ENOSPC when the series already holds cap samples. */
int series_add(struct series *s, double x);

/* The median (mean of the middle two for an even count), minimum and maximum.
 * Returns 0 or -ENOMEM; an empty series gives n == 0. */
int series_summarize(const struct series *s, struct summary *out);

#endif
