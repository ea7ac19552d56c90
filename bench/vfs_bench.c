/*
 * vfs_bench.c - the encrypting VFS against SQLite's default unix VFS on the same workload.
 *
 * Inserts 200k rows of ~200-byte JSON in transactions of 1000, then random point reads and a
 * full scan with a small page cache (so pages really are read again through the VFS), with the
 * same pragmas on both. Prints both times and the ratio (goal: at most 1.15x) at three cache sizes,
 * each the same for both VFSes: 64 pages (nearly every read misses: the worst case), 500 pages
 * (SQLite's own default of 2,000 KiB) and the cache store_open gives every vault connection
 * (read back from a fresh store). Writes only under a fresh directory in /tmp, removed at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"
#include "store/store.h"

#define ROWS  200000
#define BATCH 1000
#define READS 200000
#define RUNS  3

static void
check(int rc, sqlite3 *db, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "vfs_bench: %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

struct times {
    double insert, point, scan;
};

static void
workload(sqlite3 *db, int cache, struct times *t)
{
    sqlite3_stmt *st = NULL;
    char json[256];
    char sql[128];
    snprintf(sql, sizeof sql,
             "PRAGMA cache_size=%d; CREATE TABLE r(id INTEGER PRIMARY KEY, j TEXT)", cache);
    check(sqlite3_exec(db, sql, NULL, NULL, NULL), db, "create");
    double t0 = bench_now();
    check(sqlite3_prepare_v2(db, "INSERT INTO r(id, j) VALUES(?, ?)", -1, &st, NULL), db, "prep");
    for (int i = 0; i < ROWS; i++) {
        if (i % BATCH == 0) {
            check(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), db, "begin");
        }
        int n = snprintf(json, sizeof json,
                         "{\"id\":%d,\"type\":\"person\",\"name\":\"Witness number %d\","
                         "\"place\":\"Bakhchysarai district\",\"date\":\"2026-11-%02d\","
                         "\"note\":\"statement taken, %08x, checked twice\",\"tags\":[\"a\"]}",
                         i, i * 7, 1 + i % 28, (unsigned)i * 2654435761u);
        sqlite3_bind_int(st, 1, i + 1);
        sqlite3_bind_text(st, 2, json, n, SQLITE_STATIC);
        check(sqlite3_step(st), db, "insert");
        sqlite3_reset(st);
        if (i % BATCH == BATCH - 1) {
            check(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), db, "commit");
        }
    }
    sqlite3_finalize(st);
    double t1 = bench_now();
    check(sqlite3_prepare_v2(db, "SELECT length(j) FROM r WHERE id = ?", -1, &st, NULL), db,
          "prep");
    unsigned x = 12345;
    long sum = 0;
    for (int i = 0; i < READS; i++) {
        x = x * 1103515245u + 12345u;
        sqlite3_bind_int(st, 1, (int)(x % ROWS) + 1);
        check(sqlite3_step(st), db, "point");
        sum += sqlite3_column_int(st, 0);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    double t2 = bench_now();
    check(sqlite3_prepare_v2(db, "SELECT sum(length(j)) FROM r", -1, &st, NULL), db, "prep");
    for (int k = 0; k < 3; k++) {
        check(sqlite3_step(st), db, "scan");
        sum += sqlite3_column_int(st, 0);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    double t3 = bench_now();
    if (sum == 42) {
        printf("!");
    }
    t->insert = t1 - t0;
    t->point = t2 - t1;
    t->scan = t3 - t2;
}

static void
keep_best(struct times *best, const struct times *t)
{
    best->insert = t->insert < best->insert ? t->insert : best->insert;
    best->point = t->point < best->point ? t->point : best->point;
    best->scan = t->scan < best->scan ? t->scan : best->scan;
}

static void
remove_db(const char *p)
{
    char w[128];
    snprintf(w, sizeof w, "%s-wal", p);
    unlink(p);
    unlink(w);
}

static sqlite3 *
open_plain(const char *path)
{
    sqlite3 *db = NULL;
    int reserve = DFT_PAGE_RESERVE;
    check(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "unix"), db,
          "open");
    /* The pragmas store_open applies, and the same page layout. */
    check(sqlite3_exec(db,
                       "PRAGMA locking_mode=EXCLUSIVE; PRAGMA synchronous=FULL;"
                       "PRAGMA temp_store=MEMORY; PRAGMA secure_delete=ON; PRAGMA foreign_keys=ON;"
                       "PRAGMA page_size=4096;",
                       NULL, NULL, NULL),
          db, "pragmas");
    sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
    check(sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL), db, "wal");
    return db;
}

