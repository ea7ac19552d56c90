/*
 * secpool.h - a general-purpose allocator for plaintext that must not outlive its use: SQLite's
 * page cache and heap, HTTP response bodies. Internal to the library (no dft_ prefix).
 *
 * Blocks come from arenas that are mmap'd, excluded from core dumps (MADV_DONTDUMP), locked in
 * RAM when RLIMIT_MEMLOCK allows (mlock; best effort, never a failure) and wiped when freed. It is
 * a size-class allocator (four classes per power of two, up to 256 KiB; larger blocks get their
 * own mapping, unmapped at free), so a free costs one wipe of the block and no system call:
 * sodium_malloc per allocation (two guard pages and an mprotect each) would be far too slow for
 * SQLite. Thread-safe: each thread keeps a small cache of its freed small blocks (wiped at
 * free, still in the locked arenas) and trades them with the shared lists, under one mutex, in
 * batches; a thread's cache goes back to the shared lists when it exits.
 */
#ifndef DEFTER_CRYPTO_SECPOOL_H
#define DEFTER_CRYPTO_SECPOOL_H

#include <stddef.h>

/* n bytes (n > 0), 16-byte aligned, or NULL when out of memory. Contents are undefined. */
void *crypto_secpool_alloc(size_t n);
/* Wipe and release a block of crypto_secpool_alloc. NULL allowed. */
void crypto_secpool_free(void *p);
/* Usable size of a block (at least what was asked). */
size_t crypto_secpool_size(const void *p);
/* The usable size an allocation of n bytes would get. */
size_t crypto_secpool_roundup(size_t n);
/* A new block of n bytes holding the first bytes of p; p is wiped and freed. NULL: p kept. */
void *crypto_secpool_realloc(void *p, size_t n);

/* Figures for tests: bytes mapped for the pool, and blocks now allocated. */
void crypto_secpool_stats(size_t *mapped, size_t *live);

#endif
