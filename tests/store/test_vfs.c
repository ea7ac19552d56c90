/*
 * test_vfs.c - the encrypting VFS on real SQLite files in a temporary directory: round trips,
 * no plaintext on disk, wrong key, tampering, crash safety under SIGKILL, failing writes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "store/store.h"
#include "store/page.h"
#include "store/vfs.h"

struct fixture {
    char dir[64];
    char path[200];
    char wal[220];
    unsigned char key[DFT_KEY_BYTES];
    unsigned char vid[DFT_VAULT_ID_BYTES];
};

static int
setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL || sodium_init() < 0) {
        return -1;
    }
    snprintf(fx->dir, sizeof fx->dir, "/tmp/dft-vfs-XXXXXX");
    if (mkdtemp(fx->dir) == NULL) {
        return -1;
    }
    snprintf(fx->path, sizeof fx->path, "%s/vault.db", fx->dir);
    snprintf(fx->wal, sizeof fx->wal, "%s-wal", fx->path);
    randombytes_buf(fx->key, sizeof fx->key);
    randombytes_buf(fx->vid, sizeof fx->vid);
    memset(&dft_vfs_fault, 0, sizeof dft_vfs_fault);
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;
    DIR *d = opendir(fx->dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] != '.') {
                char p[512];
                snprintf(p, sizeof p, "%s/%s", fx->dir, e->d_name);
                unlink(p);
            }
        }
        closedir(d);
    }
    rmdir(fx->dir);
    memset(&dft_vfs_fault, 0, sizeof dft_vfs_fault);
    free(fx);
    return 0;
}

static sqlite3 *
open_ok(struct fixture *fx, unsigned flags)
{
    sqlite3 *db = NULL;
    struct dft_error err;
    dft_error_clear(&err);
    enum dft_err rc = store_open(&db, fx->path, fx->key, fx->vid, flags, &err);
    if (rc != DFT_OK) {
        print_error("store_open: %s\n", err.msg);
    }
    assert_int_equal(rc, DFT_OK);
    assert_non_null(db);
    return db;
}

static void
exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        print_error("sql failed (%d): %s\n", rc, msg != NULL ? msg : "");
    }
    sqlite3_free(msg);
    assert_int_equal(rc, SQLITE_OK);
}

static sqlite3_int64
int_query(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    sqlite3_int64 v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* A database with a few tables and rows, closed again. */
static void
make_db(struct fixture *fx, int rows)
{
    sqlite3 *db = open_ok(fx, DFT_STORE_CREATE);
    exec_ok(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL);"
                "CREATE INDEX t_body ON t(body);");
    exec_ok(db, "BEGIN");
    char sql[256];
    for (int i = 0; i < rows; i++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO t(body) VALUES('row %d {\"name\":\"witness %d\",\"note\":\"%0*d\"}')",
                 i, i, 60, i);
        exec_ok(db, sql);
    }
    exec_ok(db, "COMMIT");
    store_close(db);
}

static long
file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static unsigned char *
slurp(const char *p, size_t *n)
{
    FILE *fp = fopen(p, "rb");
    if (fp == NULL) {
        *n = 0;
        return NULL;
    }
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    assert_non_null(b);
    *n = fread(b, 1, (size_t)len, fp);
    fclose(fp);
    return b;
}

