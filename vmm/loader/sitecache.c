/* sitecache.c - a VM's site lists by file identity, backed by the disk
 * store (see sitecache.h). A lookup goes: memory; disk index (identity ->
 * content hash) and disk list; the file read whole, hashed, and the disk
 * list for that hash; the finder. Whatever was found last is written back
 * to the caches before it. */
#include "loader/sitecache.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "fs/vfs.h"
#include "kernel/file.h"
#include "loader/digest.h"
#include "loader/elf.h"
#include "loader/loadfile.h"
#include "loader/rewrite.h"
#include "loader/sitestore.h"
#include "log.h"
#include "vm.h"

struct sitecache_entry {
  struct site_file_id id;
  struct file_sites sites;
};

struct sitecache {
  struct sitecache_entry v[SITECACHE_MAX_FILES];
  size_t n, next_evict;
  struct sitestore *store; /* NULL: no disk cache */
};

static struct sitecache *cache_of(struct vm *vm) {
  if (vm->sitecache)
    return vm->sitecache;
  struct sitecache *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  if (vm->cfg->site_cache_dir)
    sitestore_open(vm->cfg->site_cache_dir, &c->store); /* logs why not */
  vm->sitecache = c;
  return c;
}

static uint64_t ts_ns(struct timespec t) {
  return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static struct site_file_id id_of(const struct stat *st) {
  return (struct site_file_id){.dev = st->st_dev,
                               .ino = st->st_ino,
                               .size = (uint64_t)st->st_size,
                               .mtime_ns = ts_ns(st->st_mtim),
                               .ctime_ns = ts_ns(st->st_ctim)};
}

static bool same_id(const struct site_file_id *a, const struct site_file_id *b) {
  return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns &&
         a->ctime_ns == b->ctime_ns;
}

/* True when the file's last change lies far enough in the past for its
 * identity to stand for its content (sitecache.h). */
static bool settled(const struct site_file_id *id) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  int64_t changed = (int64_t)(id->mtime_ns > id->ctime_ns ? id->mtime_ns : id->ctime_ns);
  bool coarse = id->mtime_ns % 1000000000ULL == 0 && id->ctime_ns % 1000000000ULL == 0;
  return (int64_t)ts_ns(now) - changed >=
         (coarse ? SITECACHE_SETTLE_COARSE_NS : SITECACHE_SETTLE_NS);
}

static struct sitecache_entry *find(struct sitecache *c, const struct site_file_id *id) {
  for (size_t i = 0; i < c->n; i++)
    if (same_id(&c->v[i].id, id))
      return &c->v[i];
  return NULL;
}

/* Takes over *sites; when full, the oldest entry makes room. */
static struct sitecache_entry *insert(struct sitecache *c, const struct site_file_id *id,
                                      struct file_sites *sites) {
  struct sitecache_entry *e;
  if (c->n < SITECACHE_MAX_FILES) {
    e = &c->v[c->n++];
  } else {
    e = &c->v[c->next_evict];
    c->next_evict = (c->next_evict + 1) % SITECACHE_MAX_FILES;
    file_sites_free(&e->sites);
  }
  *e = (struct sitecache_entry){.id = *id, .sites = *sites};
  *sites = (struct file_sites){0};
  return e;
}

/* Only an ELF header that validates is worth reading the file for. */
static bool has_elf_header(const struct load_file *lf) {
  uint8_t ehdr[ELF_EHDR_SIZE];
  struct elf_info info;
  const char *why;
  return lf->size >= sizeof ehdr && load_file_read(lf, ehdr, sizeof ehdr, 0) == 0 &&
         elf_parse_ehdr(ehdr, sizeof ehdr, lf->size, &info, &why) == 0;
}

