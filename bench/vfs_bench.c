/*
 * vfs_bench.c - the encrypting VFS against SQLite's default unix VFS on the same workload.
 *
 * Inserts 200k rows of ~200-byte JSON in transactions of 1000, then random point reads and a
 * full scan with a small page cache (so pages really are read again through the VFS), with the
 * same pragmas on both. Prints both times and the ratio (goal: at most 1.15x) at three cache sizes,
 * each the same for both VFSes: 64 pages (nearly every read misses: the worst case), 500 pages
 * (SQLite's own default of 2,000 KiB) and the cache store_open gives every vault connection
 * (read back from a fresh store). Each phase prints its wall time and this process's CPU time
 * (user + system, one thread: the pread copies count): on a shared machine the CPU ratio is the
 * steadier one. VFS_BENCH_ONLY=unix,defter,... (and VFS_BENCH_CACHE=pages) runs just those, once
 * each, for a profiler. Writes only under a fresh directory in /tmp, removed at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"
#include "store/page.h"
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

/* Per phase (insert, point, scan): wall seconds and this process's CPU seconds (one thread). */
struct times {
    double wall[3], cpu[3];
    int misses[3]; /* page-cache misses (SQLITE_DBSTATUS_CACHE_MISS): pages read through the VFS */
};

/* The three phases are separate functions so a profiler (callgrind) can tell them apart. */
__attribute__((noinline)) static void
phase_insert(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    char json[256];
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
}

__attribute__((noinline)) static long
phase_point(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
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
    return sum;
}

__attribute__((noinline)) static long
phase_scan(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    long sum = 0;
    check(sqlite3_prepare_v2(db, "SELECT sum(length(j)) FROM r", -1, &st, NULL), db, "prep");
    for (int k = 0; k < 3; k++) {
        check(sqlite3_step(st), db, "scan");
        sum += sqlite3_column_int(st, 0);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return sum;
}

static void
workload(sqlite3 *db, int cache, struct times *t)
{
    char sql[128];
    snprintf(sql, sizeof sql,
             "PRAGMA cache_size=%d; CREATE TABLE r(id INTEGER PRIMARY KEY, j TEXT)", cache);
    check(sqlite3_exec(db, sql, NULL, NULL, NULL), db, "create");
    double w[4], c[4];
    int hi = 0, m[4] = {0};
    sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_MISS, &m[0], &hi, 1);
    w[0] = bench_now();
    c[0] = bench_cpu();
    phase_insert(db);
    w[1] = bench_now();
    c[1] = bench_cpu();
    sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_MISS, &m[1], &hi, 1);
    long sum = phase_point(db);
    w[2] = bench_now();
    c[2] = bench_cpu();
    sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_MISS, &m[2], &hi, 1);
    sum += phase_scan(db);
    w[3] = bench_now();
    c[3] = bench_cpu();
    sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_MISS, &m[3], &hi, 1);
    if (sum == 42) {
        printf("!");
    }
    for (int i = 0; i < 3; i++) {
        t->wall[i] = w[i + 1] - w[i];
        t->cpu[i] = c[i + 1] - c[i];
        t->misses[i] = m[i + 1];
    }
}

static void
keep_best(struct times *best, const struct times *t)
{
    for (int i = 0; i < 3; i++) {
        best->wall[i] = t->wall[i] < best->wall[i] ? t->wall[i] : best->wall[i];
        best->cpu[i] = t->cpu[i] < best->cpu[i] ? t->cpu[i] : best->cpu[i];
        best->misses[i] = t->misses[i];
    }
}

