/* filesites.h - the `syscall` sites of an ELF file as FILE OFFSETS, so one
 * list serves every mapping of the file (the loader's segments, and each
 * mmap of a library by ld.so) whatever address it lands at. Found as the
 * loader always did: function ranges from `.eh_frame` FDEs and sized
 * STT_FUNC symbols of `.symtab`, each decoded with Zydis over the file bytes
 * of the executable PT_LOAD segments (sites.h). Pure: the whole file in a
 * host buffer in, sorted offsets out; nothing in the file is trusted. */
#ifndef HEARTH_VMM_LOADER_FILESITES_H
#define HEARTH_VMM_LOADER_FILESITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bump when the way sites are found changes: lists cached on disk by an
 * older finder are then worked out again (sitefmt.h records it). */
#define FILESITES_FINDER_VERSION 1u
/* Largest file whose sites are worked out (it is read whole). Larger
 * files keep their `syscall`s, which reach the VMM through LSTAR. */
#define FILESITES_MAX_FILE (256ULL << 20)

/* Sorted, distinct file offsets of 2-byte `syscall` instructions; each
 * offset + 2 is at most the file's size. */
struct file_sites {
  uint64_t *v;
  size_t n;
};

/* What the finder saw, for the log line. */
struct filesites_report {
  size_t funcs;     /* function ranges: FDEs plus symbols without an FDE */
  size_t decoded;   /* ranges that start in an executable segment */
  size_t cut_short; /* ranges ended early by bytes that do not decode */
  bool capped;      /* SITES_MAX reached: some sites were not recorded */
  const char *note; /* non-NULL: why the function ranges are incomplete */
};

/* Finds the sites of the ELF file held whole in file[0, len) (len is the
 * file's size). 0 with *out filled (possibly empty: nothing executable,
 * no function ranges); -ENOEXEC with *why set when the file is not an
 * x86-64 ELF object that could be mapped; -ENOMEM. *out is left empty on
 * failure. rep and why may be NULL. */
int filesites_find(const uint8_t *file, size_t len, struct file_sites *out,
                   struct filesites_report *rep, const char **why);

/* A deep copy of src into *dst: 0 or -ENOMEM. */
int file_sites_copy(struct file_sites *dst, const struct file_sites *src);

void file_sites_free(struct file_sites *s);

#endif
