/*
 * reader.h - a second, read-only connection to an open vault database, for a helper thread.
 *
 * The reader goes through its own instance of the encrypting VFS (the same page key and vault
 * id, copied into locked memory and wiped when the reader closes) over the files of the open
 * connection: it opens no file descriptor of its own (closing one would drop the process's
 * POSIX locks on the vault) and takes no lock (the open connection holds the database
 * exclusively). It reads the state the open connection had committed when the reader was
 * opened; it is valid only while nobody writes the database through the open connection and
 * must be closed before that connection. Every page it reads is authenticated like any other.
 */
#ifndef DEFTER_STORE_READER_H
#define DEFTER_STORE_READER_H

#include "store/store.h"

/*
 * Open a reader of db (a vault connection, used by this thread now: pending writes are
 * flushed). The reader may then be used by one other thread at a time. Close with
 * store_reader_close, before db.
 */
enum dft_err store_reader_open(sqlite3 *db, sqlite3 **out, struct dft_error *err) DFT_MUST_CHECK;

/* Close a reader (no checkpoint, no write) and wipe its key copy. NULL allowed. */
void store_reader_close(sqlite3 *rdb);

#endif
