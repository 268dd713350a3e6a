/* run.h - the vCPU loop: runs the guest and turns each exit into a system
 * call, a crash report, or the end of the VM. */
#ifndef HEARTH_VMM_RUN_H
#define HEARTH_VMM_RUN_H

struct vm;

/* Runs until the guest exits, dies, times out or the VMM fails; vm->stop
 * says which. */
void vm_run(struct vm *vm);

#endif