static int find_now(const uint8_t *buf, const struct load_file *lf, struct file_sites *out) {
  struct filesites_report rep;
  const char *why = NULL;
  int err = filesites_find(buf, (size_t)lf->size, out, &rep, &why);
  if (err == -ENOEXEC) {
    VLOG_LIMITED(VLOG_INFO, "%s: no syscall sites: %s", lf->path, why);
    return 0; /* known to have none */
  }
  if (!err)
    VLOG_LIMITED(
        VLOG_INFO, "%s: %zu functions (%zu decoded, %zu cut short), %zu syscall sites%s%s%s",
        lf->path, rep.funcs, rep.decoded, rep.cut_short, out->n,
        rep.capped ? " (site cap reached)" : "", rep.note ? "; " : "", rep.note ? rep.note : "");
  return err;
}

/* The file read whole and hashed; its list from the disk, or found now and
 * written there. */
static int from_content(struct sitestore *store, const struct load_file *lf,
                        const struct site_file_id *id, struct file_sites *out) {
  uint8_t *buf, sha[DIGEST_SHA256_LEN];
  int err = load_file_read_alloc(lf, 0, (size_t)lf->size, &buf);
  if (err)
    return err;
  if (store) {
    digest_sha256(buf, (size_t)lf->size, sha);
    err = sitestore_sites_get(store, sha, lf->size, out);
  }
  if (!store || err == -ENOENT) {
    err = find_now(buf, lf, out);
    if (!err && store)
      sitestore_sites_put(store, sha, lf->size, out);
  }
  if (!err && store && settled(id))
    sitestore_index_put(store, id, sha);
  free(buf);
  return err;
}

/* 0 with *out filled (maybe empty), or a negative errno: nothing is known
 * and nothing should be cached. */
static int obtain(struct sitecache *c, struct file *f, const char *name,
                  const struct site_file_id *id, struct file_sites *out) {
  struct sitestore *store = c->store && vfs_file_is_host_regular(f) ? c->store : NULL;
  uint8_t sha[DIGEST_SHA256_LEN];
  *out = (struct file_sites){0};
  if (store && sitestore_index_get(store, id, sha) == 0 &&
      sitestore_sites_get(store, sha, id->size, out) == 0) {
    vlog(VLOG_DEBUG, "%s: %zu syscall sites from the site cache", name, out->n);
    return 0;
  }
  struct load_file lf = {.file = f, .size = id->size, .path = name};
  if (id->size > FILESITES_MAX_FILE) {
    VLOG_LIMITED(VLOG_INFO, "%s: larger than %llu MiB: its syscalls take the LSTAR path", name,
                 FILESITES_MAX_FILE >> 20);
    return 0;
  }
  if (!has_elf_header(&lf))
    return 0;
  return from_content(store, &lf, id, out);
}

const struct file_sites *sitecache_file_sites(struct vm *vm, struct file *f, const char *name) {
  struct sitecache *c = cache_of(vm);
  struct stat st;
  if (!c || !f->ops->fstat || !f->ops->pread || f->ops->fstat(f, &st) < 0 || !S_ISREG(st.st_mode))
    return NULL;
  struct site_file_id id = id_of(&st);
  struct sitecache_entry *e = find(c, &id);
  if (e)
    return &e->sites;
  struct file_sites sites;
  if (!name && f->ops->path)
    name = f->ops->path(f);
  if (!name)
    name = "(mapped file)";
  /* An unreadable file is remembered as having no sites (one log line);
   * running out of memory is not remembered. */
  if (obtain(c, f, name, &id, &sites) == -ENOMEM) {
    VLOG_LIMITED(VLOG_WARN, "%s: out of memory finding syscall sites: they take the LSTAR path",
                 name);
    return NULL;
  }
  return &insert(c, &id, &sites)->sites;
}

size_t sitecache_rewrite(struct vm *vm, struct file *f, const char *name, uint64_t addr,
                         uint64_t len, uint64_t file_off) {
  if (vm->cfg->no_rewrite)
    return 0;
  const struct file_sites *s = sitecache_file_sites(vm, f, name);
  return s ? rewrite_file_range(vm, s->v, s->n, file_off, len, addr) : 0;
}

void sitecache_destroy(struct sitecache *c) {
  if (!c)
    return;
  for (size_t i = 0; i < c->n; i++)
    file_sites_free(&c->v[i].sites);
  sitestore_close(c->store);
  free(c);
}
