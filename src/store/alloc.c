/*
 * alloc.c - SQLite's memory (page cache, statements, row values) from the wiped, locked,
 * non-dumpable pool of crypto/secpool.c, so decrypted pages and record JSON that SQLite held
 * are out of core files and wiped as soon as SQLite frees them (at the latest when a vault
 * closes its connection, e.g. on "Lock" in the UI).
 *
 * Must run before SQLite initialises; store_memory_init does it once, at the first open.
 */
#include <pthread.h>

#include <sqlite3.h>

#include "crypto/secpool.h"
#include "defter/core.h"
#include "store/vfs_internal.h"

static void *
m_malloc(int n)
{
    return n <= 0 ? NULL : crypto_secpool_alloc((size_t)n);
}

static void
m_free(void *p)
{
    crypto_secpool_free(p);
}

static void *
m_realloc(void *p, int n)
{
    return n <= 0 ? NULL : crypto_secpool_realloc(p, (size_t)n);
}

static int
m_size(void *p)
{
    return (int)crypto_secpool_size(p);
}

static int
m_roundup(int n)
{
    return (int)crypto_secpool_roundup((size_t)(n > 0 ? n : 1));
}

static int
m_init(void *ctx)
{
    (void)ctx;
    return SQLITE_OK;
}

static void
m_shutdown(void *ctx)
{
    (void)ctx;
}

static const sqlite3_mem_methods methods = {
    m_malloc, m_free, m_realloc, m_size, m_roundup, m_init, m_shutdown, NULL,
};

static int configured;

static void
configure(void)
{
    /* MEMSTATUS off: no global mutex around each allocation for statistics nobody reads */
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &methods) == SQLITE_OK) {
        (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        configured = 1;
    } else {
        dft_log(DFT_LOG_WARN, "store: SQLite was initialised before the vault; its memory is "
                              "not in the secure pool");
    }
}

int
store_memory_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    (void)pthread_once(&once, configure);
    return configured;
}
