/*
 * test_storage.c - one conformance suite for every storage backend of `defter serve`.
 *
 * SQLite + files always run (a temp --data DIR). PostgreSQL runs when DEFTER_TEST_PG_URL is
 * set and S3 when DEFTER_TEST_S3_URL is set (tests/sync/backends.sh starts a pg_virtualenv
 * cluster and a Ceph radosgw and sets both). Each run works in fresh random collection ids,
 * so a shared server is never confused by an earlier run.
 *
 * Cases: append/read/size/leaves/collections; checkpoints; durability across a reopen; a
 * failed append (an index taken behind the store's back) changes nothing; large bodies; chunk
 * put keeps the first of a name; NOT_FOUND; bad names; the backend picker; refusals of the
 * real services (a wrong password, a wrong S3 secret, an unreachable port) as clear errors
 * that never carry the secret.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <sqlite3.h>

#include "crypto/hash.h"
#include "sync/storage.h"

struct backend {
    const char *name;
    const struct sync_log_ops *log;
    const struct sync_blob_ops *blob;
    const char *db_url;  /* --db or NULL */
    const char *obj_url; /* --objects or NULL */
};

static struct backend *cur; /* the backend the current group runs against */
static char data_dir[256];

static void
new_cid(char cid[33])
{
    unsigned char r[16];
    randombytes_buf(r, sizeof r);
    dft_hex_encode(cid, r, sizeof r);
}

static void *
open_log(void)
{
    void *self = NULL;
    struct dft_error err = {0};
    enum dft_err rc = cur->log->open(&self, data_dir, cur->db_url, &err);
    if (rc != DFT_OK) {
        fprintf(stderr, "open %s: %s\n", cur->log->name, err.msg);
    }
    assert_int_equal(rc, DFT_OK);
    return self;
}

static void *
open_blob(void)
{
    void *self = NULL;
    struct dft_error err = {0};
    enum dft_err rc = cur->blob->open(&self, data_dir, cur->obj_url, &err);
    if (rc != DFT_OK) {
        fprintf(stderr, "open %s: %s\n", cur->blob->name, err.msg);
    }
    assert_int_equal(rc, DFT_OK);
    return self;
}

/* Entry i of a test: deterministic bytes of a given length, and its leaf hash. */
static unsigned char *
body_of(uint64_t i, size_t n)
{
    unsigned char *p = malloc(n > 0 ? n : 1);
    assert_non_null(p);
    for (size_t k = 0; k < n; k++) {
        p[k] = (unsigned char)((i * 131u + k * 7u) ^ (k >> 8));
    }
    return p;
}

static enum dft_err
append_n(void *self, const char *cid, uint64_t start, size_t count, size_t len, uint64_t *first,
         struct dft_error *err)
{
    unsigned char **bodies = calloc(count + 1, sizeof *bodies);
    size_t *lens = calloc(count + 1, sizeof *lens);
    unsigned char(*leaves)[32] = calloc(count + 1, 32);
    assert_non_null(bodies);
    assert_non_null(lens);
    assert_non_null(leaves);
    for (size_t i = 0; i < count; i++) {
        lens[i] = len + i;
        bodies[i] = body_of(start + i, lens[i]);
        crypto_leaf_hash(leaves[i], bodies[i], lens[i]);
    }
    enum dft_err rc = cur->log->append(self, cid, count, (const unsigned char *const *)bodies, lens,
                                       (const unsigned char(*)[32])leaves, first, err);
    for (size_t i = 0; i < count; i++) {
        free(bodies[i]);
    }
    free(bodies);
    free(lens);
    free(leaves);
    return rc;
}

struct seen {
    uint64_t next, got, stop_after;
    size_t len; /* base length: entry i has len + (i - start of its append) bytes */
    int bad;
};

static int
check_entry(void *ctx, uint64_t index, const unsigned char *body, size_t n,
            const unsigned char leaf[32])
{
    struct seen *s = ctx;
    unsigned char want[32];
    if (index != s->next) {
        s->bad = 1;
    }
    crypto_leaf_hash(want, body, n);
    if (memcmp(want, leaf, 32) != 0) {
        s->bad = 1;
    }
    unsigned char *exp = body_of(index, n);
    if (memcmp(exp, body, n) != 0) {
        s->bad = 1;
    }
    free(exp);
    s->next++;
    s->got++;
    return s->stop_after != 0 && s->got >= s->stop_after;
}

