/* json_file.h - writes a benchmark's JSON summary to its file, for
 * bench/restore and bench/density. */
#ifndef HEARTH_BENCH_JSON_FILE_H
#define HEARTH_BENCH_JSON_FILE_H

#include <cjson/cJSON.h>

/* Prints root (which it deletes, whatever happens) to path, created or
 * truncated, ending in a newline. Returns 0, -ENOMEM, or -EIO. */
int json_file_write(const char *path, cJSON *root);

#endif
