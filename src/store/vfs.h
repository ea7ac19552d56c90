/*
 * vfs.h - internal: fault injection for the encrypting VFS (tests only) and the WAL scan.
 *
 * Production code never sets dft_vfs_fault; it stays all zero and costs one comparison per
 * write and sync.
 */
#ifndef DEFTER_STORE_VFS_H
#define DEFTER_STORE_VFS_H

struct dft_vfs_fault {
    long write_at; /* fail the Nth xWrite from now (1 = the next one); 0: never */
    long sync_at;  /* fail the Nth xSync from now; 0: never */
    int rc;        /* SQLite code returned by the failing call (e.g. SQLITE_IOERR_WRITE) */
    int sticky;    /* once failed, every later call of that kind fails too (a full disk) */
    long hits;     /* calls failed so far (read by tests) */
};

/* Tests only: every encrypting VFS in the process obeys it. Single-threaded use. */
extern struct dft_vfs_fault dft_vfs_fault;

#endif
