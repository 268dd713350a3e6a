/* ehframe.c - reads FDE function ranges out of `.eh_frame` (see ehframe.h).
 *
 * The section is a sequence of records, each a length (32-bit, or
 * 0xffffffff then 64-bit) and a 32-bit id: 0 for a CIE, else the distance
 * back to the FDE's CIE. A CIE's augmentation string ("zR", "zPLR", ...)
 * says how its FDEs encode their start address; an FDE gives that start and
 * the length of the code it covers. Every read goes through a bounded
 * cursor, so a malformed section stops the parse instead of reading past
 * the buffer. */
#include "loader/ehframe.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* DWARF pointer encodings (DW_EH_PE_*): low nibble format, bits 4-6 how
 * the value applies, bit 7 indirect. */
#define PE_OMIT 0xff
#define PE_FORMAT_MASK 0x0f
#define PE_APPLY_MASK 0x70
#define PE_INDIRECT 0x80
#define PE_ABSPTR 0x00
#define PE_ULEB128 0x01
#define PE_UDATA2 0x02
#define PE_UDATA4 0x03
#define PE_UDATA8 0x04
#define PE_SLEB128 0x09
#define PE_SDATA2 0x0a
#define PE_SDATA4 0x0b
#define PE_SDATA8 0x0c
#define PE_PCREL 0x10
#define PE_DATAREL 0x30

#define CIE_ID 0u
#define EXT_LENGTH 0xffffffffu

/* A bounded reader over buf[pos, end); reading past end sets `bad` and
 * yields zeros. */
struct cursor {
  const uint8_t *buf;
  size_t pos, end;
  bool bad;
};

static bool cur_take(struct cursor *c, size_t n) {
  if (c->bad || n > c->end - c->pos) {
    c->bad = true;
    return false;
  }
  c->pos += n;
  return true;
}

/* Little-endian unsigned value of n bytes (n <= 8). */
static uint64_t cur_uint(struct cursor *c, size_t n) {
  size_t at = c->pos;
  if (!cur_take(c, n))
    return 0;
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++)
    v |= (uint64_t)c->buf[at + i] << (8 * i);
  return v;
}

static uint64_t cur_sint(struct cursor *c, size_t n) {
  uint64_t v = cur_uint(c, n);
  unsigned shift = 64 - 8 * (unsigned)n;
  return shift ? (uint64_t)((int64_t)(v << shift) >> shift) : v;
}

