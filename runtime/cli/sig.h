/* sig.h - SIGINT, SIGTERM and SIGHUP for `hearth run`: each is written to a
 * self-pipe that the waiter polls (so a signal ends any wait and the VM is
 * killed and cleaned up), and SIGPIPE is ignored (a closed stdout or socket
 * is an error return, not a death). */
#ifndef HEARTH_CLI_SIG_H
#define HEARTH_CLI_SIG_H

/* Installs the handlers. Returns the self-pipe's read end (non-blocking,
 * close-on-exec; each byte is a signal number) or -errno. Handlers are
 * installed without SA_RESTART, so a blocking write is interrupted too. */
int sig_install(void);

/* The signal that arrived, if any (0 when none). */
int sig_pending(void);

#endif