struct cids {
    const char *want;
    int found;
};

static int
find_cid(void *ctx, const char *cid)
{
    struct cids *c = ctx;
    if (strcmp(cid, c->want) == 0) {
        c->found = 1;
    }
    return 0;
}

static void
test_log__append_read_size_leaves(void **state)
{
    (void)state;
    struct dft_error err = {0};
    void *s = open_log();
    char cid[33], other[33];
    uint64_t size = 99, first = 99;
    new_cid(cid);
    new_cid(other);
    assert_int_equal(cur->log->size(s, cid, &size, &err), DFT_ERR_NOT_FOUND);
    assert_int_equal(cur->log->create(s, cid, NULL), DFT_OK);
    assert_int_equal(cur->log->create(s, cid, NULL), DFT_ERR_INPUT);
    assert_int_equal(cur->log->size(s, cid, &size, NULL), DFT_OK);
    assert_int_equal(size, 0);

    assert_int_equal(append_n(s, cid, 0, 3, 100, &first, NULL), DFT_OK);
    assert_int_equal(first, 0);
    assert_int_equal(append_n(s, cid, 3, 2, 103, &first, NULL), DFT_OK);
    assert_int_equal(first, 3);
    assert_int_equal(append_n(s, cid, 5, 1, 0, &first, NULL), DFT_OK); /* an empty body */
    assert_int_equal(first, 5);
    assert_int_equal(cur->log->size(s, cid, &size, NULL), DFT_OK);
    assert_int_equal(size, 6);

    struct seen all = {0};
    assert_int_equal(cur->log->read(s, cid, 0, 100, check_entry, &all, NULL), DFT_OK);
    assert_int_equal(all.got, 6);
    assert_false(all.bad);
    struct seen mid = {.next = 2};
    assert_int_equal(cur->log->read(s, cid, 2, 2, check_entry, &mid, NULL), DFT_OK);
    assert_int_equal(mid.got, 2);
    assert_false(mid.bad);
    struct seen stop = {.next = 1, .stop_after = 2};
    assert_int_equal(cur->log->read(s, cid, 1, UINT64_MAX, check_entry, &stop, NULL), DFT_OK);
    assert_int_equal(stop.got, 2);
    struct seen past = {.next = 6};
    assert_int_equal(cur->log->read(s, cid, 6, 10, check_entry, &past, NULL), DFT_OK);
    assert_int_equal(past.got, 0);
    /* the store still answers after an early stop */
    assert_int_equal(cur->log->size(s, cid, &size, NULL), DFT_OK);
    assert_int_equal(size, 6);

    unsigned char lv[6][32], want[32];
    assert_int_equal(cur->log->leaves(s, cid, 0, 6, lv, NULL), DFT_OK);
    for (uint64_t i = 0; i < 6; i++) {
        size_t n = i < 3 ? 100 + i : i < 5 ? 103 + (i - 3) : 0;
        unsigned char *b = body_of(i, n);
        crypto_leaf_hash(want, b, n);
        free(b);
        assert_memory_equal(lv[i], want, 32);
    }
    assert_int_equal(cur->log->leaves(s, cid, 1, 2, lv, NULL), DFT_OK);
    unsigned char *b1 = body_of(1, 101);
    crypto_leaf_hash(want, b1, 101);
    free(b1);
    assert_memory_equal(lv[0], want, 32);
    assert_int_not_equal(cur->log->leaves(s, cid, 4, 3, lv, NULL), DFT_OK); /* past the end */

    struct cids c = {cid, 0};
    assert_int_equal(cur->log->collections(s, find_cid, &c, NULL), DFT_OK);
    assert_true(c.found);

    /* an unknown collection: NOT_FOUND, and nothing is created by trying */
    dft_error_clear(&err);
    assert_int_equal(append_n(s, other, 0, 1, 10, &first, &err), DFT_ERR_NOT_FOUND);
    assert_int_equal(cur->log->size(s, other, &size, NULL), DFT_ERR_NOT_FOUND);
    struct cids o = {other, 0};
    assert_int_equal(cur->log->collections(s, find_cid, &o, NULL), DFT_OK);
    assert_false(o.found);
    struct seen none = {0};
    enum dft_err rc = cur->log->read(s, other, 0, 10, check_entry, &none, NULL);
    assert_true(rc == DFT_OK || rc == DFT_ERR_NOT_FOUND);
    assert_int_equal(none.got, 0);
    cur->log->close(s);
}

