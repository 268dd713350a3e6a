/* stats.c - the VM's counters as JSON (stats.h). Read on the vCPU thread,
 * between exits, so nothing changes under it. */
#include "stats.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <sys/mman.h>

#include "kernel/syscall.h"
#include "net/vsock.h"
#include "vm.h"

unsigned long vm_guest_resident_kib(const struct vm *vm) {
  size_t pages = vm->mem.size / 4096;
  unsigned char vec[4096];
  unsigned long resident = 0;
  for (size_t at = 0; at < pages; at += sizeof vec) {
    size_t n = pages - at < sizeof vec ? pages - at : sizeof vec;
    if (mincore(vm->mem.host + at * 4096, n * 4096, vec) < 0)
      return 0;
    for (size_t i = 0; i < n; i++)
      resident += vec[i] & 1;
  }
  return resident * 4;
}

static cJSON *exits_json(const struct vm_stats *s) {
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return NULL;
  cJSON_AddNumberToObject(o, "total", (double)s->exits);
  cJSON_AddNumberToObject(o, "syscall", (double)(s->syscalls - s->lstar_syscalls));
  cJSON_AddNumberToObject(o, "lstar_syscall", (double)s->lstar_syscalls);
  cJSON_AddNumberToObject(o, "shutdown", (double)s->exits_shutdown);
  cJSON_AddNumberToObject(o, "other", (double)s->exits_other);
  cJSON_AddNumberToObject(o, "kicks", (double)s->kicks);
  return o;
}

/* Only the calls made: {"read":12,"write":3,...,"other":n}. */
static cJSON *syscalls_json(const struct vm_stats *s) {
  cJSON *o = cJSON_CreateObject();
  for (unsigned nr = 0; o && nr < VM_STATS_SYSCALL_NRS; nr++)
    if (s->syscalls_by_nr[nr])
      cJSON_AddNumberToObject(o, syscall_name(nr), (double)s->syscalls_by_nr[nr]);
  if (o && s->syscalls_other)
    cJSON_AddNumberToObject(o, "other", (double)s->syscalls_other);
  return o;
}

static cJSON *vsock_json(const struct vm *vm) {
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return NULL;
  struct vsock_stats v;
  vsock_stats_read(vm, &v);
  cJSON_AddNumberToObject(o, "cid", vm->cfg->vsock_cid);
  cJSON_AddNumberToObject(o, "sockets", v.sockets);
  cJSON_AddNumberToObject(o, "connections", v.connections);
  cJSON_AddNumberToObject(o, "listeners", v.listeners);
  cJSON_AddNumberToObject(o, "bytes_in", (double)v.bytes_in);
  cJSON_AddNumberToObject(o, "bytes_out", (double)v.bytes_out);
  return o;
}

cJSON *vm_stats_json(const struct vm *vm) {
  cJSON *o = cJSON_CreateObject();
  cJSON *exits = exits_json(&vm->stats), *calls = syscalls_json(&vm->stats);
  cJSON *vsock = vsock_json(vm);
  if (!o || !exits || !calls || !vsock) {
    cJSON_Delete(o);
    cJSON_Delete(exits);
    cJSON_Delete(calls);
    cJSON_Delete(vsock);
    return NULL;
  }
  cJSON_AddNumberToObject(o, "guest_resident_kib", (double)vm_guest_resident_kib(vm));
  cJSON_AddNumberToObject(o, "guest_pages_populated", (double)vm->mem.pages_populated);
  cJSON_AddNumberToObject(o, "syscalls_total", (double)vm->stats.syscalls);
  cJSON_AddItemToObject(o, "exits", exits);
  cJSON_AddItemToObject(o, "syscalls", calls);
  cJSON_AddItemToObject(o, "vsock", vsock);
  return o;
}