static void
patch_byte(const char *p, long off, unsigned char x)
{
    int fd = open(p, O_RDWR);
    assert_true(fd >= 0);
    unsigned char c = 0;
    assert_int_equal(pread(fd, &c, 1, off), 1);
    c ^= x;
    assert_int_equal(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

/* Open, query everything and check pages; DFT_OK only if all three pass. */
static enum dft_err
open_and_read_all(struct fixture *fx, struct dft_error *err)
{
    sqlite3 *db = NULL;
    dft_error_clear(err);
    enum dft_err rc = store_open(&db, fx->path, fx->key, fx->vid, 0, err);
    if (rc != DFT_OK) {
        return rc;
    }
    rc = store_exec(db, "SELECT count(*), sum(length(body)) FROM t; PRAGMA integrity_check;", err);
    if (rc == DFT_OK) {
        rc = store_check_pages(db, err);
    }
    store_close(db);
    return rc;
}

/* ---- round trips ---- */

static void
test_store__round_trip_across_reopen(void **state)
{
    struct fixture *fx = *state;
    make_db(fx, 300);
    assert_int_equal(file_size(fx->path) % DFT_PAGE_BYTES, 0);
    assert_int_equal(file_size(fx->wal), -1); /* checkpointed and removed at close */
    sqlite3 *db = open_ok(fx, 0);
    assert_int_equal(int_query(db, "SELECT count(*) FROM t"), 300);
    assert_int_equal(int_query(db, "SELECT count(*) FROM t WHERE body LIKE 'row 299 %'"), 1);
    assert_int_equal(int_query(db, "PRAGMA page_size"), DFT_PAGE_BYTES);
    int reserve = -1;
    assert_int_equal(sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve),
                     SQLITE_OK);
    assert_int_equal(reserve, DFT_PAGE_RESERVE);
    exec_ok(db, "UPDATE t SET body = 'changed' WHERE id = 7");
    struct dft_error err;
    dft_error_clear(&err);
    assert_int_equal(store_check_pages(db, &err), DFT_OK);
    store_close(db);
    db = open_ok(fx, 0);
    assert_int_equal(int_query(db, "SELECT count(*) FROM t WHERE body = 'changed'"), 1);
    exec_ok(db, "VACUUM");
    assert_int_equal(int_query(db, "SELECT count(*) FROM t"), 300);
    store_close(db);
    assert_int_equal(open_and_read_all(fx, &err), DFT_OK);
}

static void
test_store__create_refuses_existing_file(void **state)
{
    struct fixture *fx = *state;
    make_db(fx, 1);
    sqlite3 *db = NULL;
    struct dft_error err;
    dft_error_clear(&err);
    assert_int_equal(store_open(&db, fx->path, fx->key, fx->vid, DFT_STORE_CREATE, &err),
                     DFT_ERR_IO);
    assert_null(db);
    assert_int_equal(open_and_read_all(fx, &err), DFT_OK);
}

static void
test_store__readonly_open_reads_and_refuses_writes(void **state)
{
    struct fixture *fx = *state;
    make_db(fx, 20);
    sqlite3 *db = open_ok(fx, DFT_STORE_READONLY);
    assert_int_equal(int_query(db, "SELECT count(*) FROM t"), 20);
    assert_int_not_equal(sqlite3_exec(db, "INSERT INTO t(body) VALUES('x')", NULL, NULL, NULL),
                         SQLITE_OK);
    store_close(db);
    struct dft_error err;
    assert_int_equal(open_and_read_all(fx, &err), DFT_OK);
}

static void
test_store__empty_file_is_not_a_vault(void **state)
{
    struct fixture *fx = *state;
    int fd = open(fx->path, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    sqlite3 *db = NULL;
    struct dft_error err;
    dft_error_clear(&err);
    assert_int_equal(store_open(&db, fx->path, fx->key, fx->vid, 0, &err), DFT_ERR_INTEGRITY);
    assert_null(db);
}

static void
test_store__many_rows_and_large_fts(void **state)
{
    struct fixture *fx = *state;
    sqlite3 *db = open_ok(fx, DFT_STORE_CREATE);
    exec_ok(db, "PRAGMA cache_size=50");
    exec_ok(db, "CREATE TABLE big(id INTEGER PRIMARY KEY, a TEXT, b INTEGER);"
                "CREATE VIRTUAL TABLE doc USING fts5(body);");
    exec_ok(db, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 60000) "
                "INSERT INTO big(a, b) SELECT hex(randomblob(40)), abs(random()) % 1000 FROM c");
    /* Sorting more than the cache holds must stay in memory (temp_store=MEMORY). */
    assert_int_equal(int_query(db, "SELECT count(*) FROM (SELECT a FROM big ORDER BY a)"), 60000);
    assert_int_equal(int_query(db, "SELECT count(DISTINCT a) FROM big"), 60000);
    exec_ok(db, "CREATE INDEX big_a ON big(a)");
    exec_ok(db, "BEGIN");
    for (int k = 0; k < 20; k++) {
        exec_ok(db, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 1000) "
                    "INSERT INTO doc(body) SELECT 'witness ' || (abs(random()) % 5000) || ' saw '"
                    " || hex(randomblob(8)) || ' near ' || (abs(random()) % 300) FROM c");
    }
    exec_ok(db, "COMMIT");
    exec_ok(db, "INSERT INTO doc(doc) VALUES('optimize')");
    exec_ok(db, "INSERT INTO doc(doc) VALUES('integrity-check')");
    assert_int_equal(int_query(db, "SELECT count(*) FROM doc"), 20000);
    assert_true(int_query(db, "SELECT count(*) FROM doc WHERE doc MATCH 'witness'") == 20000);
    store_close(db);
    db = open_ok(fx, 0);
    assert_int_equal(int_query(db, "SELECT count(*) FROM doc WHERE doc MATCH 'saw'"), 20000);
    assert_int_equal(int_query(db, "SELECT count(*) FROM big"), 60000);
    store_close(db);
}

/*
 * Scans go through the read-ahead (16 stored pages per pread once pages come in file order):
 * what they return must be the current pages after a checkpoint rewrote them (an old page
 * authenticates under the same page number, so a stale read-ahead would return old rows), and a
 * page changed on disk inside a read-ahead window must fail as any other.
 */
