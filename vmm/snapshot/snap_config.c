/* snap_config.c - the CONFIG section (snap_config.h).
 *
 * Layout: u64 mem_bytes, u32 guest_pages, u64 tmp_max_bytes,
 *   u64 code_max_bytes, u64 code_max_entries, u32 vsock_cid,
 *   u8 no_rewrite, u8 no_vdso, str root, str exe, str site_cache,
 *   str image_dir, str state_dir, str image manifest hash, str vsock_uds,
 *   u8 restarting, u64 restart_nr. */
#include "snapshot/snap_config.h"

#include <errno.h>
#include <string.h>

#define MEM_MIN (4ull << 20)
#define MEM_MAX (65536ull << 20)
#define CAP_MAX (65536ull << 20)

int snap_save_config(const struct vm *vm, struct snap_buf *b) {
  const struct vm_config *cfg = vm->cfg;
  snap_put_u64(b, cfg->mem_bytes);
  snap_put_u32(b, (uint32_t)cfg->guest_pages);
  snap_put_u64(b, cfg->tmp_max_bytes);
  snap_put_u64(b, cfg->code_max_bytes);
  snap_put_u64(b, cfg->code_max_entries);
  snap_put_u32(b, cfg->vsock_cid);
  snap_put_u8(b, cfg->no_rewrite);
  snap_put_u8(b, cfg->no_vdso);
  snap_put_str(b, cfg->root);
  snap_put_str(b, cfg->argv ? cfg->argv[0] : NULL);
  snap_put_str(b, cfg->site_cache_dir);
  snap_put_str(b, cfg->image_dir);
  snap_put_str(b, cfg->state_dir);
  snap_put_str(b, cfg->image_manifest_hash);
  snap_put_str(b, cfg->vsock_uds);
  snap_put_u8(b, vm->syscall_restarted);
  snap_put_u64(b, vm->syscall_restarted ? vm->kvm.run->s.regs.regs.rax : 0);
  return b->err;
}

/* A string member: NULL stays NULL, else it points at buf. */
static const char *get_opt_str(struct snap_cursor *c, char *buf, size_t cap) {
  return snap_get_str(c, buf, cap) == 1 ? buf : NULL;
}

static bool config_valid(const struct vm_config *cfg) {
  return cfg->mem_bytes >= MEM_MIN && cfg->mem_bytes <= MEM_MAX &&
         cfg->mem_bytes % (2u << 20) == 0 &&
         (cfg->guest_pages == GMEM_PAGES_4K || cfg->guest_pages == GMEM_PAGES_2M) &&
         cfg->tmp_max_bytes <= CAP_MAX && cfg->code_max_bytes <= CAP_MAX &&
         cfg->code_max_entries <= (1u << 20) && cfg->vsock_cid >= 3 && cfg->vsock_cid != UINT32_MAX;
}

int snap_load_config(struct snap_cursor *c, struct snap_config *out) {
  memset(out, 0, sizeof *out);
  struct vm_config *cfg = &out->cfg;
  cfg->mem_bytes = snap_get_u64(c);
  cfg->guest_pages = (enum gmem_pages)snap_get_u32(c);
  cfg->tmp_max_bytes = snap_get_u64(c);
  cfg->code_max_bytes = snap_get_u64(c);
  cfg->code_max_entries = snap_get_u64(c);
  cfg->vsock_cid = snap_get_u32(c);
  cfg->no_rewrite = snap_get_u8(c) != 0;
  cfg->no_vdso = snap_get_u8(c) != 0;
  cfg->root = get_opt_str(c, out->root, sizeof out->root);
  int have_exe = snap_get_str(c, out->exe, sizeof out->exe);
  cfg->site_cache_dir = get_opt_str(c, out->site_cache, sizeof out->site_cache);
  cfg->image_dir = get_opt_str(c, out->image_dir, sizeof out->image_dir);
  cfg->state_dir = get_opt_str(c, out->state_dir, sizeof out->state_dir);
  snap_get_str(c, cfg->image_manifest_hash, sizeof cfg->image_manifest_hash);
  cfg->vsock_uds = get_opt_str(c, out->vsock_uds, sizeof out->vsock_uds);
  out->restarting = snap_get_u8(c) != 0;
  out->restart_nr = snap_get_u64(c);
  if (snap_cursor_done(c) < 0 || have_exe != 1 || out->exe[0] != '/' || !config_valid(cfg))
    return -EBADMSG;
  out->argv[0] = out->exe;
  cfg->argv = out->argv;
  cfg->env = out->env;
  cfg->ready_fd = -1;
  return 0;
}
