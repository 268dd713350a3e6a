/* ehframe.h - the function ranges an executable describes in its
 * `.eh_frame` unwind tables (one FDE per function, or per part of one), and
 * how to find that section: by name in the section headers, or through
 * PT_GNU_EH_FRAME's `.eh_frame_hdr`. These ranges are where the syscall-site
 * finder starts decoding (PLATFORM.md: never a linear sweep over .text).
 * Pure: host buffers in, link-time addresses out; malformed input is never
 * read outside its buffer. */
#ifndef HEARTH_VMM_LOADER_EHFRAME_H
#define HEARTH_VMM_LOADER_EHFRAME_H

#include <stddef.h>
#include <stdint.h>

#define EHFRAME_MAX_FDES (1u << 20)      /* far more functions than any real program */
#define EHFRAME_MAX_BYTES (256ULL << 20) /* largest .eh_frame we read */
#define EHFRAME_MAX_SHNUM 4096u          /* section headers we are willing to read */
#define EHFRAME_MAX_SHSTRTAB (1u << 20)  /* section-name table bytes we read */

/* The code one FDE covers: [start, start + len), link-time address. */
struct fde_range {
  uint64_t start, len;
};

/* A growable list of FDE ranges; free with ehframe_fdes_free. */
struct ehframe_fdes {
  struct fde_range *v;
  size_t n, cap;
  size_t skipped;  /* FDEs not used: unsupported pointer encoding, empty range */
  const char *why; /* non-NULL when parsing stopped before the terminator */
};

void ehframe_fdes_free(struct ehframe_fdes *l);

/* Appends one range, growing the list. 0 or -ENOMEM (the list is unchanged). */
int ehframe_fdes_push(struct ehframe_fdes *l, uint64_t start, uint64_t len);

/* Parses the `.eh_frame` bytes buf[0, len), which are loaded at link-time
 * address `vaddr` (pc-relative pointers are relative to it), appending one
 * range per FDE to *out. Parsing stops at a zero terminator, at the end of
 * the buffer, at the first malformed record (the ranges before it are kept
 * and out->why says what was wrong) or after EHFRAME_MAX_FDES FDEs.
 * 0, or -ENOMEM (out keeps what it had). */
int ehframe_parse(const uint8_t *buf, size_t len, uint64_t vaddr, struct ehframe_fdes *out);

/* Reads eh_frame_ptr from the `.eh_frame_hdr` bytes hdr[0, len) loaded at
 * link-time `hdr_vaddr`: stores the `.eh_frame` address in *eh_frame.
 * 0, or -ENOEXEC (unknown version or pointer encoding, truncated). */
int ehframe_hdr_target(const uint8_t *hdr, size_t len, uint64_t hdr_vaddr, uint64_t *eh_frame);

/* Where a section is: link-time address, file offset, size. */
struct ehframe_section {
  uint64_t addr, offset, size;
};

/* The section-name table of the section header table shdrs[0, shnum)
 * (ELF64 Shdr bytes): entry `shstrndx`, a SHT_STRTAB inside a file of
 * `file_size` bytes and at most EHFRAME_MAX_SHSTRTAB bytes. 0 or -ENOENT. */
int ehframe_shstrtab(const uint8_t *shdrs, size_t shnum, size_t shstrndx, uint64_t file_size,
                     struct ehframe_section *out);

/* Looks up the allocated PROGBITS (or x86-64 UNWIND) section called `name`
 * in shdrs[0, shnum), whose names are in strtab[0, strtab_len). The section
 * lies inside a file of `file_size` bytes. 0, -ENOENT when there is no
 * usable such section, -EFBIG when it is larger than EHFRAME_MAX_BYTES. */
int ehframe_find_section(const uint8_t *shdrs, size_t shnum, const char *strtab, size_t strtab_len,
                         uint64_t file_size, const char *name, struct ehframe_section *out);

#endif