static void
test_store__read_ahead_is_current_and_authenticated(void **state)
{
    struct fixture *fx = *state;
    sqlite3 *db = open_ok(fx, DFT_STORE_CREATE);
    exec_ok(db, "CREATE TABLE s(id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)");
    exec_ok(db, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 20000) "
                "INSERT INTO s(v, pad) SELECT i, hex(randomblob(60)) FROM c");
    exec_ok(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    exec_ok(db, "PRAGMA cache_size=5");
    for (int round = 1; round <= 3; round++) {
        /* sum of v = round * (1 + ... + 20000) */
        assert_int_equal(int_query(db, "SELECT sum(v) FROM s"),
                         (sqlite3_int64)round * 20000 * 20001 / 2);
        char sql[96];
        snprintf(sql, sizeof sql, "UPDATE s SET v = v / %d * %d", round, round + 1);
        exec_ok(db, sql);
        exec_ok(db, "PRAGMA wal_checkpoint(TRUNCATE)"); /* rewrites the pages in the main file */
        /* the last rows' page, just rewritten, read again from the file (not SQLite's cache) */
        exec_ok(db, "PRAGMA shrink_memory");
        assert_int_equal(int_query(db, "SELECT v FROM s WHERE id = 20000"),
                         (sqlite3_int64)(round + 1) * 20000);
    }
    store_close(db);
    long size = file_size(fx->path);
    assert_true(size > 100 * DFT_PAGE_BYTES);
    /* a byte of a page in the middle of the table, read only through read-ahead by a scan */
    patch_byte(fx->path, (size / DFT_PAGE_BYTES / 2) * DFT_PAGE_BYTES + 700, 0x20);
    db = open_ok(fx, 0);
    exec_ok(db, "PRAGMA cache_size=5");
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT sum(length(pad)) FROM s", -1, &st, NULL),
                     SQLITE_OK);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    assert_int_not_equal(rc, SQLITE_ROW);
    assert_int_equal(rc & 0xff, SQLITE_IOERR);
    store_close(db);
}

/* ---- nothing in clear on disk ---- */

static int
dir_contains(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char p[512];
        size_t n = 0;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unsigned char *b = slurp(p, &n);
        if (b != NULL && n >= strlen(needle) && memmem(b, n, needle, strlen(needle)) != NULL) {
            found = 1;
        }
        free(b);
    }
    closedir(d);
    return found;
}

static void
test_store__no_plaintext_on_disk(void **state)
{
    struct fixture *fx = *state;
    static const char marker[] = "MARKER-7c1d-Sevgil-Ablaeva";
    sqlite3 *db = open_ok(fx, DFT_STORE_CREATE);
    exec_ok(db, "CREATE TABLE secret(x TEXT); CREATE VIRTUAL TABLE f USING fts5(x);");
    exec_ok(db, "INSERT INTO secret VALUES('"
                "MARKER-7c1d-Sevgil-Ablaeva"
                "');"
                "INSERT INTO f VALUES('"
                "MARKER-7c1d-Sevgil-Ablaeva"
                "');");
    /* Committed, in the WAL, connection still open. */
    assert_true(file_size(fx->wal) > 0);
    assert_false(dir_contains(fx->dir, marker));
    assert_false(dir_contains(fx->dir, "SQLite format 3"));
    assert_false(dir_contains(fx->dir, "CREATE TABLE"));
    exec_ok(db, "PRAGMA wal_checkpoint(FULL)");
    assert_false(dir_contains(fx->dir, marker));
    store_close(db);
    assert_false(dir_contains(fx->dir, marker));
    assert_false(dir_contains(fx->dir, "SQLite format 3"));
    /* And the marker really is in the database. */
    db = open_ok(fx, 0);
    assert_int_equal(int_query(db, "SELECT count(*) FROM secret WHERE x = '"
                                   "MARKER-7c1d-Sevgil-Ablaeva"
                                   "'"),
                     1);
    store_close(db);
}