static void
test_log__checkpoints(void **state)
{
    (void)state;
    void *s = open_log();
    char cid[33];
    uint64_t size = 0, first;
    struct dft_buf note;
    new_cid(cid);
    assert_int_equal(cur->log->create(s, cid, NULL), DFT_OK);
    dft_buf_init(&note, 1 << 16, 0);
    assert_int_equal(cur->log->checkpoint_latest(s, cid, &size, &note, NULL), DFT_ERR_NOT_FOUND);
    assert_int_equal(note.len, 0);
    assert_int_equal(append_n(s, cid, 0, 3, 50, &first, NULL), DFT_OK);
    const char *n1 = "origin\n1\nAAAA\n\n\xe2\x80\x94 sig1\n";
    const char *n3 = "origin\n3\nBBBB\n\n\xe2\x80\x94 sig3\n";
    assert_int_equal(cur->log->checkpoint_put(s, cid, 1, n1, strlen(n1), NULL), DFT_OK);
    assert_int_equal(cur->log->checkpoint_put(s, cid, 3, n3, strlen(n3), NULL), DFT_OK);
    assert_int_equal(cur->log->checkpoint_latest(s, cid, &size, &note, NULL), DFT_OK);
    assert_int_equal(size, 3);
    assert_int_equal(note.len, strlen(n3));
    assert_memory_equal(note.data, n3, strlen(n3));
    assert_int_equal(note.data[note.len], '\0');
    /* an older size put later does not become the latest */
    dft_buf_reset(&note);
    assert_int_equal(cur->log->checkpoint_put(s, cid, 2, n1, strlen(n1), NULL), DFT_OK);
    assert_int_equal(cur->log->checkpoint_latest(s, cid, &size, &note, NULL), DFT_OK);
    assert_int_equal(size, 3);
    /* a note over the caller's cap fails and leaves the buffer empty */
    struct dft_buf small;
    dft_buf_init(&small, 8, 0);
    assert_int_equal(cur->log->checkpoint_latest(s, cid, &size, &small, NULL), DFT_ERR_TOO_LARGE);
    assert_int_equal(small.len, 0);
    dft_buf_release(&small);
    dft_buf_release(&note);
    cur->log->close(s);
}

static void
test_log__durable_across_reopen(void **state)
{
    (void)state;
    void *s = open_log();
    char cid[33];
    uint64_t size = 0, first;
    new_cid(cid);
    assert_int_equal(cur->log->create(s, cid, NULL), DFT_OK);
    assert_int_equal(append_n(s, cid, 0, 4, 64, &first, NULL), DFT_OK);
    assert_int_equal(cur->log->checkpoint_put(s, cid, 4, "n4", 2, NULL), DFT_OK);
    cur->log->close(s);
    s = open_log();
    assert_int_equal(cur->log->size(s, cid, &size, NULL), DFT_OK);
    assert_int_equal(size, 4);
    struct seen all = {0};
    assert_int_equal(cur->log->read(s, cid, 0, 4, check_entry, &all, NULL), DFT_OK);
    assert_int_equal(all.got, 4);
    assert_false(all.bad);
    struct dft_buf note;
    dft_buf_init(&note, 1024, 0);
    assert_int_equal(cur->log->checkpoint_latest(s, cid, &size, &note, NULL), DFT_OK);
    assert_int_equal(size, 4);
    assert_string_equal((const char *)note.data, "n4");
    dft_buf_release(&note);
    cur->log->close(s);
}

