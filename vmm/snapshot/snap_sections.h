/* snap_sections.h - the table of the state file's sections other than
 * CONFIG (snap_config.h): each part's name, section type, save and load
 * (snap_parts.h), in the order a restore loads them. */
#ifndef HEARTH_VMM_SNAPSHOT_SNAP_SECTIONS_H
#define HEARTH_VMM_SNAPSHOT_SNAP_SECTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot/snapfile.h"

struct vm;

struct snap_section_part {
  const char *name;
  uint32_t type;
  int (*save)(struct vm *vm, struct snap_buf *b);
  int (*load)(struct vm *vm, struct snap_cursor *c);
};

extern const struct snap_section_part snap_section_parts[];
extern const size_t snap_section_parts_count;

#endif
