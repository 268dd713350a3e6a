/* log.h - hearth-vmm's diagnostics: one line per event on stderr, prefixed
 * "hearth-vmm:" and a level, so they never mix with the guest's own output
 * (which also goes to stderr) unnoticed. Anything a guest can trigger goes
 * through vlog_ratelimited() so a hostile guest cannot flood the host. */
#ifndef HEARTH_VMM_LOG_H
#define HEARTH_VMM_LOG_H

#include <stdbool.h>

enum vlog_level { VLOG_ERROR, VLOG_WARN, VLOG_INFO, VLOG_DEBUG };

/* Lines above this level are dropped; default VLOG_WARN. */
void vlog_set_level(enum vlog_level level);

void vlog(enum vlog_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A per-call-site budget: at most `burst` lines, then one "suppressed"
 * notice and silence. Declare the counter static at the call site. */
struct vlog_budget {
  unsigned emitted;
};
void vlog_ratelimited(struct vlog_budget *b, enum vlog_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define VLOG_LIMITED(level, ...)                                                                   \
  do {                                                                                             \
    static struct vlog_budget vlog_site_budget_;                                                   \
    vlog_ratelimited(&vlog_site_budget_, level, __VA_ARGS__);                                      \
  } while (0)

#endif
