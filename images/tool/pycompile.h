/* pycompile.h - the Python files of a staged tree compiled to .pyc with
 * the recipe's interpreter (an absolute path, e.g. Debian's
 * /usr/bin/python3.11, never whatever `python3` PATH finds):
 *   python -s -m compileall -q -j 0 --invalidation-mode timestamp
 *          -s STAGE -p / STAGE/DIR...
 * Timestamp invalidation: each .pyc records its source's mtime and size,
 * which the image keeps exactly and hearth-vmm's stat reports, so the
 * guest's python uses them as they are (the image is read-only: a .pyc it
 * found stale could not be rewritten). -s/-p record the guest path of
 * each source in its code objects, for tracebacks. PYTHONHASHSEED=0 in an
 * otherwise empty environment keeps the output the same from build to
 * build. The compiled files get mtime `stamp`. */
#ifndef HEARTH_IMAGES_TOOL_PYCOMPILE_H
#define HEARTH_IMAGES_TOOL_PYCOMPILE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/imgerr.h"
#include "stage.h"

/* Compiles the guest directories dirs[0, n) of the stage; *compiled counts
 * the .pyc files made. */
int pycompile_run(struct stage *s, const char *python, char *const *dirs, size_t n, int64_t stamp,
                  size_t *compiled, struct img_err *err);

#endif
