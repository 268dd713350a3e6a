/* api.h - hearth-vmm's control socket (--api-sock PATH; protocol in
 * API.md): JSON-lines requests (pause, resume, snapshot, shutdown, stats)
 * accepted by a thread of their own and served by the vCPU thread between
 * exits, where no system call is in progress (run.c's restart rule). */
#ifndef HEARTH_VMM_API_API_H
#define HEARTH_VMM_API_API_H

#include <stdbool.h>

struct vm;
struct api;

/* On the vCPU thread, once the VM is built and before vm_run: listens on
 * path and sets vm->api. 0 or -errno (logged). */
int api_start(struct vm *vm, const char *path);
/* After vm_run: answers what is still asked with "the VM has stopped",
 * ends the thread, removes the socket file, clears vm->api. */
void api_stop(struct vm *vm);

/* Whether a request waits for the vCPU thread (false for NULL). */
bool api_request_pending(struct api *api);
/* vCPU thread, between exits: serves the waiting requests; while paused it
 * sleeps here until a resume, a shutdown or --timeout. */
void api_serve(struct vm *vm);
/* As api_serve, but starting paused: before the first vm_run of a VM
 * started paused (--start-paused), returns at the first resume, or once the
 * VM must stop (shutdown, --timeout: vm_run then ends it). */
void api_serve_paused(struct vm *vm);

#endif
