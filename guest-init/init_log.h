/* init_log.h - how hearth-init reports a problem: one line on stderr (the
 * VMM shows it) and, when the host is connected, an ERROR frame. */
#ifndef HEARTH_INIT_LOG_H
#define HEARTH_INIT_LOG_H

/* "hearth-init: <message>" on stderr, one line. */
__attribute__((format(printf, 1, 2))) void init_log(const char *fmt, ...);

/* Logs "<code>: <message>" and sends ERROR {"code":code,"message":message}
 * on conn (when conn >= 0). */
__attribute__((format(printf, 3, 4))) void init_fail(int conn, const char *code, const char *fmt,
                                                     ...);

#endif
