/* pack.h - the staged tree written as rootfs.tar (libarchive, pax format,
 * entries in path order, owner 0:0, whole-second mtimes, directories
 * 0755 with mtime `stamp`) while the manifest's entries are made from the
 * same bytes: each file's SHA-256 and, for ELF files, their syscall sites
 * found by the VMM's own finder (vmm/loader/filesites.h). One read of
 * each file; only ELF files are held whole (the finder needs them so). */
#ifndef HEARTH_IMAGES_TOOL_PACK_H
#define HEARTH_IMAGES_TOOL_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "lib/imgerr.h"
#include "lib/manifest.h"

struct pack_report {
  size_t files, dirs, symlinks, elf_files, sites;
  uint64_t bytes; /* of file data */
};

/* Packs the tree under stagefd into the open file tarfd and fills
 * m->entries (m->n of them). */
int pack_tree(int stagefd, int tarfd, int64_t stamp, struct manifest *m, struct pack_report *rep,
              struct img_err *err);

#endif
