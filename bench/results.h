/* results.h - the storage of a bench/start result: every series of every
 * workload, sized for its number of runs. */
#ifndef HEARTH_BENCH_RESULTS_H
#define HEARTH_BENCH_RESULTS_H

#include "bench.h"

/* A zeroed result whose series hold up to o->runs[w] samples for workload
 * w, or NULL when out of memory. */
struct bench_result *results_new(const struct bench_options *o);

/* Frees r and its series; r may be NULL. */
void results_free(struct bench_result *r);

#endif