/* LEB128; bits beyond 64 are dropped (only a malformed file has them). */
static uint64_t cur_leb(struct cursor *c, bool is_signed) {
  uint64_t v = 0;
  unsigned shift = 0;
  uint8_t byte;
  do {
    byte = (uint8_t)cur_uint(c, 1);
    if (c->bad)
      return 0;
    if (shift < 64)
      v |= (uint64_t)(byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80);
  if (is_signed && shift < 64 && (byte & 0x40))
    v |= ~0ULL << shift;
  return v;
}

/* Reads a value in the format of `enc`'s low nibble. False when the format
 * is unknown (or the read overran, with c->bad set). */
static bool read_format(struct cursor *c, uint8_t enc, uint64_t *v) {
  switch (enc & PE_FORMAT_MASK) {
  case PE_ABSPTR:
    *v = cur_uint(c, 8);
    break;
  case PE_ULEB128:
    *v = cur_leb(c, false);
    break;
  case PE_UDATA2:
    *v = cur_uint(c, 2);
    break;
  case PE_UDATA4:
    *v = cur_uint(c, 4);
    break;
  case PE_UDATA8:
    *v = cur_uint(c, 8);
    break;
  case PE_SLEB128:
    *v = cur_leb(c, true);
    break;
  case PE_SDATA2:
    *v = cur_sint(c, 2);
    break;
  case PE_SDATA4:
    *v = cur_sint(c, 4);
    break;
  case PE_SDATA8:
    *v = cur_sint(c, 8);
    break;
  default:
    return false;
  }
  return !c->bad;
}

/* Reads an encoded address whose field is at link-time `field_vaddr`;
 * `data_base` is what DW_EH_PE_datarel is relative to (0: unsupported). */
static bool read_pointer(struct cursor *c, uint8_t enc, uint64_t field_vaddr, uint64_t data_base,
                         uint64_t *v) {
  if (enc == PE_OMIT || (enc & PE_INDIRECT) || !read_format(c, enc, v))
    return false;
  switch (enc & PE_APPLY_MASK) {
  case PE_ABSPTR:
    return true;
  case PE_PCREL:
    *v += field_vaddr;
    return true;
  case PE_DATAREL:
    *v += data_base;
    return data_base != 0;
  default:
    return false; /* textrel, funcrel, aligned: not used on x86-64 */
  }
}

/* Reads the CIE augmentation data after 'z' for the FDE pointer encoding.
 * aug is the string after the 'z'. */
static const char *read_augmentation(struct cursor *c, const char *aug, uint8_t *fde_enc) {
  uint64_t aug_len = cur_leb(c, false);
  if (c->bad || aug_len > c->end - c->pos)
    return "CIE augmentation data overruns the record";
  struct cursor data = {.buf = c->buf, .pos = c->pos, .end = c->pos + aug_len};
  for (; *aug; aug++) {
    uint64_t ignored;
    switch (*aug) {
    case 'R':
      *fde_enc = (uint8_t)cur_uint(&data, 1);
      break;
    case 'L':
      cur_uint(&data, 1);
      break;
    case 'P': {
      uint8_t penc = (uint8_t)cur_uint(&data, 1);
      if (!data.bad && !read_format(&data, penc, &ignored))
        return "CIE personality pointer unreadable";
      break;
    }
    case 'S':
    case 'B':
    case 'G':
      break; /* flags without data */
    default:
      return "unknown CIE augmentation";
    }
    if (data.bad)
      return "CIE augmentation data truncated";
  }
  return NULL;
}

/* Parses the CIE whose body (after the id) is c; finds the FDE pointer
 * encoding. NULL, or why the CIE is unusable. */
static const char *parse_cie(struct cursor *c, uint8_t *fde_enc) {
  uint8_t version = (uint8_t)cur_uint(c, 1);
  if (version != 1 && version != 3 && version != 4)
    return "unsupported CIE version";
  const char *aug = (const char *)c->buf + c->pos;
  const void *nul = memchr(aug, '\0', c->end - c->pos);
  if (!nul)
    return "CIE augmentation string not terminated";
  cur_take(c, (size_t)((const char *)nul - aug) + 1);
  if (version == 4)
    cur_take(c, 2);  /* address size, segment selector size */
  cur_leb(c, false); /* code alignment */
  cur_leb(c, true);  /* data alignment */
  if (version == 1)
    cur_take(c, 1); /* return address register */
  else
    cur_leb(c, false);
  if (c->bad)
    return "CIE truncated";
  *fde_enc = PE_ABSPTR;
  if (aug[0] == '\0')
    return NULL;
  if (aug[0] != 'z')
    return "CIE augmentation without 'z'";
  return read_augmentation(c, aug + 1, fde_enc);
}

/* Reads a record header at `pos`: sets its body [*body, *end). NULL or why
 * it is malformed; *end == pos means the zero terminator. */
static const char *read_record(const uint8_t *buf, size_t len, size_t pos, size_t *body,
                               size_t *end) {
  struct cursor c = {.buf = buf, .pos = pos, .end = len};
  uint64_t rlen = cur_uint(&c, 4);
  if (c.bad)
    return "record length truncated";
  if (rlen == 0) {
    *body = *end = pos;
    return NULL;
  }
  if (rlen == EXT_LENGTH)
    rlen = cur_uint(&c, 8);
  if (c.bad || rlen > len - c.pos)
    return "record overruns the section";
  if (rlen < 4)
    return "record too short for its id";
  *body = c.pos;
  *end = c.pos + (size_t)rlen;
  return NULL;
}

/* The last CIE looked up: consecutive FDEs nearly always share one. */
struct cie_cache {
  size_t pos;
  bool valid, usable;
  uint8_t fde_enc;
};

static bool lookup_cie(const uint8_t *buf, size_t len, size_t cie_pos, struct cie_cache *cache) {
  if (cache->valid && cache->pos == cie_pos)
    return cache->usable;
  size_t body, end;
  cache->valid = true;
  cache->pos = cie_pos;
  cache->usable = false;
  if (read_record(buf, len, cie_pos, &body, &end) || end == cie_pos)
    return false;
  struct cursor c = {.buf = buf, .pos = body, .end = end};
  if (cur_uint(&c, 4) != CIE_ID)
    return false;
  cache->usable = parse_cie(&c, &cache->fde_enc) == NULL;
  return cache->usable;
}

int ehframe_fdes_push(struct ehframe_fdes *l, uint64_t start, uint64_t len) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 256;
    struct fde_range *v = reallocarray(l->v, cap, sizeof *v);
    if (!v)
      return -ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = (struct fde_range){start, len};
  return 0;
}

