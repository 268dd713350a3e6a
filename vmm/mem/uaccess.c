/* uaccess.c - checked copies between the VMM and guest memory (uaccess.h).
 * Each guest page is translated through the VM's own page tables and its
 * software access bits, so an address the program has not mapped (or has
 * unmapped: its PTE stays present, PLATFORM.md) is -EFAULT, as on Linux. */
#include "uaccess.h"

#include <errno.h>
#include <string.h>

#include "gmem.h"
#include "layout.h"

/* Host address of the guest byte at gva if its page grants `write` (or read)
 * access; NULL otherwise. *room is the bytes left in that page. */
static uint8_t *uaccess_page(const struct gmem *m, uint64_t gva, bool write, size_t *room) {
  uint64_t pa;
  unsigned access;
  if (!gmem_translate(m, gva, &pa, &access))
    return NULL;
  if (!(access & (write ? GMEM_ACC_WRITE : GMEM_ACC_READ)))
    return NULL;
  *room = GUEST_PAGE_SIZE - (gva & (GUEST_PAGE_SIZE - 1));
  return gmem_pa_host(m, pa);
}

static bool range_ok(uint64_t gva, size_t len) {
  return gva + len >= gva && gva + len <= LAYOUT_USER_TOP;
}

void *uaccess_ptr(const struct gmem *m, uint64_t gva, size_t len, bool write) {
  static uint8_t empty;
  if (len == 0)
    return &empty;
  if (!range_ok(gva, len))
    return NULL;
  size_t room;
  uint8_t *first = uaccess_page(m, gva, write, &room);
  if (!first)
    return NULL;
  for (size_t done = room; done < len; done += GUEST_PAGE_SIZE) {
    size_t next_room;
    uint8_t *next = uaccess_page(m, gva + done, write, &next_room);
    if (next != first + done)
      return NULL; /* unmapped, or not contiguous in host memory */
  }
  return first;
}

/* Walks [gva, gva+len) page by page; fn copies each piece. */
static int uaccess_walk(const struct gmem *m, uint64_t gva, size_t len, bool write,
                        void (*fn)(uint8_t *guest, void *host, size_t n), uint8_t *host) {
  if (!range_ok(gva, len))
    return -EFAULT;
  size_t done = 0;
  while (done < len) {
    size_t room;
    uint8_t *p = uaccess_page(m, gva + done, write, &room);
    if (!p)
      return -EFAULT;
    size_t n = len - done < room ? len - done : room;
    fn(p, host ? host + done : NULL, n);
    done += n;
  }
  return 0;
}

static void piece_from(uint8_t *guest, void *host, size_t n) { memcpy(host, guest, n); }
static void piece_to(uint8_t *guest, void *host, size_t n) { memcpy(guest, host, n); }
static void piece_zero(uint8_t *guest, void *host, size_t n) { memset(guest, 0, n); }

int uaccess_copy_from(const struct gmem *m, void *dst, uint64_t gva, size_t len) {
  return uaccess_walk(m, gva, len, false, piece_from, dst);
}

int uaccess_copy_to(const struct gmem *m, uint64_t gva, const void *src, size_t len) {
  return uaccess_walk(m, gva, len, true, piece_to, (uint8_t *)src);
}

int uaccess_zero(const struct gmem *m, uint64_t gva, size_t len) {
  return uaccess_walk(m, gva, len, true, piece_zero, NULL);
}

long uaccess_strncpy_from(const struct gmem *m, char *dst, uint64_t gva, size_t cap) {
  size_t done = 0;
  while (done < cap) {
    size_t room;
    if (!range_ok(gva + done, 1))
      return -EFAULT;
    const uint8_t *p = uaccess_page(m, gva + done, false, &room);
    if (!p)
      return -EFAULT;
    size_t n = cap - done < room ? cap - done : room;
    const uint8_t *nul = memchr(p, 0, n);
    size_t take = nul ? (size_t)(nul - p) + 1 : n;
    memcpy(dst + done, p, take);
    if (nul)
      return (long)(done + take - 1);
    done += n;
  }
  if (cap)
    dst[cap - 1] = '\0';
  return -ENAMETOOLONG;
}

int uaccess_iov(const struct gmem *m, uint64_t gva, size_t len, bool write, struct iovec *iov,
                int max, size_t *covered) {
  int n = 0;
  size_t done = 0;
  *covered = 0;
  if (len == 0)
    return 0;
  if (!range_ok(gva, len))
    len = gva < LAYOUT_USER_TOP ? LAYOUT_USER_TOP - gva : 0;
  while (done < len) {
    size_t room;
    uint8_t *p = len ? uaccess_page(m, gva + done, write, &room) : NULL;
    if (!p)
      break;
    size_t take = len - done < room ? len - done : room;
    if (n > 0 && (uint8_t *)iov[n - 1].iov_base + iov[n - 1].iov_len == p) {
      iov[n - 1].iov_len += take;
    } else {
      if (n == max)
        break;
      iov[n++] = (struct iovec){.iov_base = p, .iov_len = take};
    }
    done += take;
  }
  if (n == 0)
    return -EFAULT;
  *covered = done;
  return n;
}