/* CPU microseconds of one page authentication and decryption (store/page.c), best of 5. */
static double
page_open_us(const unsigned char *key, const unsigned char *vid)
{
    static unsigned char page[DFT_PAGE_BYTES];
    static unsigned char sealed[DFT_PAGE_BYTES];
    struct dft_page_ad ad;
    double best = 1e9;
    EVP_CIPHER_CTX *ctx = page_cipher_new(key);
    if (ctx == NULL) {
        return 0;
    }
    memset(page, 'x', sizeof page);
    page_ad_main(&ad, vid, 7);
    if (page_encrypt(ctx, sealed, page, &ad) != 0) {
        page_cipher_free(ctx);
        return 0;
    }
    for (int r = 0; r < 5; r++) {
        double c0 = bench_cpu();
        for (int i = 0; i < 20000; i++) {
            if (page_decrypt(ctx, page, sealed, &ad) != 0) {
                page_cipher_free(ctx);
                return 0;
            }
        }
        double us = (bench_cpu() - c0) / 20000 * 1e6;
        best = us < best ? us : best;
    }
    page_cipher_free(ctx);
    return best;
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
    for (int i = 0; i < 3; i++) {
        a.wall[i] = a.cpu[i] = 1e9;
    }
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

    static const char *const phase[3] = {"insert", "point", "scan"};
    double wa = 0, wb = 0, ca = 0, cb = 0;
    printf("vfs_bench: %d rows (~200 B JSON, %d per transaction), %d point reads, 3 scans, "
           "cache_size=%d (%s) on both, best of %d\n",
           ROWS, BATCH, READS, cache, what, RUNS);
    printf("  phase    unix wall  defter wall  ratio | unix CPU  defter CPU  ratio\n");
    for (int i = 0; i < 3; i++) {
        printf("  %-6s  %8.3f s  %9.3f s  %5.2fx | %6.3f s  %8.3f s  %5.2fx\n", phase[i], a.wall[i],
               b.wall[i], b.wall[i] / a.wall[i], a.cpu[i], b.cpu[i], b.cpu[i] / a.cpu[i]);
        wa += a.wall[i];
        wb += b.wall[i];
        ca += a.cpu[i];
        cb += b.cpu[i];
    }
    printf("  total   %8.3f s  %9.3f s  %5.2fx | %6.3f s  %8.3f s  %5.2fx (goal <= 1.15x)\n", wa,
           wb, wb / wa, ca, cb, cb / ca);
    /* What the cipher alone costs: every page read through the VFS is one AES-256-GCM open. */
    double us = page_open_us(key, vid);
    printf("  point: %d page reads through the VFS (%.2f per query); AES-256-GCM page open "
           "alone %.2f us here -> %.3f s of CPU, against %.3f s extra CPU measured\n",
           b.misses[1], (double)b.misses[1] / READS, us, us * b.misses[1] / 1e6,
           b.cpu[1] - a.cpu[1]);
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
    /* profiling: VFS_BENCH_ONLY="unix,defter,..." runs those in turn, once each */
    const char *only = getenv("VFS_BENCH_ONLY");
    if (only != NULL) {
        const char *c = getenv("VFS_BENCH_CACHE");
        int cache = c != NULL ? (int)strtol(c, NULL, 10) : 64;
        for (const char *w = only; *w != '\0'; w += strcspn(w, ",") + (w[strcspn(w, ",")] != 0)) {
            struct times t;
            int plain = strncmp(w, "unix", 4) == 0;
            remove_db(p1);
            remove_db(p2);
            if (plain) {
                db = open_plain(p1);
            } else if (store_open(&db, p2, key, vid, DFT_STORE_CREATE, &err) != DFT_OK) {
                fprintf(stderr, "vfs_bench: %s\n", err.msg);
                return 1;
            }
            workload(db, cache, &t);
            printf("%s, cache_size=%d: insert %.3f s (CPU %.3f), point %.3f s (%.3f, %d page "
                   "reads), scan %.3f s (%.3f)\n",
                   plain ? "unix" : "defter", cache, t.wall[0], t.cpu[0], t.wall[1], t.cpu[1],
                   t.misses[1], t.wall[2], t.cpu[2]);
            if (plain) {
                sqlite3_close(db);
            } else {
                store_close(db);
            }
        }
        remove_db(p1);
        remove_db(p2);
        rmdir(dir);
        return 0;
    }
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