static void
test_store__refuses_temporary_files_and_journals(void **state)
{
    struct fixture *fx = *state;
    sqlite3 *db = open_ok(fx, DFT_STORE_CREATE);
    sqlite3_vfs *vfs = NULL;
    assert_int_equal(sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &vfs), SQLITE_OK);
    assert_non_null(vfs);
    sqlite3_file *f = calloc(1, (size_t)vfs->szOsFile);
    assert_non_null(f);
    char p[256];
    snprintf(p, sizeof p, "%s-journal", fx->path);
    int out = 0;
    assert_int_equal(vfs->xOpen(vfs, NULL, f,
                                SQLITE_OPEN_TEMP_DB | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                    SQLITE_OPEN_DELETEONCLOSE,
                                &out),
                     SQLITE_CANTOPEN);
    assert_int_equal(
        vfs->xOpen(vfs, p, f, SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                   &out),
        SQLITE_CANTOPEN);
    assert_int_equal(file_size(p), -1);
    /* A sort that spills with temp_store=FILE is refused instead of writing plaintext. */
    exec_ok(db, "CREATE TABLE big(a TEXT); PRAGMA cache_size=10;"
                "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 20000) "
                "INSERT INTO big SELECT hex(randomblob(50)) FROM c;");
    exec_ok(db, "PRAGMA temp_store=FILE");
    int rc = sqlite3_exec(db, "SELECT a FROM big ORDER BY a", NULL, NULL, NULL);
    assert_true(rc == SQLITE_OK || (rc & 0xff) == SQLITE_CANTOPEN);
    exec_ok(db, "PRAGMA temp_store=MEMORY");
    /* Leaving WAL mode would need a rollback journal: refused, WAL stays. */
    rc = sqlite3_exec(db, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    if (getenv("DFT_TEST_VERBOSE")) {
        fprintf(stderr, "journal_mode=DELETE -> %d %s\n", rc, sqlite3_errmsg(db));
    }
    assert_int_equal(file_size(p), -1);
    exec_ok(db, "INSERT INTO big VALUES('after')");
    store_close(db);
    free(f);
    struct dft_error err;
    db = open_ok(fx, 0);
    assert_int_equal(int_query(db, "SELECT count(*) FROM big"), 20001);
    dft_error_clear(&err);
    assert_int_equal(store_check_pages(db, &err), DFT_OK);
    store_close(db);
    assert_int_equal(file_size(p), -1);
}

/* ---- keys, tampering ---- */

static void
test_store__wrong_key_fails_authentication(void **state)
{
    struct fixture *fx = *state;
    make_db(fx, 10);
    fx->key[0] ^= 1;
    sqlite3 *db = NULL;
    struct dft_error err;
    dft_error_clear(&err);
    assert_int_equal(store_open(&db, fx->path, fx->key, fx->vid, 0, &err), DFT_ERR_INTEGRITY);
    assert_string_equal(err.msg, "vault database failed authentication");
    assert_null(db);
    fx->key[0] ^= 1;
    assert_int_equal(open_and_read_all(fx, &err), DFT_OK);
}

static void
test_store__other_vault_id_fails_authentication(void **state)
{
    struct fixture *fx = *state;
    make_db(fx, 10);
    fx->vid[15] ^= 0x80;
    sqlite3 *db = NULL;
    struct dft_error err;
    dft_error_clear(&err);
    assert_int_equal(store_open(&db, fx->path, fx->key, fx->vid, 0, &err), DFT_ERR_INTEGRITY);
    assert_null(db);
}

static void
test_store__flipped_byte_is_always_detected(void **state)
{
    struct fixture *fx = *state;
    make_db(fx, 400);
    size_t n = 0;
    unsigned char *orig = slurp(fx->path, &n);
    assert_non_null(orig);
    assert_true(n >= 4 * DFT_PAGE_BYTES);
    /* Every page: first byte, one in the middle, the last data byte, nonce and tag. */
    long offs[] = {0,
                   17,
                   20,
                   99,
                   100,
                   2000,
                   DFT_PAGE_DATA_BYTES - 1,
                   DFT_PAGE_DATA_BYTES,
                   DFT_PAGE_DATA_BYTES + 12,
                   DFT_PAGE_BYTES - 1};
    size_t tried = 0;
    for (size_t pg = 0; pg < n / DFT_PAGE_BYTES; pg++) {
        for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++) {
            if ((pg + k) % 3 != 0 && pg > 1) {
                continue; /* sample: keep the test fast */
            }
            long off = (long)(pg * DFT_PAGE_BYTES) + offs[k];
            patch_byte(fx->path, off, (unsigned char)(1u << (k % 8)));
            struct dft_error err;
            enum dft_err rc = open_and_read_all(fx, &err);
            if (rc != DFT_ERR_INTEGRITY) {
                print_error("page %zu offset %ld: %d %s\n", pg + 1, offs[k], rc, err.msg);
            }
            assert_int_equal(rc, DFT_ERR_INTEGRITY);
            /* Restore the original bytes (a failed open may not touch the file). */
            size_t m = 0;
            unsigned char *now = slurp(fx->path, &m);
            assert_int_equal(m, n);
            assert_int_equal(memcmp(now, orig, (size_t)off), 0);
            free(now);
            patch_byte(fx->path, off, (unsigned char)(1u << (k % 8)));
            tried++;
        }
    }
    assert_true(tried > 10);
    struct dft_error err;
    assert_int_equal(open_and_read_all(fx, &err), DFT_OK);
    free(orig);
}

