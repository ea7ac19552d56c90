/*
 * harden.h - internal: make the process that will hold keys keep them out of core files.
 *
 * Call process_harden() first thing in main(), before any key or passphrase is read. It must
 * never be skipped on failure silently: it returns -1 and the caller refuses to go on.
 */
#ifndef DEFTER_CORE_HARDEN_H
#define DEFTER_CORE_HARDEN_H

/*
 * Set RLIMIT_CORE to 0 (soft and hard: a crash or SIGQUIT writes no core file) and
 * PR_SET_DUMPABLE to 0 (no core, no ptrace attach by the same user, /proc/PID/mem and
 * /proc/PID/environ unreadable to other processes of the user). Returns 0, or -1 with errno.
 */
int dft_process_harden(void);

#endif
