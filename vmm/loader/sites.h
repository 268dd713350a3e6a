/* sites.h - finds the `syscall` instructions of an executable segment by
 * decoding instructions (Zydis, 64-bit mode) from the start of each FDE
 * over the range it covers: never by searching for the bytes 0f 05 and
 * never by a linear sweep, which would also decode data kept among the
 * code (PLATFORM.md). A site no FDE covers is left for the LSTAR stub.
 * Pure: host bytes in, link-time addresses out. */
#ifndef HEARTH_VMM_LOADER_SITES_H
#define HEARTH_VMM_LOADER_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/ehframe.h"

#define SITES_MAX (1u << 16) /* sites per program; the rest go through the LSTAR stub */

/* Sorted, distinct link-time addresses of 2-byte `syscall` instructions. */
struct site_list {
  uint64_t *v;
  size_t n, cap;
};

struct sites_stats {
  size_t fdes_scanned;    /* FDEs that start inside the segment */
  size_t decode_failures; /* FDEs cut short by bytes that do not decode */
  size_t sites;           /* distinct sites added to the list */
  bool capped;            /* SITES_MAX reached: some sites were not recorded */
};

/* Decodes code[0, len), the file bytes of an executable segment loaded at
 * link-time `vaddr`, from each of fdes[0, nfdes) that starts inside it, to
 * the end of its range or of the segment, whichever comes first. A byte
 * sequence that does not decode ends that FDE. Adds every `syscall`
 * (0f 05, nothing else) found to *out, which stays sorted and distinct, and
 * adds counts to *st. 0, -ENOMEM (out keeps what it had), or -EINVAL when
 * the decoder cannot be set up. */
int sites_find(const uint8_t *code, size_t len, uint64_t vaddr, const struct fde_range *fdes,
               size_t nfdes, struct site_list *out, struct sites_stats *st);

void site_list_free(struct site_list *l);

#endif
