/* stats.h - what the VM counted, for the control socket's "stats" and
 * hearth-vmm's --stats file. */
#ifndef HEARTH_VMM_API_STATS_H
#define HEARTH_VMM_API_STATS_H

struct vm;
struct cJSON;

/* Guest memory the guest touched, in KiB: resident pages of its mapping. */
unsigned long vm_guest_resident_kib(const struct vm *vm);

/* {"guest_resident_kib":..,"exits":{..},"syscalls":{name:count,..},
 * "vsock":{..}} as a new cJSON object, or NULL when out of memory. */
struct cJSON *vm_stats_json(const struct vm *vm);

#endif
