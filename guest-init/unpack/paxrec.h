/* paxrec.h - the records of a pax extended header ("%d %s=%s\n" each, the
 * length counting the whole record). Pure. */
#ifndef HEARTH_UNPACK_PAXREC_H
#define HEARTH_UNPACK_PAXREC_H

#include <stddef.h>

/* Called per record; a negative return stops the walk and is returned. */
typedef int pax_record_fn(void *ctx, const char *key, size_t key_len, const char *value,
                          size_t value_len);

/* Walks the records of buf[0..len). 0, -EBADMSG (a malformed record), or
 * what on_record returned. */
int pax_records(const char *buf, size_t len, pax_record_fn *on_record, void *ctx);

/* Is key[0..key_len) the NUL-terminated word? */
int pax_key_is(const char *key, size_t key_len, const char *word);

#endif
