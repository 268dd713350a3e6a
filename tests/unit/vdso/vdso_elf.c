/* vdso_elf.c - the tests' own reader of the vDSO image (vdso_elf.h). */
#include "vdso_elf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include <cmocka.h>

const void *vdso_elf_at(const struct vdso_elf *e, uint64_t addr, size_t len) {
  if (addr > e->size || len > e->size - addr)
    fail_msg("image range %#llx+%zu outside its %zu bytes", (unsigned long long)addr, len, e->size);
  return e->img + addr;
}

static void read_dynamic(struct vdso_elf *e) {
  size_t n = e->dynamic->p_filesz / sizeof(Elf64_Dyn);
  const Elf64_Dyn *d = vdso_elf_at(e, e->dynamic->p_offset, n * sizeof *d);
  for (size_t i = 0; i < n && d[i].d_tag != DT_NULL; i++) {
    int64_t tag = d[i].d_tag;
    if (tag >= 0 && tag < DT_NUM)
      e->dyn[tag] = d[i].d_un.d_val;
    else if (tag == DT_VERSYM)
      e->versym = d[i].d_un.d_ptr;
    else if (tag == DT_VERDEF)
      e->verdef = d[i].d_un.d_ptr;
    else if (tag == DT_VERDEFNUM)
      e->verdefnum = d[i].d_un.d_val;
    else if (tag == DT_GNU_HASH)
      e->gnu_hash = d[i].d_un.d_ptr;
  }
}

void vdso_elf_open(struct vdso_elf *e, const void *img, size_t size) {
  memset(e, 0, sizeof *e);
  e->img = img;
  e->size = size;
  memcpy(&e->eh, vdso_elf_at(e, 0, sizeof e->eh), sizeof e->eh);
  assert_int_equal(e->eh.e_phentsize, sizeof(Elf64_Phdr));
  const Elf64_Phdr *ph = vdso_elf_at(e, e->eh.e_phoff, e->eh.e_phnum * sizeof *ph);
  for (unsigned i = 0; i < e->eh.e_phnum; i++) {
    if (ph[i].p_type == PT_LOAD && e->loads++ == 0)
      e->load = &ph[i];
    if (ph[i].p_type == PT_DYNAMIC)
      e->dynamic = &ph[i];
  }
  assert_non_null(e->load);
  assert_non_null(e->dynamic);
  read_dynamic(e);
  vdso_elf_at(e, e->dyn[DT_STRTAB], e->dyn[DT_STRSZ]); /* the string table is inside */
}

static const char *str_at(const struct vdso_elf *e, uint64_t off) {
  assert_true(off < e->dyn[DT_STRSZ]);
  const char *s = vdso_elf_at(e, e->dyn[DT_STRTAB] + off, 1);
  assert_non_null(memchr(s, '\0', e->dyn[DT_STRSZ] - off));
  return s;
}

static const Elf64_Sym *sym_at(const struct vdso_elf *e, uint32_t i) {
  return vdso_elf_at(e, e->dyn[DT_SYMTAB] + (uint64_t)i * sizeof(Elf64_Sym), sizeof(Elf64_Sym));
}

/* The name of version index `ndx` in the verdef chain, or NULL. */
static const char *version_name(const struct vdso_elf *e, uint16_t ndx) {
  uint64_t at = e->verdef;
  for (uint64_t i = 0; at && i < e->verdefnum; i++) {
    const Elf64_Verdef *vd = vdso_elf_at(e, at, sizeof *vd);
    if (vd->vd_ndx == ndx && !(vd->vd_flags & VER_FLG_BASE)) {
      const Elf64_Verdaux *aux = vdso_elf_at(e, at + vd->vd_aux, sizeof *aux);
      return str_at(e, aux->vda_name);
    }
    if (!vd->vd_next)
      break;
    at += vd->vd_next;
  }
  return NULL;
}

