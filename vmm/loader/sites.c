/* sites.c - `syscall` sites found by decoding from FDE starts (see sites.h).
 * Decoding from a function's first byte keeps the decoder in step with the
 * real instruction boundaries, so 0f 05 inside an immediate, a displacement
 * or a constant pool is never taken for an instruction. */
#include "loader/sites.h"

#include <Zydis/Zydis.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Sorts the list and drops repeats (overlapping FDEs find a site twice). */
static void compact(struct site_list *l) {
  if (l->n < 2)
    return;
  qsort(l->v, l->n, sizeof *l->v, cmp_u64);
  size_t kept = 1;
  for (size_t i = 1; i < l->n; i++)
    if (l->v[i] != l->v[kept - 1])
      l->v[kept++] = l->v[i];
  l->n = kept;
}

/* Appends a value, growing the list: 0 or -ENOMEM. */
static int site_list_push(struct site_list *l, uint64_t value) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    uint64_t *v = reallocarray(l->v, cap, sizeof *v);
    if (!v)
      return -ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = value;
  return 0;
}

/* Appends a site; sets st->capped when the list is full even after
 * compaction. */
static int append(struct site_list *l, uint64_t site, struct sites_stats *st) {
  if (l->n >= SITES_MAX) {
    compact(l);
    if (l->n >= SITES_MAX) {
      st->capped = true;
      return 0;
    }
  }
  return site_list_push(l, site);
}

static bool is_syscall(const ZydisDecodedInstruction *ins, const uint8_t *at) {
  return ins->mnemonic == ZYDIS_MNEMONIC_SYSCALL && ins->length == 2 && at[0] == 0x0f &&
         at[1] == 0x05;
}

/* Decodes code[off, end) instruction by instruction, stopping at the first
 * instruction that starts at or after `stop`. */
static int scan_range(const ZydisDecoder *dec, const uint8_t *code, size_t off, size_t stop,
                      size_t end, uint64_t vaddr, struct site_list *out, struct sites_stats *st) {
  while (off < stop) {
    ZydisDecodedInstruction ins;
    if (ZYAN_FAILED(ZydisDecoderDecodeInstruction(dec, NULL, code + off, end - off, &ins))) {
      st->decode_failures++;
      VLOG_LIMITED(VLOG_DEBUG, "loader: undecodable bytes at %#llx end an FDE early",
                   (unsigned long long)(vaddr + off));
      return 0;
    }
    if (is_syscall(&ins, code + off)) {
      int err = append(out, vaddr + off, st);
      if (err)
        return err;
    }
    off += ins.length;
  }
  return 0;
}

/* Offsets of every 0f 05 byte pair in code[0, len), sorted: candidates
 * only, to pick which functions need decoding. At most len/2 of them. */
static int pair_offsets(const uint8_t *code, size_t len, struct site_list *out) {
  const uint8_t *at = code + 1, *end = code + len;
  while (at < end && (at = memchr(at, 0x05, (size_t)(end - at))) != NULL) {
    if (at[-1] == 0x0f && site_list_push(out, (uint64_t)(at - 1 - code)) < 0)
      return -ENOMEM;
    at++;
  }
  return 0;
}

/* Index of the first candidate offset >= off. */
static size_t first_pair_at(const struct site_list *pairs, size_t off) {
  size_t lo = 0, hi = pairs->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (pairs->v[mid] < off)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Where decoding [off, end) may stop: just past the last candidate pair in
 * it (nothing after it can be a `syscall`), or `off` when there is none. */
static size_t decode_end(const struct site_list *pairs, size_t off, size_t end) {
  size_t last = first_pair_at(pairs, end > 0 ? end - 1 : 0);
  if (last == 0 || pairs->v[last - 1] < off)
    return off;
  return (size_t)pairs->v[last - 1] + 2;
}

int sites_find(const uint8_t *code, size_t len, uint64_t vaddr, const struct fde_range *fdes,
               size_t nfdes, struct site_list *out, struct sites_stats *st) {
  ZydisDecoder dec;
  if (ZYAN_FAILED(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)) ||
      ZYAN_FAILED(ZydisDecoderEnableMode(&dec, ZYDIS_DECODER_MODE_MINIMAL, ZYAN_TRUE)))
    return -EINVAL;
  struct site_list pairs = {0};
  size_t before = out->n;
  int err = pair_offsets(code, len, &pairs);
  for (size_t i = 0; i < nfdes && !err && !st->capped; i++) {
    const struct fde_range *f = &fdes[i];
    if (f->start < vaddr || f->start - vaddr >= len)
      continue; /* another segment's function */
    size_t off = (size_t)(f->start - vaddr);
    size_t end = off + (size_t)(f->len < len - off ? f->len : len - off);
    st->fdes_scanned++;
    /* A function whose bytes never contain 0f 05 cannot hold a `syscall`:
     * skip it; decode the others from their start (which alone decides
     * whether a pair is an instruction) up to their last pair. */
    size_t stop = decode_end(&pairs, off, end);
    if (stop > off)
      err = scan_range(&dec, code, off, stop, end, vaddr, out, st);
  }
  site_list_free(&pairs);
  compact(out);
  if (out->n > before)
    st->sites += out->n - before;
  return err;
}

void site_list_free(struct site_list *l) {
  free(l->v);
  *l = (struct site_list){0};
}