/*
 * Take index `idx` of cid behind the store's back (its own database, its own schema), so that
 * an append across it must fail in the middle; undo with take = 0.
 */
static void
sabotage(const char *cid, uint64_t idx, int take)
{
    char sql[512];
    if (cur->db_url == NULL) {
        char path[512];
        sqlite3 *db = NULL;
        snprintf(path, sizeof path, "%s/sync.db", data_dir);
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        sqlite3_busy_timeout(db, 10000);
        if (take) {
            snprintf(sql, sizeof sql,
                     "INSERT INTO entries(cid, idx, body, leaf) VALUES ('%s', %llu, x'00', "
                     "zeroblob(32))",
                     cid, (unsigned long long)idx);
        } else {
            snprintf(sql, sizeof sql, "DELETE FROM entries WHERE cid = '%s' AND idx = %llu", cid,
                     (unsigned long long)idx);
        }
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        return;
    }
    PGconn *c = PQconnectdb(cur->db_url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    if (take) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO defter_sync_entries (cid, idx, leaf, body) VALUES ('%s', %llu, "
                 "decode(repeat('00', 32), 'hex'), '\\x00')",
                 cid, (unsigned long long)idx);
    } else {
        snprintf(sql, sizeof sql, "DELETE FROM defter_sync_entries WHERE cid = '%s' AND idx = %llu",
                 cid, (unsigned long long)idx);
    }
    PGresult *r = PQexec(c, sql);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(c);
}

static void
test_log__failed_append_changes_nothing(void **state)
{
    (void)state;
    struct dft_error err = {0};
    void *s = open_log();
    char cid[33];
    uint64_t size = 0, first = 77;
    unsigned char lv[3][32];
    new_cid(cid);
    assert_int_equal(cur->log->create(s, cid, NULL), DFT_OK);
    assert_int_equal(append_n(s, cid, 0, 3, 40, &first, NULL), DFT_OK);
    sabotage(cid, 5, 1); /* an append of 4 writes 3, 4, then hits 5 */
    first = 77;
    assert_int_not_equal(append_n(s, cid, 3, 4, 40, &first, &err), DFT_OK);
    assert_int_not_equal(err.msg[0], '\0');
    assert_int_equal(first, 77);
    assert_int_equal(cur->log->size(s, cid, &size, NULL), DFT_OK);
    assert_int_equal(size, 3);
    struct seen after = {.next = 3};
    assert_int_equal(cur->log->read(s, cid, 3, 2, check_entry, &after, NULL), DFT_OK);
    assert_int_equal(after.got, 0); /* neither 3 nor 4 landed */
    assert_int_not_equal(cur->log->leaves(s, cid, 3, 1, lv, NULL), DFT_OK);
    sabotage(cid, 5, 0);
    /* and the store goes on from where it was */
    assert_int_equal(append_n(s, cid, 3, 4, 40, &first, NULL), DFT_OK);
    assert_int_equal(first, 3);
    struct seen all = {0};
    assert_int_equal(cur->log->read(s, cid, 0, 100, check_entry, &all, NULL), DFT_OK);
    assert_int_equal(all.got, 7);
    cur->log->close(s);
}

static void
test_log__large_bodies(void **state)
{
    (void)state;
    void *s = open_log();
    char cid[33];
    uint64_t first;
    new_cid(cid);
    assert_int_equal(cur->log->create(s, cid, NULL), DFT_OK);
    /* one 8 MiB entry, then a batch of 1,000 small ones in one append */
    assert_int_equal(append_n(s, cid, 0, 1, 8u << 20, &first, NULL), DFT_OK);
    assert_int_equal(append_n(s, cid, 1, 1000, 1024, &first, NULL), DFT_OK);
    assert_int_equal(first, 1);
    struct seen all = {0};
    assert_int_equal(cur->log->read(s, cid, 0, 2000, check_entry, &all, NULL), DFT_OK);
    assert_int_equal(all.got, 1001);
    assert_false(all.bad);
    cur->log->close(s);
}