/*
 * One comparison at a given page-cache size (PRAGMA cache_size: pages, or -KiB): best of RUNS,
 * alternating the two VFSes.
 */
static int
compare(const char *p1, const char *p2, const unsigned char *key, const unsigned char *vid,
        int cache, const char *what)
{
    struct times a;
    struct times b;
    struct dft_error err;
    sqlite3 *db = NULL;
    /* Alternate the two and keep each phase's best of RUNS: the machine may be shared. */
    a.insert = a.point = a.scan = 1e9;
    b = a;
    for (int run = 0; run < RUNS; run++) {
        struct times t;
        remove_db(p1);
        db = open_plain(p1);
        workload(db, cache, &t);
        sqlite3_close(db);
        keep_best(&a, &t);

        remove_db(p2);
        dft_error_clear(&err);
        if (store_open(&db, p2, key, vid, DFT_STORE_CREATE, &err) != DFT_OK) {
            fprintf(stderr, "vfs_bench: %s\n", err.msg);
            return 1;
        }
        workload(db, cache, &t);
        store_close(db);
        keep_best(&b, &t);
    }

    double ta = a.insert + a.point + a.scan;
    double tb = b.insert + b.point + b.scan;
    printf("vfs_bench: %d rows (~200 B JSON, %d per transaction), %d point reads, 3 scans, "
           "cache_size=%d (%s) on both, best of %d\n",
           ROWS, BATCH, READS, cache, what, RUNS);
    printf("  phase     unix VFS   defter VFS   ratio\n");
    printf("  insert  %8.3f s  %9.3f s  %5.2fx\n", a.insert, b.insert, b.insert / a.insert);
    printf("  point   %8.3f s  %9.3f s  %5.2fx\n", a.point, b.point, b.point / a.point);
    printf("  scan    %8.3f s  %9.3f s  %5.2fx\n", a.scan, b.scan, b.scan / a.scan);
    printf("  total   %8.3f s  %9.3f s  %5.2fx (goal <= 1.15x)\n", ta, tb, tb / ta);
    return 0;
}

int
main(void)
{
    char dir[] = "/tmp/dft-vfs-bench-XXXXXX";
    char p1[96];
    char p2[96];
    unsigned char key[DFT_KEY_BYTES];
    unsigned char vid[DFT_VAULT_ID_BYTES];
    if (sodium_init() < 0 || mkdtemp(dir) == NULL) {
        return 1;
    }
    snprintf(p1, sizeof p1, "%s/plain.db", dir);
    snprintf(p2, sizeof p2, "%s/vault.db", dir);
    randombytes_buf(key, sizeof key);
    randombytes_buf(vid, sizeof vid);
    /* the cache store_open sets on every vault connection, read back from a fresh store */
    struct dft_error err;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int dflt = 0;
    dft_error_clear(&err);
    if (store_open(&db, p2, key, vid, DFT_STORE_CREATE, &err) != DFT_OK) {
        fprintf(stderr, "vfs_bench: %s\n", err.msg);
        return 1;
    }
    if (sqlite3_prepare_v2(db, "PRAGMA cache_size", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        dflt = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    store_close(db);
    remove_db(p2);
    char dwhat[96];
    snprintf(dwhat, sizeof dwhat, "store_open's default for vaults: %d KiB cap",
             dflt < 0 ? -dflt : dflt * 4);
    int rc = compare(p1, p2, key, vid, 64, "64 pages: nearly every read misses");
    if (rc == 0) {
        rc = compare(p1, p2, key, vid, 500, "500 pages: SQLite's default 2,000 KiB");
    }
    if (rc == 0 && dflt != 0) {
        rc = compare(p1, p2, key, vid, dflt, dwhat);
    }
    sodium_memzero(key, sizeof key);
    remove_db(p1);
    remove_db(p2);
    rmdir(dir);
    return rc;
}