static void
swap_pages(const char *path, long a, long b)
{
    int fd = open(path, O_RDWR);
    unsigned char pa[DFT_PAGE_BYTES];
    unsigned char pb[DFT_PAGE_BYTES];
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, pa, sizeof pa, (a - 1) * DFT_PAGE_BYTES), DFT_PAGE_BYTES);
    assert_int_equal(pread(fd, pb, sizeof pb, (b - 1) * DFT_PAGE_BYTES), DFT_PAGE_BYTES);
    assert_int_equal(pwrite(fd, pb, sizeof pb, (a - 1) * DFT_PAGE_BYTES), DFT_PAGE_BYTES);
    assert_int_equal(pwrite(fd, pa, sizeof pa, (b - 1) * DFT_PAGE_BYTES), DFT_PAGE_BYTES);
    close(fd);
}

static void
test_store__swapped_pages_fail(void **state)
{
    struct fixture *fx = *state;
    make_db(fx, 400);
    long pages = file_size(fx->path) / DFT_PAGE_BYTES;
    assert_true(pages >= 4);
    struct dft_error err;
    swap_pages(fx->path, 2, pages);
    assert_int_equal(open_and_read_all(fx, &err), DFT_ERR_INTEGRITY);
    swap_pages(fx->path, 2, pages);
    assert_int_equal(open_and_read_all(fx, &err), DFT_OK);
    swap_pages(fx->path, 1, 3);
    assert_int_equal(open_and_read_all(fx, &err), DFT_ERR_INTEGRITY);
    swap_pages(fx->path, 1, 3);
    /* A truncated database (last page cut) and a partial page. */
    assert_int_equal(truncate(fx->path, (pages - 1) * DFT_PAGE_BYTES), 0);
    assert_int_equal(open_and_read_all(fx, &err), DFT_ERR_INTEGRITY);
}

static void
test_store__other_vault_file_fails(void **state)
{
    struct fixture *fx = *state;
    make_db(fx, 50);
    char other[160];
    snprintf(other, sizeof other, "%s/other.db", fx->dir);
    /* The same key, another vault id: its file must not pass as ours. */
    unsigned char vid[DFT_VAULT_ID_BYTES];
    memcpy(vid, fx->vid, sizeof vid);
    fx->vid[0] ^= 0x55;
    char keep[200];
    memcpy(keep, fx->path, sizeof keep);
    snprintf(fx->path, sizeof fx->path, "%s", other);
    make_db(fx, 50);
    memcpy(fx->path, keep, sizeof keep);
    memcpy(fx->vid, vid, sizeof vid);
    assert_int_equal(rename(other, fx->path), 0);
    struct dft_error err;
    assert_int_equal(open_and_read_all(fx, &err), DFT_ERR_INTEGRITY);
}

static void
test_store__locked_vault_is_busy(void **state)
{
    struct fixture *fx = *state;
    make_db(fx, 5);
    sqlite3 *db = open_ok(fx, 0);
    sqlite3 *db2 = NULL;
    struct dft_error err;
    dft_error_clear(&err);
    assert_int_equal(store_open(&db2, fx->path, fx->key, fx->vid, 0, &err), DFT_ERR_BUSY);
    assert_null(db2);
    assert_int_equal(int_query(db, "SELECT count(*) FROM t"), 5);
    store_close(db);
}

static void
test_store__wal_tampering_detected(void **state)
{
    struct fixture *fx = *state;
    make_db(fx, 5);
    sqlite3 *db = open_ok(fx, 0);
    exec_ok(db, "PRAGMA cache_size=5");
    exec_ok(db, "INSERT INTO t(body) SELECT body || 'x' FROM t");
    long wal = file_size(fx->wal);
    assert_true(wal > DFT_WAL_HDR_BYTES + DFT_WAL_FRAME_BYTES);
    struct dft_error err;
    dft_error_clear(&err);
    assert_int_equal(store_check_pages(db, &err), DFT_OK);
    /* A byte of the first frame's page: the live check and SQLite's own read both notice. */
    patch_byte(fx->wal, DFT_WAL_HDR_BYTES + DFT_WAL_FRAME_HDR_BYTES + 100, 0x04);
    dft_error_clear(&err);
    assert_int_equal(store_check_pages(db, &err), DFT_ERR_INTEGRITY);
    assert_non_null(strstr(err.msg, "frame 1"));
    patch_byte(fx->wal, DFT_WAL_HDR_BYTES + DFT_WAL_FRAME_HDR_BYTES + 100, 0x04);
    dft_error_clear(&err);
    assert_int_equal(store_check_pages(db, &err), DFT_OK);
    store_close(db);
}