/* The FDE with body [body, end) (body at its CIE pointer). */
static int take_fde(const uint8_t *buf, size_t len, uint64_t vaddr, size_t body, size_t end,
                    struct cie_cache *cache, struct ehframe_fdes *out) {
  struct cursor c = {.buf = buf, .pos = body, .end = end};
  uint64_t cie_ptr = cur_uint(&c, 4);
  if (cie_ptr > body || !lookup_cie(buf, len, body - (size_t)cie_ptr, cache)) {
    out->skipped++;
    return 0;
  }
  uint64_t start, range;
  if (!read_pointer(&c, cache->fde_enc, vaddr + c.pos, 0, &start) ||
      !read_format(&c, cache->fde_enc, &range) || range == 0) {
    out->skipped++;
    return 0;
  }
  return ehframe_fdes_push(out, start, range);
}

int ehframe_parse(const uint8_t *buf, size_t len, uint64_t vaddr, struct ehframe_fdes *out) {
  struct cie_cache cache = {0};
  size_t pos = 0;
  out->why = NULL;
  while (pos < len) {
    size_t body, end;
    out->why = read_record(buf, len, pos, &body, &end);
    if (out->why || end == pos)
      return 0;
    struct cursor c = {.buf = buf, .pos = body, .end = end};
    if (cur_uint(&c, 4) != CIE_ID) {
      if (out->n >= EHFRAME_MAX_FDES) {
        out->why = "too many FDEs";
        return 0;
      }
      int err = take_fde(buf, len, vaddr, body, end, &cache, out);
      if (err)
        return err;
    }
    pos = end;
  }
  return 0;
}

void ehframe_fdes_free(struct ehframe_fdes *l) {
  free(l->v);
  *l = (struct ehframe_fdes){0};
}

int ehframe_hdr_target(const uint8_t *hdr, size_t len, uint64_t hdr_vaddr, uint64_t *eh_frame) {
  struct cursor c = {.buf = hdr, .pos = 0, .end = len};
  uint8_t version = (uint8_t)cur_uint(&c, 1);
  uint8_t ptr_enc = (uint8_t)cur_uint(&c, 1);
  cur_take(&c, 2); /* FDE count and table encodings: not needed */
  if (c.bad || version != 1)
    return -ENOEXEC;
  /* datarel in .eh_frame_hdr is relative to the header's start. */
  if (!read_pointer(&c, ptr_enc, hdr_vaddr + c.pos, hdr_vaddr, eh_frame))
    return -ENOEXEC;
  return 0;
}

static void read_shdr(const uint8_t *shdrs, size_t i, Elf64_Shdr *sh) {
  memcpy(sh, shdrs + i * sizeof *sh, sizeof *sh);
}

static bool in_file(uint64_t off, uint64_t len, uint64_t size) {
  return off <= size && len <= size - off;
}

int ehframe_shstrtab(const uint8_t *shdrs, size_t shnum, size_t shstrndx, uint64_t file_size,
                     struct ehframe_section *out) {
  Elf64_Shdr sh;
  if (shstrndx >= shnum)
    return -ENOENT;
  read_shdr(shdrs, shstrndx, &sh);
  if (sh.sh_type != SHT_STRTAB || sh.sh_size > EHFRAME_MAX_SHSTRTAB ||
      !in_file(sh.sh_offset, sh.sh_size, file_size))
    return -ENOENT;
  *out = (struct ehframe_section){.addr = sh.sh_addr, .offset = sh.sh_offset, .size = sh.sh_size};
  return 0;
}

static bool name_is(const char *strtab, size_t strtab_len, uint32_t off, const char *name) {
  size_t n = strlen(name);
  return off < strtab_len && strtab_len - off > n && memcmp(strtab + off, name, n) == 0 &&
         strtab[off + n] == '\0';
}

int ehframe_find_section(const uint8_t *shdrs, size_t shnum, const char *strtab, size_t strtab_len,
                         uint64_t file_size, const char *name, struct ehframe_section *out) {
  for (size_t i = 0; i < shnum; i++) {
    Elf64_Shdr sh;
    read_shdr(shdrs, i, &sh);
    if (!name_is(strtab, strtab_len, sh.sh_name, name))
      continue;
    if ((sh.sh_type != SHT_PROGBITS && sh.sh_type != SHT_X86_64_UNWIND) ||
        !(sh.sh_flags & SHF_ALLOC) || !in_file(sh.sh_offset, sh.sh_size, file_size))
      return -ENOENT;
    if (sh.sh_size > EHFRAME_MAX_BYTES)
      return -EFBIG;
    *out = (struct ehframe_section){.addr = sh.sh_addr, .offset = sh.sh_offset, .size = sh.sh_size};
    return 0;
  }
  return -ENOENT;
}
