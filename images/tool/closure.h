/* closure.h - the shared-library closure of a staged tree: for every ELF
 * program and shared object in it, its dynamic loader (PT_INTERP) and each
 * library it needs (DT_NEEDED), looked up as the guest's ld.so will (no
 * ld.so.cache in the image): DT_RUNPATH/DT_RPATH with $ORIGIN, then the
 * multiarch and system directories; each found on the host and staged at
 * the same path with its symlink chain, then examined in turn. A library
 * that cannot be found fails the build, naming who needs it. */
#ifndef HEARTH_IMAGES_TOOL_CLOSURE_H
#define HEARTH_IMAGES_TOOL_CLOSURE_H

#include <stddef.h>

#include "lib/imgerr.h"
#include "stage.h"

/* Largest file examined (read whole). */
#define CLOSURE_MAX_FILE (256u << 20)

/* Stages the closure of everything staged so far. *libraries counts the
 * files it added. */
int closure_stage(struct stage *s, size_t *libraries, struct img_err *err);

#endif