/*
 * SQLite's frame checksum is linear over the plaintext page: in clear, it lets a finder of the
 * WAL confirm a guess of a page (and solve for a few unknown bytes). The VFS masks both words
 * with a keyed PRF, so the right guess no longer matches what is stored (a wrong one never did).
 */
static int
wal_frame_confirms(const unsigned char *w, const unsigned char *page, uint32_t frame)
{
    uint32_t s[2] = {0, 0};
    int big = (int)(dft_be_get(w, 4) & 1);
    wal_checksum(big, w, 24, s);
    for (uint32_t i = 1; i <= frame; i++) {
        const unsigned char *fr = w + DFT_WAL_HDR_BYTES + (size_t)(i - 1) * DFT_WAL_FRAME_BYTES;
        wal_checksum(big, fr, 8, s);
        wal_checksum(big, page, DFT_PAGE_BYTES, s);
        if (i == frame) {
            return s[0] == (uint32_t)dft_be_get(fr + 16, 4) &&
                   s[1] == (uint32_t)dft_be_get(fr + 20, 4);
        }
    }
    return 0;
}

static void
test_store__wal_checksum_confirms_no_guess(void **state)
{
    struct fixture *fx = *state;
    unsigned char page[DFT_PAGE_BYTES];
    struct dft_page_ad ad;
    size_t n = 0;
    make_db(fx, 5);
    sqlite3 *db = open_ok(fx, 0);
    exec_ok(db, "INSERT INTO t(body) VALUES('one row, one frame')");
    unsigned char *w = slurp(fx->wal, &n);
    assert_true(n >= DFT_WAL_HDR_BYTES + DFT_WAL_FRAME_BYTES);
    /* The finder's right guess of frame 1's page: here, its true plaintext. */
    const unsigned char *fr = w + DFT_WAL_HDR_BYTES;
    EVP_CIPHER_CTX *ctx = page_cipher_new(fx->key);
    assert_non_null(ctx);
    page_ad_wal(&ad, fx->vid, fr, w + 16, 1);
    assert_int_equal(page_decrypt(ctx, page, fr + DFT_WAL_FRAME_HDR_BYTES, &ad), 0);
    page_cipher_free(ctx);
    assert_false(wal_frame_confirms(w, page, 1));
    page[2000] ^= 1; /* a wrong guess */
    assert_false(wal_frame_confirms(w, page, 1));
    sodium_memzero(page, sizeof page);
    free(w);
    /* Masked checksums still pass SQLite's own recovery: a reopen finds the row. */
    store_close(db);
    db = open_ok(fx, 0);
    assert_int_equal(int_query(db, "SELECT count(*) FROM t WHERE body = 'one row, one frame'"), 1);
    store_close(db);
}

/*
 * Page nonces come from a per-thread block of random bytes: every page gets a fresh one, and a
 * forked child never takes the nonces its parent goes on to use (same key in both).
 */
static void
test_store__page_nonces_never_repeat_across_fork(void **state)
{
    struct fixture *fx = *state;
    enum { PAGES = 300 }; /* more than one block of nonces */
    static unsigned char seen[2][PAGES][DFT_PAGE_NONCE_BYTES];
    unsigned char page[DFT_PAGE_BYTES], out[DFT_PAGE_BYTES];
    struct dft_page_ad ad;
    memset(page, 0x5a, sizeof page);
    page_ad_main(&ad, fx->vid, 2);
    EVP_CIPHER_CTX *ctx = page_cipher_new(fx->key);
    assert_non_null(ctx);
    assert_int_equal(page_encrypt(ctx, out, page, &ad), 0); /* the parent's block is filled */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        for (int i = 0; i < PAGES; i++) {
            if (page_encrypt(ctx, out, page, &ad) != 0 ||
                write(fds[1], out + DFT_PAGE_DATA_BYTES, DFT_PAGE_NONCE_BYTES) !=
                    DFT_PAGE_NONCE_BYTES) {
                _exit(1);
            }
        }
        _exit(0);
    }
    close(fds[1]);
    for (int i = 0; i < PAGES; i++) {
        assert_int_equal(page_encrypt(ctx, out, page, &ad), 0);
        memcpy(seen[0][i], out + DFT_PAGE_DATA_BYTES, DFT_PAGE_NONCE_BYTES);
        /* and it decrypts */
        unsigned char back[DFT_PAGE_BYTES];
        assert_int_equal(page_decrypt(ctx, back, out, &ad), 0);
        assert_memory_equal(back, page, DFT_PAGE_DATA_BYTES);
    }
    size_t got = 0;
    while (got < sizeof seen[1]) {
        ssize_t r = read(fds[0], (unsigned char *)seen[1] + got, sizeof seen[1] - got);
        assert_true(r > 0);
        got += (size_t)r;
    }
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    page_cipher_free(ctx);
    for (int a = 0; a < 2 * PAGES; a++) {
        for (int b = a + 1; b < 2 * PAGES; b++) {
            assert_memory_not_equal(seen[a / PAGES][a % PAGES], seen[b / PAGES][b % PAGES],
                                    DFT_PAGE_NONCE_BYTES);
        }
    }
}

