/* paxrec.c - pax extended header records (paxrec.h). */
#include "paxrec.h"

#include <errno.h>
#include <string.h>

/* One record at buf[0..len): its length, or -EBADMSG. */
static long one_record(const char *buf, size_t len, pax_record_fn *on_record, void *ctx) {
  size_t i = 0, reclen = 0;
  while (i < len && buf[i] >= '0' && buf[i] <= '9') {
    reclen = reclen * 10 + (size_t)(buf[i] - '0');
    if (reclen > len)
      return -EBADMSG;
    i++;
  }
  if (i == 0 || i >= len || buf[i] != ' ' || reclen <= i + 1 || reclen > len ||
      buf[reclen - 1] != '\n')
    return -EBADMSG;
  const char *key = buf + i + 1;
  const char *end = buf + reclen - 1; /* the '\n' */
  const char *eq = memchr(key, '=', (size_t)(end - key));
  if (!eq || eq == key)
    return -EBADMSG;
  int err = on_record(ctx, key, (size_t)(eq - key), eq + 1, (size_t)(end - eq - 1));
  return err < 0 ? err : (long)reclen;
}

int pax_records(const char *buf, size_t len, pax_record_fn *on_record, void *ctx) {
  size_t pos = 0;
  while (pos < len) {
    long n = one_record(buf + pos, len - pos, on_record, ctx);
    if (n < 0)
      return (int)n;
    pos += (size_t)n;
  }
  return 0;
}

int pax_key_is(const char *key, size_t key_len, const char *word) {
  return strlen(word) == key_len && memcmp(key, word, key_len) == 0;
}