static void
test_blob__put_get(void **state)
{
    (void)state;
    struct dft_error err = {0};
    void *s = open_blob();
    char cid[33], other[33], name[65];
    unsigned char r[32];
    struct dft_buf out;
    new_cid(cid);
    new_cid(other);
    randombytes_buf(r, sizeof r);
    dft_hex_encode(name, r, sizeof r);
    dft_buf_init(&out, SYNC_CHUNK_MAX, 0);

    assert_int_equal(cur->blob->get(s, cid, name, &out, &err), DFT_ERR_NOT_FOUND);
    assert_int_equal(out.len, 0);
    unsigned char *a = body_of(1, 4096), *b = body_of(2, 4096);
    assert_int_equal(cur->blob->put(s, cid, name, a, 4096, NULL), DFT_OK);
    assert_int_equal(cur->blob->get(s, cid, name, &out, NULL), DFT_OK);
    assert_int_equal(out.len, 4096);
    assert_memory_equal(out.data, a, 4096);
    /* the same name again keeps the first (idempotent, and no overwrite by another body) */
    assert_int_equal(cur->blob->put(s, cid, name, a, 4096, NULL), DFT_OK);
    assert_int_equal(cur->blob->put(s, cid, name, b, 4096, NULL), DFT_OK);
    dft_buf_reset(&out);
    assert_int_equal(cur->blob->get(s, cid, name, &out, NULL), DFT_OK);
    assert_memory_equal(out.data, a, 4096);
    /* collections are apart */
    dft_buf_reset(&out);
    assert_int_equal(cur->blob->get(s, other, name, &out, NULL), DFT_ERR_NOT_FOUND);
    assert_int_equal(out.len, 0);
    /* names that could leave their place are refused before any I/O */
    assert_int_equal(cur->blob->put(s, cid, "../x", a, 10, NULL), DFT_ERR_INPUT);
    assert_int_equal(cur->blob->put(s, "../../etc", name, a, 10, NULL), DFT_ERR_INPUT);
    assert_int_equal(cur->blob->get(s, cid, "a/b", &out, NULL), DFT_ERR_INPUT);
    assert_int_equal(cur->blob->get(s, cid, "", &out, NULL), DFT_ERR_INPUT);
    free(a);
    free(b);
    dft_buf_release(&out);
    cur->blob->close(s);
}

static void
test_blob__large_and_empty(void **state)
{
    (void)state;
    void *s = open_blob();
    char cid[33], name[65], name0[65];
    unsigned char r[32];
    struct dft_buf out;
    new_cid(cid);
    randombytes_buf(r, sizeof r);
    dft_hex_encode(name, r, sizeof r);
    randombytes_buf(r, sizeof r);
    dft_hex_encode(name0, r, sizeof r);
    size_t n = 4u << 20;
    unsigned char *big = body_of(9, n);
    assert_int_equal(cur->blob->put(s, cid, name, big, n, NULL), DFT_OK);
    dft_buf_init(&out, SYNC_CHUNK_MAX, 0);
    assert_int_equal(cur->blob->get(s, cid, name, &out, NULL), DFT_OK);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.data, big, n);
    /* a reader's cap below the object: TOO_LARGE or IO, nothing left in out */
    struct dft_buf small;
    dft_buf_init(&small, 1024, 0);
    assert_int_not_equal(cur->blob->get(s, cid, name, &small, NULL), DFT_OK);
    assert_int_equal(small.len, 0);
    dft_buf_release(&small);
    /* survives a reopen */
    cur->blob->close(s);
    s = open_blob();
    dft_buf_reset(&out);
    assert_int_equal(cur->blob->get(s, cid, name, &out, NULL), DFT_OK);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.data, big, n);
    free(big);
    dft_buf_release(&out);
    cur->blob->close(s);
}