/* The lock-byte page at 1 GiB is never written by SQLite: only its zero hole is passed over. */
static void
test_store__only_the_lock_byte_hole_is_unused(void **state)
{
    (void)state;
    static unsigned char page[DFT_PAGE_BYTES];
    memset(page, 0, sizeof page);
    uint32_t pending = 0x40000000 / DFT_PAGE_BYTES + 1;
    assert_true(store_page_unused(pending, page));
    assert_false(store_page_unused(pending - 1, page));
    assert_false(store_page_unused(pending + 1, page));
    assert_false(store_page_unused(1, page));
    page[DFT_PAGE_BYTES - 1] = 1; /* anything written there must authenticate */
    assert_false(store_page_unused(pending, page));
}

/* ---- crash safety ---- */

static void
child_commit_loop(struct fixture *fx, int fd, int base)
{
    sqlite3 *db = NULL;
    if (store_open(&db, fx->path, fx->key, fx->vid, 0, NULL) != DFT_OK) {
        _exit(2);
    }
    sqlite3_exec(db, "PRAGMA wal_autocheckpoint=40", NULL, NULL, NULL);
    for (int n = base + 1;; n++) {
        char sql[512];
        snprintf(sql, sizeof sql,
                 "BEGIN; INSERT INTO c(n, pad) VALUES(%d, randomblob(%d));"
                 "INSERT INTO c(n, pad) SELECT -%d, randomblob(3000) FROM (SELECT 1 UNION "
                 "SELECT 2); COMMIT;",
                 n, 100 + (n % 7) * 900, n);
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
            _exit(3);
        }
        if (write(fd, &n, sizeof n) != (ssize_t)sizeof n) {
            _exit(4);
        }
    }
}

static void
test_store__survives_sigkill_at_any_moment(void **state)
{
    struct fixture *fx = *state;
    sqlite3 *db = open_ok(fx, DFT_STORE_CREATE);
    exec_ok(db, "CREATE TABLE c(n INTEGER NOT NULL, pad BLOB)");
    store_close(db);
    for (int round = 0; round < 20; round++) {
        int base = round * 100000;
        int acked = base;
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            child_commit_loop(fx, p[1], base);
        }
        close(p[1]);
        int want = 1 + (round * 7) % 23;
        int got = 0;
        int n = 0;
        while (got < want && read(p[0], &n, sizeof n) == (ssize_t)sizeof n) {
            acked = n;
            got++;
        }
        kill(pid, SIGKILL);
        /* Commits acknowledged before the kill landed are still in the pipe. */
        while (read(p[0], &n, sizeof n) == (ssize_t)sizeof n) {
            acked = n;
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        close(p[0]);
        assert_true(acked > base);

        db = open_ok(fx, 0);
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
        sqlite3_finalize(st);
        struct dft_error err;
        dft_error_clear(&err);
        if (store_check_pages(db, &err) != DFT_OK) {
            print_error("round %d: %s\n", round, err.msg);
            fail();
        }
        /* Every acknowledged commit is there, and only whole transactions. */
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT max(n) FROM c WHERE n > %d", base);
        sqlite3_int64 max = int_query(db, sql);
        assert_true(max >= acked);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM c WHERE n > %d", base);
        assert_int_equal(int_query(db, sql), max - base);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM c WHERE n < -%d", base);
        assert_int_equal(int_query(db, sql), 2 * (max - base));
        store_close(db);
    }
}

/* ---- failing writes ---- */

/* One transaction with the Nth write (or sync) failing; returns 1 if the fault was hit. */
static int
fault_round(struct fixture *fx, long at, int rc_code, int sticky, int on_sync)
{
    memset(&dft_vfs_fault, 0, sizeof dft_vfs_fault);
    sqlite3 *db = open_ok(fx, 0);
    sqlite3_int64 before = int_query(db, "SELECT count(*) FROM t");
    dft_vfs_fault.rc = rc_code;
    dft_vfs_fault.sticky = sticky;
    if (on_sync) {
        dft_vfs_fault.sync_at = at;
    } else {
        dft_vfs_fault.write_at = at;
    }
    struct dft_error err;
    dft_error_clear(&err);
    enum dft_err e = store_exec(db,
                                "BEGIN; INSERT INTO t(body) SELECT 'fault ' || body FROM t "
                                "LIMIT 40; UPDATE t SET body = body || '!' WHERE id % 5 = 0;"
                                "COMMIT;",
                                &err);
    int failed = e != DFT_OK;
    if (failed) {
        assert_int_equal(e, DFT_ERR_IO);
        store_rollback(db);
    }
    long hits = dft_vfs_fault.hits;
    if (!sticky) {
        memset(&dft_vfs_fault, 0, sizeof dft_vfs_fault);
    }
    /* With a sticky fault the close cannot checkpoint either: the WAL must carry the data. */
    store_close(db);
    memset(&dft_vfs_fault, 0, sizeof dft_vfs_fault);
    db = open_ok(fx, 0);
    sqlite3_int64 after = int_query(db, "SELECT count(*) FROM t");
    /* Either the whole transaction or none of it; never less than before. */
    assert_true(after == before || after == before + 40);
    if (!failed) {
        assert_int_equal(after, before + 40);
    }
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    dft_error_clear(&err);
    assert_int_equal(store_check_pages(db, &err), DFT_OK);
    /* Trim back so every round starts from the same size. */
    exec_ok(db, "DELETE FROM t WHERE body LIKE 'fault %'");
    store_close(db);
    return hits > 0;
}