static bool sym_matches(const struct vdso_elf *e, uint32_t i, const char *name, const char *ver) {
  const Elf64_Sym *s = sym_at(e, i);
  if (s->st_shndx == SHN_UNDEF || strcmp(str_at(e, s->st_name), name) != 0)
    return false;
  const uint16_t *vs = vdso_elf_at(e, e->versym + 2ull * i, 2);
  const char *have = version_name(e, *vs & 0x7fff);
  return have && strcmp(have, ver) == 0;
}

static uint32_t sysv_hash(const char *name) {
  uint32_t h = 0;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    h = (h << 4) + *p;
    uint32_t g = h & 0xf0000000u;
    h ^= g >> 24;
    h &= ~g;
  }
  return h;
}

const Elf64_Sym *vdso_elf_lookup_sysv(const struct vdso_elf *e, const char *name, const char *ver) {
  const uint32_t *head = vdso_elf_at(e, e->dyn[DT_HASH], 8);
  uint32_t nbucket = head[0], nchain = head[1];
  const uint32_t *bucket = vdso_elf_at(e, e->dyn[DT_HASH] + 8, 4ull * (nbucket + nchain));
  const uint32_t *chain = bucket + nbucket;
  assert_true(nbucket > 0);
  for (uint32_t i = bucket[sysv_hash(name) % nbucket], steps = 0; i; i = chain[i]) {
    assert_true(i < nchain && steps++ < nchain);
    if (sym_matches(e, i, name, ver))
      return sym_at(e, i);
  }
  return NULL;
}

static uint32_t gnu_hash(const char *name) {
  uint32_t h = 5381;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    h = h * 33 + *p;
  return h;
}

const Elf64_Sym *vdso_elf_lookup_gnu(const struct vdso_elf *e, const char *name, const char *ver) {
  const uint32_t *head = vdso_elf_at(e, e->gnu_hash, 16);
  uint32_t nbuckets = head[0], symoffset = head[1], bloom_size = head[2], shift = head[3];
  assert_true(nbuckets > 0 && bloom_size > 0);
  const uint64_t *bloom = vdso_elf_at(e, e->gnu_hash + 16, 8ull * bloom_size);
  uint64_t buckets_at = e->gnu_hash + 16 + 8ull * bloom_size;
  const uint32_t *buckets = vdso_elf_at(e, buckets_at, 4ull * nbuckets);
  uint32_t h = gnu_hash(name);
  uint64_t word = bloom[(h / 64) % bloom_size];
  uint64_t mask = (1ull << (h % 64)) | (1ull << ((h >> shift) % 64));
  if ((word & mask) != mask)
    return NULL;
  uint32_t i = buckets[h % nbuckets];
  if (i < symoffset)
    return NULL;
  for (;; i++) {
    uint64_t chain_at = buckets_at + 4ull * nbuckets + 4ull * (i - symoffset);
    uint32_t h2 = *(const uint32_t *)vdso_elf_at(e, chain_at, 4);
    if ((h | 1) == (h2 | 1) && sym_matches(e, i, name, ver))
      return sym_at(e, i);
    if (h2 & 1)
      return NULL;
  }
}

const Elf64_Shdr *vdso_elf_section(const struct vdso_elf *e, const char *name) {
  assert_int_equal(e->eh.e_shentsize, sizeof(Elf64_Shdr));
  const Elf64_Shdr *sh = vdso_elf_at(e, e->eh.e_shoff, e->eh.e_shnum * sizeof(Elf64_Shdr));
  assert_true(e->eh.e_shstrndx < e->eh.e_shnum);
  const Elf64_Shdr *names = &sh[e->eh.e_shstrndx];
  for (unsigned i = 0; i < e->eh.e_shnum; i++) {
    assert_true(sh[i].sh_name < names->sh_size);
    const char *n = vdso_elf_at(e, names->sh_offset + sh[i].sh_name, 1);
    if (strncmp(n, name, names->sh_size - sh[i].sh_name) == 0)
      return &sh[i];
  }
  return NULL;
}