static void
test_pick(void **state)
{
    (void)state;
    const struct sync_log_ops *l = NULL;
    const struct sync_blob_ops *b = NULL;
    struct dft_error err = {0};
    assert_int_equal(sync_storage_pick(NULL, NULL, &l, &b, NULL), DFT_OK);
    assert_ptr_equal(l, &sync_log_sqlite);
    assert_ptr_equal(b, &sync_blob_files);
    assert_int_equal(sync_storage_pick("postgresql://h/db", "s3://h/bucket", &l, &b, NULL), DFT_OK);
    assert_ptr_equal(l, &sync_log_pg);
    assert_ptr_equal(b, &sync_blob_s3);
    assert_int_equal(sync_storage_pick("postgres://h/db", NULL, &l, &b, NULL), DFT_OK);
    assert_ptr_equal(l, &sync_log_pg);
    assert_ptr_equal(b, &sync_blob_files);
    l = NULL;
    assert_int_equal(sync_storage_pick("mysql://h/db", NULL, &l, &b, &err), DFT_ERR_USAGE);
    assert_non_null(strstr(err.msg, "postgresql://"));
    assert_null(l);
    dft_error_clear(&err);
    assert_int_equal(sync_storage_pick(NULL, "http://h/bucket", &l, &b, &err), DFT_ERR_USAGE);
    assert_non_null(strstr(err.msg, "s3://"));
}

/* Malformed s3 URLs and a service that is not there: refused at open, with a clear line. */
static void
test_s3__bad_urls(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "s3://",
        "s3://a:b@host",
        "s3://a:b@host/",
        "s3://a:b@host/BUCKET",
        "s3://a:b@host/bucket?region=a/b",
        "s3://a:b@host/bucket?scheme=ftp",
        "s3://a:b@host/bucket/../x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *self = (void *)1;
        struct dft_error err = {0};
        assert_int_equal(sync_blob_s3.open(&self, data_dir, bad[i], &err), DFT_ERR_USAGE);
        assert_null(self);
        assert_int_not_equal(err.msg[0], '\0');
    }
    /* no credentials anywhere */
    void *self = NULL;
    struct dft_error err = {0};
    unsetenv("DEFTER_S3_ACCESS_KEY");
    unsetenv("AWS_ACCESS_KEY_ID");
    assert_int_equal(sync_blob_s3.open(&self, data_dir, "s3://127.0.0.1:1/bucket", &err),
                     DFT_ERR_USAGE);
    assert_non_null(strstr(err.msg, "credentials"));
    /* nothing listening: IO, naming the place, never the secret */
    dft_error_clear(&err);
    assert_int_equal(sync_blob_s3.open(&self, data_dir,
                                       "s3://AK:topsecret@127.0.0.1:1/bucket?scheme=http", &err),
                     DFT_ERR_IO);
    assert_non_null(strstr(err.msg, "127.0.0.1:1/bucket"));
    assert_null(strstr(err.msg, "topsecret"));
}

static void
test_pg__bad_urls(void **state)
{
    (void)state;
    void *self = (void *)1;
    struct dft_error err = {0};
    assert_int_equal(sync_log_pg.open(&self, data_dir, "mysql://x", &err), DFT_ERR_USAGE);
    assert_null(self);
    dft_error_clear(&err);
    assert_int_equal(sync_log_pg.open(&self, data_dir,
                                      "postgresql://u:topsecret@127.0.0.1:1/db?connect_timeout=5",
                                      &err),
                     DFT_ERR_IO);
    assert_non_null(strstr(err.msg, "postgresql"));
    assert_null(strstr(err.msg, "topsecret"));
}

/* The live services refuse a wrong password / secret with a clear error. */
static void
test_pg__wrong_password(void **state)
{
    (void)state;
    char url[512];
    const char *u = cur->db_url;
    const char *at = strchr(u + 13, '@');
    const char *colon = strchr(u + 13, ':');
    assert_non_null(at);
    assert_non_null(colon);
    snprintf(url, sizeof url, "%.*s:wrongpassword%s", (int)(colon - u), u, at);
    void *self = NULL;
    struct dft_error err = {0};
    assert_int_equal(sync_log_pg.open(&self, data_dir, url, &err), DFT_ERR_IO);
    assert_non_null(strstr(err.msg, "password authentication failed"));
    assert_null(strstr(err.msg, "wrongpassword"));
}