static void
test_store__failed_write_loses_nothing(void **state)
{
    struct fixture *fx = *state;
    make_db(fx, 200);
    static const int codes[] = {SQLITE_IOERR_WRITE, SQLITE_FULL};
    for (int sticky = 0; sticky < 2; sticky++) {
        /* Fail the Nth write for growing N until the transaction gets through untouched. */
        long at = 1;
        int rounds = 0;
        while (fault_round(fx, at, codes[at % 2], sticky, 0)) {
            at += 1 + at / 3;
            rounds++;
            assert_true(rounds < 100);
        }
        assert_true(rounds > 5);
        at = 1;
        while (fault_round(fx, at, SQLITE_IOERR_FSYNC, sticky, 1)) {
            at++;
        }
        assert_true(at > 1);
    }
}

/*
 * A checkpoint whose Nth write fails (the VFS gathers consecutive page writes into one, and
 * writes each WAL frame with its header in one): the committed update survives, whole, after
 * the close and reopen, for every N until the checkpoint gets through.
 */
static void
test_store__failed_checkpoint_write_loses_nothing(void **state)
{
    struct fixture *fx = *state;
    make_db(fx, 2000);
    for (int sticky = 0; sticky < 2; sticky++) {
        long at = 1;
        for (;; at++) {
            memset(&dft_vfs_fault, 0, sizeof dft_vfs_fault);
            sqlite3 *db = open_ok(fx, 0);
            sqlite3_int64 n = int_query(db, "SELECT count(*) FROM t");
            exec_ok(db, "UPDATE t SET body = body || '+'");
            sqlite3_int64 len = int_query(db, "SELECT sum(length(body)) FROM t");
            dft_vfs_fault.rc = SQLITE_IOERR_WRITE;
            dft_vfs_fault.sticky = sticky;
            dft_vfs_fault.write_at = at;
            (void)sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
            long hits = dft_vfs_fault.hits;
            if (!sticky) {
                memset(&dft_vfs_fault, 0, sizeof dft_vfs_fault);
            }
            store_close(db);
            memset(&dft_vfs_fault, 0, sizeof dft_vfs_fault);
            db = open_ok(fx, 0);
            assert_int_equal(int_query(db, "SELECT count(*) FROM t"), n);
            assert_int_equal(int_query(db, "SELECT sum(length(body)) FROM t"), len);
            sqlite3_stmt *st = NULL;
            assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
                             SQLITE_OK);
            assert_int_equal(sqlite3_step(st), SQLITE_ROW);
            assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
            sqlite3_finalize(st);
            struct dft_error err;
            dft_error_clear(&err);
            assert_int_equal(store_check_pages(db, &err), DFT_OK);
            store_close(db);
            if (hits == 0) {
                break;
            }
            assert_true(at < 200);
        }
        assert_true(at > 5); /* several write points of the checkpoint were failed */
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store__round_trip_across_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__create_refuses_existing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__empty_file_is_not_a_vault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__readonly_open_reads_and_refuses_writes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store__many_rows_and_large_fts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__no_plaintext_on_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__refuses_temporary_files_and_journals, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store__wrong_key_fails_authentication, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store__other_vault_id_fails_authentication, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store__flipped_byte_is_always_detected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store__swapped_pages_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__other_vault_file_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__locked_vault_is_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__wal_tampering_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__wal_checksum_confirms_no_guess, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store__survives_sigkill_at_any_moment, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store__failed_write_loses_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__failed_checkpoint_write_loses_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store__page_nonces_never_repeat_across_fork, setup,
                                        teardown),
        cmocka_unit_test(test_store__only_the_lock_byte_hole_is_unused),
        cmocka_unit_test_setup_teardown(test_store__read_ahead_is_current_and_authenticated, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
