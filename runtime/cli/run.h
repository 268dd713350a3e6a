/* run.h - `hearth run`: one invocation of a function in a fresh microVM.
 *
 * In order: find hearth-vmm; open the code (so a missing path, "not an
 * archive" or a bad first entry fails before any VM exists); make the VM's
 * directory <state-dir>/vms/<id>; settle the event's content type (spooling
 * stdin when needed); spawn hearth-vmm with the image and wait for "ready";
 * connect to hearth-init through the vsock Unix socket and read HELLO; LOAD
 * the code as a pax tar and wait for LOADED; INVOKE with the event and pass
 * the RESPONSE to stdout and the LOG to stderr as they come, until RESULT.
 * Then, whatever happened, the VM is killed, reaped and its directory
 * removed, and one line on stderr says how it went.
 *
 * Unless --no-snapshot, the VM up to LOADED comes from a function snapshot
 * (snapkey.h, snapstore.h): the image is verified and the code hashed
 * first; when <state-dir>/snapshots/fn-<key> exists, hearth-vmm --restore
 * starts the VM from it (HELLO says "restored"; no LOAD); else the run
 * takes the snapshot lock and starts the VM with --api-sock from the image
 * snapshot (image-<key>: hearth-init in accept), or afresh, snapshotting it
 * there first; then LOADs with "snapshot":true, pauses the VM, snapshots
 * it, publishes the snapshot, resumes, and invokes on the same connection.
 * A snapshot hearth-vmm refuses is replaced the same way. */
#ifndef HEARTH_CLI_RUN_H
#define HEARTH_CLI_RUN_H

/* argv[0] is "run". Returns the exit status (outcome.h). */
int run_command(int argc, char **argv, char **envp);

#endif
