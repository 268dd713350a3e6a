/* elf.h - parsing and validation of ELF64 x86-64 executables: the file
 * header, the program headers and where the section headers are. Pure: it
 * works on host buffers the caller has read from the file, and trusts none
 * of their contents. Every rejection is -ENOEXEC with a static reason string
 * for the caller's log line. */
#ifndef HEARTH_VMM_LOADER_ELF_H
#define HEARTH_VMM_LOADER_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_EHDR_SIZE 64u
#define ELF_PHENT_SIZE 56u
#define ELF_SHENT_SIZE 64u
#define ELF_MAX_PHNUM 64u         /* more program headers than any real program has */
#define ELF_INTERP_MAX 4096u      /* PT_INTERP bytes, NUL included (PATH_MAX) */
#define ELF_MAX_SPAN (1ULL << 40) /* lowest to highest PT_LOAD address: 1 TiB */
#define ELF_PAGE_SIZE 4096ULL

/* One PT_LOAD, as in the file (link-time addresses, before any bias). */
struct elf_segment {
  uint64_t vaddr, memsz;
  uint64_t offset, filesz;
  uint64_t align;
  uint32_t flags; /* PF_R | PF_W | PF_X */
};

/* A file range the program headers point at (PT_INTERP, PT_GNU_EH_FRAME). */
struct elf_extent {
  bool present;
  uint64_t vaddr, offset, filesz, memsz;
};

struct elf_info {
  uint16_t type; /* ET_EXEC or ET_DYN */
  uint64_t entry;
  uint64_t phoff;
  uint16_t phnum;
  struct elf_segment load[ELF_MAX_PHNUM]; /* PT_LOADs with memsz > 0, by vaddr */
  size_t nload;
  uint64_t lo, hi;                /* page-aligned [lowest, highest) PT_LOAD address */
  uint64_t max_align;             /* largest PT_LOAD p_align (at least a page) */
  uint64_t phdr_vaddr;            /* where the program headers are once loaded (AT_PHDR) */
  struct elf_extent interp;       /* PT_INTERP: path of the dynamic loader */
  struct elf_extent eh_frame_hdr; /* PT_GNU_EH_FRAME: .eh_frame_hdr */
  bool has_tls;                   /* PT_TLS */
  bool exec_stack;                /* PT_GNU_STACK with PF_X (or no PT_GNU_STACK) */
  /* Section headers, when usable (a file needs none to run). */
  bool has_sections;
  uint64_t shoff;
  uint16_t shnum, shstrndx;
};

/* Validates the ELF file header in buf[0, len) of a file of `file_size`
 * bytes and fills type, entry, phoff, phnum and the section-header fields
 * of *out. After it succeeds, the program headers are the file bytes
 * [phoff, phoff + phnum * ELF_PHENT_SIZE), which lie inside the file.
 * 0, or -ENOEXEC with *why set. */
int elf_parse_ehdr(const void *buf, size_t len, uint64_t file_size, struct elf_info *out,
                   const char **why);

/* Validates the program headers (phdrs[0, len), exactly phnum entries read
 * from phoff) against the file header already in *info and completes it:
 * PT_LOAD list, span, AT_PHDR address, PT_INTERP, PT_GNU_EH_FRAME,
 * PT_GNU_STACK, PT_TLS. 0, or -ENOEXEC with *why set. */
int elf_parse_phdrs(const void *phdrs, size_t len, uint64_t file_size, struct elf_info *info,
                    const char **why);

/* Both steps on a buffer holding the file's first `len` bytes, which must
 * include the program headers (else -ENOEXEC). */
int elf_parse(const void *buf, size_t len, uint64_t file_size, struct elf_info *out,
              const char **why);

/* elf_parse for an object the program maps itself (a shared library ld.so
 * maps, or any ELF file mapped with PROT_EXEC): the same checks, except
 * that no entry point is required (a shared library's e_entry is 0). */
int elf_parse_mapped(const void *buf, size_t len, uint64_t file_size, struct elf_info *out,
                     const char **why);

/* Checks the bytes of a PT_INTERP segment: a non-empty path, NUL-terminated
 * in its last byte and nowhere before. 0, or -ENOEXEC with *why set. */
int elf_check_interp(const char *bytes, size_t len, const char **why);

/* The PT_LOAD containing link-time address `vaddr` in its file-backed part,
 * or NULL. */
const struct elf_segment *elf_segment_at(const struct elf_info *info, uint64_t vaddr);

#endif
