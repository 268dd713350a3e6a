/* elfdeps.h - what an ELF file needs to be loaded: its dynamic loader
 * (PT_INTERP) and the shared libraries it names (DT_NEEDED), with its
 * search path (DT_RUNPATH, else DT_RPATH). Read from the whole file in a
 * buffer, every offset and string checked against it (vmm/loader/elf.h
 * validates the headers). */
#ifndef HEARTH_IMAGES_TOOL_ELFDEPS_H
#define HEARTH_IMAGES_TOOL_ELFDEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELFDEPS_MAX_NEEDED 256
#define ELFDEPS_MAX_STRING 4096

struct elf_deps {
  const char *interp;                     /* into the buffer, or NULL */
  const char *needed[ELFDEPS_MAX_NEEDED]; /* into the buffer */
  size_t nneeded;
  const char *runpath; /* DT_RUNPATH or DT_RPATH (colon-separated), or NULL */
};

/* True when buf starts like an ELF file. */
bool elfdeps_is_elf(const uint8_t *buf, size_t len);

/* Reads the dependencies of the ELF file file[0, len). 0 (a static
 * program has none); -ENOEXEC with *why set when it is not a loadable
 * x86-64 ELF object. The strings point into `file`. */
int elfdeps_read(const uint8_t *file, size_t len, struct elf_deps *out, const char **why);

#endif