static void
test_s3__wrong_secret(void **state)
{
    (void)state;
    char url[512];
    const char *u = cur->obj_url;
    const char *at = strchr(u + 5, '@');
    const char *colon = strchr(u + 5, ':');
    assert_non_null(at);
    assert_non_null(colon);
    snprintf(url, sizeof url, "%.*s:wrongsecret%s", (int)(colon - u), u, at);
    void *self = NULL;
    struct dft_error err = {0};
    assert_int_equal(sync_blob_s3.open(&self, data_dir, url, &err), DFT_ERR_IO);
    assert_non_null(strstr(err.msg, "403 SignatureDoesNotMatch"));
    assert_null(strstr(err.msg, "wrongsecret"));
    /* and an unknown access key */
    dft_error_clear(&err);
    snprintf(url, sizeof url, "s3://NOSUCHKEY:x%s", at);
    assert_int_equal(sync_blob_s3.open(&self, data_dir, url, &err), DFT_ERR_IO);
    assert_non_null(strstr(err.msg, "403"));
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int
group_setup(void **state)
{
    (void)state;
    snprintf(data_dir, sizeof data_dir, "%s/defter-storage.XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(data_dir) != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
    (void)state;
    return nftw(data_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int
run_backend(struct backend *b)
{
    const struct CMUnitTest log_tests[] = {
        cmocka_unit_test(test_log__append_read_size_leaves),
        cmocka_unit_test(test_log__checkpoints),
        cmocka_unit_test(test_log__durable_across_reopen),
        cmocka_unit_test(test_log__failed_append_changes_nothing),
        cmocka_unit_test(test_log__large_bodies),
    };
    const struct CMUnitTest blob_tests[] = {
        cmocka_unit_test(test_blob__put_get),
        cmocka_unit_test(test_blob__large_and_empty),
    };
    char name[64];
    int fails = 0;
    cur = b;
    snprintf(name, sizeof name, "log %s", b->log->name);
    fails += _cmocka_run_group_tests(name, log_tests, sizeof log_tests / sizeof log_tests[0],
                                     group_setup, group_teardown);
    snprintf(name, sizeof name, "blob %s", b->blob->name);
    fails += _cmocka_run_group_tests(name, blob_tests, sizeof blob_tests / sizeof blob_tests[0],
                                     group_setup, group_teardown);
    return fails;
}

int
main(void)
{
    assert_int_equal(sodium_init() >= 0, 1);
    const char *pg = getenv("DEFTER_TEST_PG_URL");
    const char *s3 = getenv("DEFTER_TEST_S3_URL");
    int fails = 0;
    struct backend local = {"sqlite+files", &sync_log_sqlite, &sync_blob_files, NULL, NULL};
    fails += run_backend(&local);
    if (pg != NULL && pg[0] != '\0') {
        struct backend b = {"postgresql+files", &sync_log_pg, &sync_blob_files, pg, NULL};
        const struct CMUnitTest t[] = {cmocka_unit_test(test_pg__wrong_password)};
        fails += run_backend(&b);
        fails += cmocka_run_group_tests_name("postgresql refusals", t, group_setup, group_teardown);
    } else {
        printf("[  SKIPPED ] postgresql: DEFTER_TEST_PG_URL not set (tests/sync/backends.sh)\n");
    }
    if (s3 != NULL && s3[0] != '\0') {
        struct backend b = {"sqlite+s3", &sync_log_sqlite, &sync_blob_s3, NULL, s3};
        const struct CMUnitTest t[] = {cmocka_unit_test(test_s3__wrong_secret)};
        fails += run_backend(&b);
        fails += cmocka_run_group_tests_name("s3 refusals", t, group_setup, group_teardown);
    } else {
        printf("[  SKIPPED ] s3: DEFTER_TEST_S3_URL not set (tests/sync/backends.sh)\n");
    }
    const struct CMUnitTest common[] = {
        cmocka_unit_test(test_pick),
        cmocka_unit_test(test_s3__bad_urls),
        cmocka_unit_test(test_pg__bad_urls),
    };
    fails +=
        cmocka_run_group_tests_name("storage picker and URLs", common, group_setup, group_teardown);
    return fails != 0;
}
