/* elf.c - validation of an ELF64 x86-64 executable's file header and
 * program headers (see elf.h). Every number comes from the file, so every
 * sum is checked for overflow and every range against the file size. */
#include "loader/elf.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#include "mem/layout.h"

static int reject(const char **why, const char *reason) {
  *why = reason;
  return -ENOEXEC;
}

static uint64_t page_down(uint64_t v) { return v & ~(ELF_PAGE_SIZE - 1); }
static uint64_t page_up(uint64_t v) { return page_down(v + ELF_PAGE_SIZE - 1); }
static bool is_pow2_or_zero(uint64_t v) { return (v & (v - 1)) == 0; }

/* True when [off, off+len) lies inside a file of `size` bytes. */
static bool in_file(uint64_t off, uint64_t len, uint64_t size) {
  return off <= size && len <= size - off;
}

static int check_ident(const Elf64_Ehdr *eh, const char **why) {
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
    return reject(why, "not an ELF file (bad magic)");
  if (eh->e_ident[EI_CLASS] != ELFCLASS64)
    return reject(why, "not a 64-bit ELF file");
  if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
    return reject(why, "not a little-endian ELF file");
  if (eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
    return reject(why, "unknown ELF version");
  if (eh->e_machine != EM_X86_64)
    return reject(why, "not an x86-64 program");
  if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
    return reject(why, "not an executable or shared object");
  return 0;
}

/* Section headers are optional for running a program: unusable ones are
 * ignored (as Linux does), not rejected. Extended numbering (e_shnum 0,
 * e_shstrndx SHN_XINDEX) counts as unusable. */
static void note_sections(const Elf64_Ehdr *eh, uint64_t file_size, struct elf_info *out) {
  out->shoff = eh->e_shoff;
  out->shnum = eh->e_shnum;
  out->shstrndx = eh->e_shstrndx;
  out->has_sections = eh->e_shnum > 0 && eh->e_shentsize == ELF_SHENT_SIZE &&
                      eh->e_shstrndx != SHN_UNDEF && eh->e_shstrndx < eh->e_shnum &&
                      in_file(eh->e_shoff, (uint64_t)eh->e_shnum * ELF_SHENT_SIZE, file_size);
}

int elf_parse_ehdr(const void *buf, size_t len, uint64_t file_size, struct elf_info *out,
                   const char **why) {
  Elf64_Ehdr eh;
  if (len < sizeof eh || file_size < sizeof eh)
    return reject(why, "file too short for an ELF header");
  memcpy(&eh, buf, sizeof eh);
  int err = check_ident(&eh, why);
  if (err)
    return err;
  if (eh.e_phentsize != ELF_PHENT_SIZE)
    return reject(why, "unexpected program header size");
  if (eh.e_phnum == 0 || eh.e_phnum > ELF_MAX_PHNUM)
    return reject(why, "no program headers, or too many");
  if (!in_file(eh.e_phoff, (uint64_t)eh.e_phnum * ELF_PHENT_SIZE, file_size))
    return reject(why, "program headers outside the file");
  memset(out, 0, sizeof *out);
  out->type = eh.e_type;
  out->entry = eh.e_entry;
  out->phoff = eh.e_phoff;
  out->phnum = eh.e_phnum;
  note_sections(&eh, file_size, out);
  return 0;
}

/* Checks a segment whose bytes the loader uses: a sane address range and
 * file range, and a power-of-two alignment. */
static int check_extent(const Elf64_Phdr *ph, uint64_t file_size, const char **why) {
  if (ph->p_filesz > ph->p_memsz)
    return reject(why, "segment's file size exceeds its memory size");
  if (!in_file(ph->p_offset, ph->p_filesz, file_size))
    return reject(why, "segment extends beyond the end of the file");
  if (ph->p_vaddr + ph->p_memsz < ph->p_vaddr)
    return reject(why, "segment address range overflows");
  if (!is_pow2_or_zero(ph->p_align))
    return reject(why, "segment alignment is not a power of two");
  return 0;
}

static int add_load(const Elf64_Phdr *ph, struct elf_info *info, const char **why) {
  if (ph->p_memsz == 0)
    return 0; /* maps nothing */
  if ((ph->p_vaddr - ph->p_offset) % ELF_PAGE_SIZE != 0)
    return reject(why, "segment's address and file offset differ modulo the page size");
  uint64_t end = ph->p_vaddr + ph->p_memsz;
  if (end > LAYOUT_USER_TOP)
    return reject(why, "segment outside the user address space");
  if (info->type == ET_EXEC && page_down(ph->p_vaddr) < LAYOUT_MMAP_MIN)
    return reject(why, "segment below the lowest mappable address");
  if (info->nload > 0) {
    const struct elf_segment *prev = &info->load[info->nload - 1];
    if (ph->p_vaddr < prev->vaddr)
      return reject(why, "PT_LOAD segments not sorted by address");
    if (page_down(ph->p_vaddr) < page_up(prev->vaddr + prev->memsz))
      return reject(why, "PT_LOAD segments overlap or share a page");
  }
  info->load[info->nload++] = (struct elf_segment){
      .vaddr = ph->p_vaddr,
      .memsz = ph->p_memsz,
      .offset = ph->p_offset,
      .filesz = ph->p_filesz,
      .align = ph->p_align,
      .flags = ph->p_flags,
  };
  return 0;
}

static int set_extent(struct elf_extent *x, const Elf64_Phdr *ph, const char **why,
                      const char *duplicate) {
  if (x->present)
    return duplicate ? reject(why, duplicate) : 0;
  *x = (struct elf_extent){.present = true,
                           .vaddr = ph->p_vaddr,
                           .offset = ph->p_offset,
                           .filesz = ph->p_filesz,
                           .memsz = ph->p_memsz};
  return 0;
}

static int take_phdr(const Elf64_Phdr *ph, uint64_t file_size, struct elf_info *info,
                     bool *has_pt_phdr, const char **why) {
  switch (ph->p_type) {
  case PT_LOAD: {
    int err = check_extent(ph, file_size, why);
    return err ? err : add_load(ph, info, why);
  }
  case PT_INTERP: {
    int err = check_extent(ph, file_size, why);
    if (err)
      return err;
    if (ph->p_filesz < 2 || ph->p_filesz > ELF_INTERP_MAX)
      return reject(why, "PT_INTERP path empty or too long");
    return set_extent(&info->interp, ph, why, "more than one PT_INTERP");
  }
  case PT_GNU_EH_FRAME: {
    int err = check_extent(ph, file_size, why);
    return err ? err : set_extent(&info->eh_frame_hdr, ph, why, NULL);
  }
  case PT_TLS: {
    int err = check_extent(ph, file_size, why);
    info->has_tls = true;
    return err;
  }
  case PT_GNU_STACK:
    info->exec_stack = (ph->p_flags & PF_X) != 0;
    return 0;
  case PT_PHDR:
    info->phdr_vaddr = ph->p_vaddr;
    *has_pt_phdr = true;
    return 0;
  default:
    return 0;
  }
}

/* Where the program headers are in memory: PT_PHDR when present, else
 * inside the PT_LOAD mapping their file bytes, else what Linux computed
 * for years (first segment's address minus its offset, plus e_phoff). */
static uint64_t find_phdr_vaddr(const struct elf_info *info) {
  uint64_t size = (uint64_t)info->phnum * ELF_PHENT_SIZE;
  for (size_t i = 0; i < info->nload; i++) {
    const struct elf_segment *s = &info->load[i];
    if (info->phoff >= s->offset && info->phoff - s->offset <= s->filesz &&
        size <= s->filesz - (info->phoff - s->offset))
      return s->vaddr + (info->phoff - s->offset);
  }
  return info->load[0].vaddr - info->load[0].offset + info->phoff;
}

static bool entry_is_executable(const struct elf_info *info) {
  for (size_t i = 0; i < info->nload; i++) {
    const struct elf_segment *s = &info->load[i];
    if ((s->flags & PF_X) && info->entry >= s->vaddr && info->entry - s->vaddr < s->memsz)
      return true;
  }
  return false;
}

static int finish(struct elf_info *info, bool has_pt_phdr, bool need_entry, const char **why) {
  if (info->nload == 0)
    return reject(why, "no loadable segment");
  const struct elf_segment *last = &info->load[info->nload - 1];
  info->lo = page_down(info->load[0].vaddr);
  info->hi = page_up(last->vaddr + last->memsz);
  if (info->hi - info->lo > ELF_MAX_SPAN)
    return reject(why, "segments span more than 1 TiB");
  if (need_entry && !entry_is_executable(info))
    return reject(why, "entry point not inside an executable segment");
  info->max_align = ELF_PAGE_SIZE;
  for (size_t i = 0; i < info->nload; i++)
    if (info->load[i].align > info->max_align)
      info->max_align = info->load[i].align;
  if (!has_pt_phdr)
    info->phdr_vaddr = find_phdr_vaddr(info);
  return 0;
}

static int parse_phdrs(const void *phdrs, size_t len, uint64_t file_size, struct elf_info *info,
                       bool need_entry, const char **why) {
  if (len != (size_t)info->phnum * ELF_PHENT_SIZE)
    return reject(why, "program headers truncated");
  bool has_pt_phdr = false;
  info->nload = 0;
  info->exec_stack = true; /* until a PT_GNU_STACK says otherwise */
  for (size_t i = 0; i < info->phnum; i++) {
    Elf64_Phdr ph;
    memcpy(&ph, (const uint8_t *)phdrs + i * ELF_PHENT_SIZE, sizeof ph);
    int err = take_phdr(&ph, file_size, info, &has_pt_phdr, why);
    if (err)
      return err;
  }
  return finish(info, has_pt_phdr, need_entry, why);
}

int elf_parse_phdrs(const void *phdrs, size_t len, uint64_t file_size, struct elf_info *info,
                    const char **why) {
  return parse_phdrs(phdrs, len, file_size, info, true, why);
}

static int parse_whole(const void *buf, size_t len, uint64_t file_size, struct elf_info *out,
                       bool need_entry, const char **why) {
  int err = elf_parse_ehdr(buf, len, file_size, out, why);
  if (err)
    return err;
  size_t phsize = (size_t)out->phnum * ELF_PHENT_SIZE;
  if (!in_file(out->phoff, phsize, len))
    return reject(why, "program headers truncated");
  return parse_phdrs((const uint8_t *)buf + out->phoff, phsize, file_size, out, need_entry, why);
}

int elf_parse(const void *buf, size_t len, uint64_t file_size, struct elf_info *out,
              const char **why) {
  return parse_whole(buf, len, file_size, out, true, why);
}

int elf_parse_mapped(const void *buf, size_t len, uint64_t file_size, struct elf_info *out,
                     const char **why) {
  return parse_whole(buf, len, file_size, out, false, why);
}

int elf_check_interp(const char *bytes, size_t len, const char **why) {
  if (len < 2 || bytes[len - 1] != '\0' || strlen(bytes) != len - 1)
    return reject(why, "PT_INTERP is not one NUL-terminated path");
  return 0;
}

const struct elf_segment *elf_segment_at(const struct elf_info *info, uint64_t vaddr) {
  for (size_t i = 0; i < info->nload; i++) {
    const struct elf_segment *s = &info->load[i];
    if (vaddr >= s->vaddr && vaddr - s->vaddr < s->filesz)
      return s;
  }
  return NULL;
}
