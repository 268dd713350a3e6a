/* sitecache.h - the `syscall` sites of the files a VM maps executable (its
 * program, its interpreter, the libraries ld.so maps, anything mapped or
 * mprotected PROT_EXEC), worked out once per file content and cached, never
 * per mapping:
 *   - per VM, in memory, by the file's identity (st_dev, st_ino, size,
 *     mtime, ctime from its fstat): ld.so's several mappings of one library
 *     cost one lookup;
 *   - across VMs, on disk (vm->cfg->site_cache_dir, sitestore.h), by the
 *     SHA-256 of the file's content, with an index by identity so that an
 *     unchanged file is not even hashed. Only files of the host tree go to
 *     disk: the guest's own /tmp files stay in the VM's memory cache (their
 *     identity means nothing outside the VM, and a guest must not fill the
 *     host's disk).
 * Lists are file offsets (filesites.h), so they fit every mapping. Rewriting
 * stays an optimisation: nothing here fails a mapping, and every site is
 * checked to read `0f 05` before it is changed (rewrite.h). */
#ifndef HEARTH_VMM_LOADER_SITECACHE_H
#define HEARTH_VMM_LOADER_SITECACHE_H

#include <stdint.h>

#include "loader/filesites.h"

struct vm;
struct file;
struct sitecache;

#define SITECACHE_MAX_FILES 256 /* lists kept in memory per VM; the oldest makes room */
/* An index entry is written only for a file whose last change (mtime,
 * ctime) lies further back than its filesystem's timestamp granularity: a
 * file changed again within one tick of the change before, after it was
 * hashed, would keep its identity with other content (git's "racily clean"
 * entries). Timestamps carrying nanoseconds come from a clock that ticks
 * every few milliseconds at most; whole seconds may be a coarse
 * filesystem's (FAT, ext3's small inodes). */
#define SITECACHE_SETTLE_NS 100000000LL         /* 100 ms */
#define SITECACHE_SETTLE_COARSE_NS 2000000000LL /* 2 s */

/* The sites of the open file f (`name` for log lines; NULL: the file's own
 * path), from the caches or worked out now. An empty list when there are
 * none to know: not an ELF object, larger than FILESITES_MAX_FILE,
 * unreadable (remembered, so logged once). NULL when f is not a regular
 * file or host memory ran out. The list is borrowed: valid until the next
 * sitecache call on the VM. Creates vm->sitecache on first use. */
const struct file_sites *sitecache_file_sites(struct vm *vm, struct file *f, const char *name);

/* Rewrites the sites of f lying whole inside the file range
 * [file_off, file_off + len), which is mapped at guest address `addr` and
 * writable now (the caller applies the final protection afterwards).
 * Returns the number rewritten (also counted in vm->stats); 0 when
 * vm->cfg->no_rewrite. */
size_t sitecache_rewrite(struct vm *vm, struct file *f, const char *name, uint64_t addr,
                         uint64_t len, uint64_t file_off);

/* Frees the cache and closes its disk store; NULL is fine. */
void sitecache_destroy(struct sitecache *c);

#endif
