/*
 * store_pg.c - the server's log store in PostgreSQL 15 through libpq (--db postgresql://...).
 *
 * Three tables, created at open when missing: defter_sync_collections (id and size, the row
 * an append locks), defter_sync_entries (collection, index, leaf hash, body) and
 * defter_sync_checkpoints (every signed note kept). Every statement is prepared once per
 * connection; parameters and results travel in binary, so no body is ever quoted into SQL
 * text. An append is one statement (a data-modifying CTE: bump the size, insert the entries
 * from two bytea arrays), hence one transaction: it commits whole or not at all, and with
 * synchronous_commit on it is flushed to the WAL before DFT_OK.
 *
 * Must never: log or put into an error message a body or a note (only PostgreSQL's primary
 * message and SQLSTATE, which name no parameter values), retry an append whose outcome is
 * unknown (a lost COMMIT answer is reported as an error, never silently applied twice), or keep
 * a prepared statement across a reconnection.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "sync/storage.h"

#define PG_BYTEA_OID   17
#define PG_SCHEMA_LOCK "7205739108462" /* advisory lock id: "defter" schema set-up */
#define PG_APPEND_MAX  (1024u * 1024u) /* entries in one append */
#define PG_ARRAY_MAX   (1024u * 1024u * 1024u - 1024u) /* a bytea[] parameter (1 GiB field) */

struct pg_store {
    PGconn *conn;
    int prepared; /* statements exist on this connection */
};

static const char *const schema_sql =
    "SELECT pg_advisory_xact_lock(" PG_SCHEMA_LOCK ");"
    "CREATE TABLE IF NOT EXISTS defter_sync_collections ("
    " cid text PRIMARY KEY,"
    " size bigint NOT NULL DEFAULT 0 CHECK (size >= 0));"
    "CREATE TABLE IF NOT EXISTS defter_sync_entries ("
    " cid text NOT NULL REFERENCES defter_sync_collections (cid),"
    " idx bigint NOT NULL CHECK (idx >= 0),"
    " leaf bytea NOT NULL CHECK (length(leaf) = 32),"
    " body bytea NOT NULL,"
    " PRIMARY KEY (cid, idx));"
    /* ciphertext does not compress: store it out of line without trying */
    "ALTER TABLE defter_sync_entries ALTER COLUMN body SET STORAGE EXTERNAL;"
    "CREATE TABLE IF NOT EXISTS defter_sync_checkpoints ("
    " id bigserial PRIMARY KEY,"
    " cid text NOT NULL REFERENCES defter_sync_collections (cid),"
    " size bigint NOT NULL CHECK (size >= 0),"
    " note bytea NOT NULL);"
    "CREATE INDEX IF NOT EXISTS defter_sync_checkpoints_latest"
    " ON defter_sync_checkpoints (cid, size, id);";

struct pg_stmt {
    const char *name;
    const char *sql;
    int nparams;
};

enum { ST_CREATE, ST_LIST, ST_APPEND, ST_SIZE, ST_READ, ST_LEAVES, ST_CP_PUT, ST_CP_LATEST };

static const struct pg_stmt stmts[] = {
    [ST_CREATE] = {"dft_create",
                   "INSERT INTO defter_sync_collections (cid) VALUES ($1) ON CONFLICT DO NOTHING",
                   1},
    [ST_LIST] = {"dft_list", "SELECT cid FROM defter_sync_collections ORDER BY cid", 0},
    [ST_APPEND] = {"dft_append",
                   "WITH r AS (UPDATE defter_sync_collections SET size = size + $2::bigint"
                   " WHERE cid = $1 RETURNING size - $2::bigint AS first),"
                   " i AS (INSERT INTO defter_sync_entries (cid, idx, leaf, body)"
                   " SELECT $1, r.first + t.o - 1, t.l, t.b FROM r,"
                   " unnest($3::bytea[], $4::bytea[]) WITH ORDINALITY AS t (l, b, o))"
                   " SELECT first FROM r",
                   4},
    [ST_SIZE] = {"dft_size", "SELECT size FROM defter_sync_collections WHERE cid = $1", 1},
    [ST_READ] = {"dft_read",
                 "SELECT idx, leaf, body FROM defter_sync_entries"
                 " WHERE cid = $1 AND idx >= $2::bigint AND idx < $3::bigint ORDER BY idx",
                 3},
    [ST_LEAVES] = {"dft_leaves",
                   "SELECT idx, leaf FROM defter_sync_entries"
                   " WHERE cid = $1 AND idx >= $2::bigint AND idx < $3::bigint ORDER BY idx",
                   3},
    [ST_CP_PUT] =
        {"dft_cp_put",
         "INSERT INTO defter_sync_checkpoints (cid, size, note) VALUES ($1, $2::bigint, $3)", 3},
    [ST_CP_LATEST] = {"dft_cp_latest",
                      "SELECT size, note FROM defter_sync_checkpoints WHERE cid = $1"
                      " ORDER BY size DESC, id DESC LIMIT 1",
                      1},
};

/* One line from libpq's connection message: never the URL, so never its password. */
static enum dft_err
conn_fail(struct dft_error *err, PGconn *c, const char *what)
{
    char line[160];
    const char *m = c != NULL ? PQerrorMessage(c) : "out of memory";
    size_t n = strcspn(m, "\n");
    if (n >= sizeof line) {
        n = sizeof line - 1;
    }
    memcpy(line, m, n);
    line[n] = '\0';
    return dft_fail(err, DFT_ERR_IO, "postgresql: %s: %s", what, n > 0 ? line : "connection lost");
}

/*
 * A failed statement: PostgreSQL's primary message and SQLSTATE only (the DETAIL field may
 * quote key values; bodies never reach it because they are binary parameters).
 */
static enum dft_err
res_fail(struct dft_error *err, PGconn *c, PGresult *r, const char *what)
{
    const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *prim = r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (prim == NULL) {
        return conn_fail(err, c, what);
    }
    enum dft_err code = DFT_ERR_IO;
    if (state != NULL && strcmp(state, "23503") == 0) {
        code = DFT_ERR_NOT_FOUND; /* foreign key: no such collection */
    } else if (state != NULL && strncmp(state, "23", 2) == 0) {
        code = DFT_ERR_INTEGRITY; /* a constraint: an index taken, a bad leaf */
    }
    return dft_fail(err, code, "postgresql: %s: %.120s (%s)", what, prim,
                    state != NULL ? state : "?");
}

static int
cid_ok(const char *cid)
{
    size_t n = cid != NULL ? strlen(cid) : 0;
    if (n == 0 || n > SYNC_CID_MAX) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = cid[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              ch == '-' || ch == '_')) {
            return 0;
        }
    }
    return 1;
}

static enum dft_err
check_cid(const char *cid, struct dft_error *err)
{
    if (!cid_ok(cid)) {
        return dft_fail(err, DFT_ERR_INPUT, "malformed collection id");
    }
    return DFT_OK;
}

static enum dft_err
exec_simple(PGconn *c, const char *sql, const char *what, struct dft_error *err)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    enum dft_err rc = DFT_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        rc = res_fail(err, c, r, what);
    }
    PQclear(r);
    return rc;
}

static enum dft_err
prepare_all(struct pg_store *s, struct dft_error *err)
{
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
        PGresult *r = PQprepare(s->conn, stmts[i].name, stmts[i].sql, stmts[i].nparams, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            enum dft_err rc = res_fail(err, s->conn, r, "cannot prepare a statement");
            PQclear(r);
            return rc;
        }
        PQclear(r);
    }
    s->prepared = 1;
    return DFT_OK;
}

/* Session settings, the schema and the statements on a fresh connection. */
static enum dft_err
setup(struct pg_store *s, struct dft_error *err)
{
    enum dft_err rc;
    s->prepared = 0;
    rc = exec_simple(s->conn,
                     "SET synchronous_commit = on; SET client_min_messages = warning;"
                     " SET client_encoding = 'UTF8'; SET bytea_output = 'hex'",
                     "cannot set the session up", err);
    if (rc != DFT_OK) {
        return rc;
    }
    rc = exec_simple(s->conn, "BEGIN", "cannot create the tables", err);
    if (rc == DFT_OK) {
        rc = exec_simple(s->conn, schema_sql, "cannot create the tables", err);
        if (rc == DFT_OK) {
            rc = exec_simple(s->conn, "COMMIT", "cannot create the tables", err);
        } else {
            PQclear(PQexec(s->conn, "ROLLBACK"));
        }
    }
    if (rc != DFT_OK) {
        return rc;
    }
    PGresult *r = PQexec(s->conn, "SHOW fsync");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
        strcmp(PQgetvalue(r, 0, 0), "on") != 0) {
        dft_log(DFT_LOG_WARN, "postgresql runs with fsync off: a power cut may lose appends");
    }
    PQclear(r);
    return prepare_all(s, err);
}

/* Reconnect once when the server went away (a restart); statements are prepared again. */
static enum dft_err
live(struct pg_store *s, struct dft_error *err)
{
    if (PQstatus(s->conn) == CONNECTION_OK && s->prepared) {
        return DFT_OK;
    }
    PQreset(s->conn);
    if (PQstatus(s->conn) != CONNECTION_OK) {
        return conn_fail(err, s->conn, "cannot reconnect");
    }
    return setup(s, err);
}

static enum dft_err
pg_open(void **self, const char *data_dir, const char *url, struct dft_error *err)
{
    (void)data_dir;
    *self = NULL;
    if (url == NULL ||
        (strncmp(url, "postgresql://", 13) != 0 && strncmp(url, "postgres://", 11) != 0)) {
        return dft_fail(err, DFT_ERR_USAGE, "--db wants a postgresql:// URL");
    }
    struct pg_store *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    s->conn = PQconnectdb(url);
    enum dft_err rc;
    if (s->conn == NULL || PQstatus(s->conn) != CONNECTION_OK) {
        rc = conn_fail(err, s->conn, "cannot connect");
        goto out;
    }
    rc = setup(s, err);
out:
    if (rc != DFT_OK) {
        PQfinish(s->conn);
        free(s);
        return rc;
    }
    *self = s;
    return DFT_OK;
}

static void
pg_close(void *self)
{
    struct pg_store *s = self;
    if (s == NULL) {
        return;
    }
    PQfinish(s->conn);
    free(s);
}

/* Run a prepared statement with text parameters, binary results. */
static PGresult *
run(struct pg_store *s, int st, const char *const *vals, const int *lens, const int *fmts)
{
    PGresult *r = PQexecPrepared(s->conn, stmts[st].name, stmts[st].nparams, vals, lens, fmts, 1);
    /*
     * The server restarted under us: a read is safe to send again on a new connection. A write
     * is not (its COMMIT may have happened): that failure goes to the caller.
     */
    int is_read = st == ST_SIZE || st == ST_LEAVES || st == ST_CP_LATEST;
    if (is_read && PQstatus(s->conn) == CONNECTION_BAD) {
        PQclear(r);
        r = NULL;
        if (live(s, NULL) == DFT_OK) {
            r = PQexecPrepared(s->conn, stmts[st].name, stmts[st].nparams, vals, lens, fmts, 1);
        }
    }
    return r;
}

static enum dft_err
pg_create(void *self, const char *cid, struct dft_error *err)
{
    struct pg_store *s = self;
    enum dft_err rc = check_cid(cid, err);
    if (rc != DFT_OK || (rc = live(s, err)) != DFT_OK) {
        return rc;
    }
    const char *vals[1] = {cid};
    PGresult *r = run(s, ST_CREATE, vals, NULL, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        rc = res_fail(err, s->conn, r, "cannot create a collection");
    } else if (strcmp(PQcmdTuples(r), "1") != 0) {
        rc = dft_fail(err, DFT_ERR_INPUT, "collection '%s' exists", cid);
    }
    PQclear(r);
    return rc;
}

static enum dft_err
pg_collections(void *self, sync_cid_fn fn, void *ctx, struct dft_error *err)
{
    struct pg_store *s = self;
    enum dft_err rc = live(s, err);
    if (rc != DFT_OK) {
        return rc;
    }
    PGresult *r = PQexecPrepared(s->conn, stmts[ST_LIST].name, 0, NULL, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = res_fail(err, s->conn, r, "cannot list collections");
    } else {
        for (int i = 0; i < PQntuples(r); i++) {
            if (fn(ctx, PQgetvalue(r, i, 0)) != 0) {
                break;
            }
        }
    }
    PQclear(r);
    return rc;
}

static uint64_t
be64(const char *p)
{
    return dft_be_get((const unsigned char *)p, 8);
}

static enum dft_err pg_size(void *self, const char *cid, uint64_t *size, struct dft_error *err);

/* A one-dimensional bytea[] in PostgreSQL's binary array format (array_recv). */
static enum dft_err
array_init(struct dft_buf *b, size_t count)
{
    unsigned char h[20];
    dft_be_put(h, 1, 4);     /* dimensions */
    dft_be_put(h + 4, 0, 4); /* no NULLs */
    dft_be_put(h + 8, PG_BYTEA_OID, 4);
    dft_be_put(h + 12, count, 4); /* length */
    dft_be_put(h + 16, 1, 4);     /* lower bound */
    return dft_buf_add(b, h, sizeof h);
}

static enum dft_err
array_add(struct dft_buf *b, const unsigned char *p, size_t n)
{
    unsigned char h[4];
    dft_be_put(h, n, 4);
    enum dft_err rc = dft_buf_add(b, h, sizeof h);
    return rc != DFT_OK ? rc : dft_buf_add(b, p, n);
}

static enum dft_err
pg_append(void *self, const char *cid, size_t count, const unsigned char *const *bodies,
          const size_t *lens, const unsigned char (*leaves)[32], uint64_t *first,
          struct dft_error *err)
{
    struct pg_store *s = self;
    struct dft_buf leafs, bods;
    PGresult *r = NULL;
    char n_txt[24];
    enum dft_err rc = check_cid(cid, err);
    dft_buf_init(&leafs, PG_ARRAY_MAX, 0);
    dft_buf_init(&bods, PG_ARRAY_MAX, 0);
    if (rc != DFT_OK) {
        goto out;
    }
    if (count == 0) {
        rc = pg_size(s, cid, first, err); /* nothing to add: where the next would go */
        goto out;
    }
    if (count > PG_APPEND_MAX) {
        rc = dft_fail(err, DFT_ERR_TOO_LARGE, "an append takes at most %u entries", PG_APPEND_MAX);
        goto out;
    }
    if ((rc = array_init(&leafs, count)) != DFT_OK || (rc = array_init(&bods, count)) != DFT_OK) {
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        if (lens[i] > INT32_MAX) {
            rc = dft_fail(err, DFT_ERR_TOO_LARGE, "an entry is too large for postgresql");
            goto out;
        }
        if ((rc = array_add(&leafs, leaves[i], 32)) != DFT_OK ||
            (rc = array_add(&bods, bodies[i], lens[i])) != DFT_OK) {
            if (rc == DFT_ERR_TOO_LARGE) {
                rc = dft_fail(err, rc, "an append is too large for postgresql (1 GiB)");
            }
            goto out;
        }
    }
    if ((rc = live(s, err)) != DFT_OK) {
        goto out;
    }
    snprintf(n_txt, sizeof n_txt, "%zu", count);
    const char *vals[4] = {cid, n_txt, (const char *)leafs.data, (const char *)bods.data};
    int plens[4] = {0, 0, (int)leafs.len, (int)bods.len};
    int fmts[4] = {0, 0, 1, 1};
    r = run(s, ST_APPEND, vals, plens, fmts);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = res_fail(err, s->conn, r, "cannot append");
    } else if (PQntuples(r) != 1) {
        rc = dft_fail(err, DFT_ERR_NOT_FOUND, "no collection '%s'", cid);
    } else {
        *first = be64(PQgetvalue(r, 0, 0));
    }
out:
    PQclear(r);
    dft_buf_release(&leafs);
    dft_buf_release(&bods);
    return rc;
}

static enum dft_err
pg_size(void *self, const char *cid, uint64_t *size, struct dft_error *err)
{
    struct pg_store *s = self;
    enum dft_err rc = check_cid(cid, err);
    if (rc != DFT_OK || (rc = live(s, err)) != DFT_OK) {
        return rc;
    }
    const char *vals[1] = {cid};
    PGresult *r = run(s, ST_SIZE, vals, NULL, NULL);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = res_fail(err, s->conn, r, "cannot read the size");
    } else if (PQntuples(r) != 1) {
        rc = dft_fail(err, DFT_ERR_NOT_FOUND, "no collection '%s'", cid);
    } else {
        *size = be64(PQgetvalue(r, 0, 0));
    }
    PQclear(r);
    return rc;
}

/* [from, from + count) as text bigints, clamped so the sum cannot overflow a bigint. */
static void
range_txt(uint64_t from, uint64_t count, char a[24], char b[24])
{
    uint64_t lim = (uint64_t)INT64_MAX;
    uint64_t f = from > lim ? lim : from;
    uint64_t e = count > lim - f ? lim : f + count;
    snprintf(a, 24, "%llu", (unsigned long long)f);
    snprintf(b, 24, "%llu", (unsigned long long)e);
}

/*
 * An unknown collection reads as an empty one (as the SQLite store). Rows stream one at a time
 * (single-row mode), so a long range never sits whole in memory.
 * After the callback stops early the rest of the result is drained (the connection must be
 * idle again before the next call).
 */
static enum dft_err
pg_read(void *self, const char *cid, uint64_t from, uint64_t count, sync_entry_fn fn, void *ctx,
        struct dft_error *err)
{
    struct pg_store *s = self;
    char a[24], b[24];
    enum dft_err rc = check_cid(cid, err);
    if (rc != DFT_OK || (rc = live(s, err)) != DFT_OK || count == 0) {
        return rc;
    }
    range_txt(from, count, a, b);
    const char *vals[3] = {cid, a, b};
    if (!PQsendQueryPrepared(s->conn, stmts[ST_READ].name, 3, vals, NULL, NULL, 1) ||
        !PQsetSingleRowMode(s->conn)) {
        return conn_fail(err, s->conn, "cannot read entries");
    }
    int stop = 0;
    uint64_t want = from;
    PGresult *r;
    while ((r = PQgetResult(s->conn)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE && !stop && rc == DFT_OK) {
            uint64_t idx = be64(PQgetvalue(r, 0, 0));
            if (idx != want || PQgetlength(r, 0, 1) != 32) {
                rc =
                    dft_fail(err, DFT_ERR_INTEGRITY, "postgresql: entries of '%s' have a gap", cid);
            } else {
                stop = fn(ctx, idx, (const unsigned char *)PQgetvalue(r, 0, 2),
                          (size_t)PQgetlength(r, 0, 2),
                          (const unsigned char *)PQgetvalue(r, 0, 1)) != 0;
                want++;
            }
        } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && rc == DFT_OK) {
            rc = res_fail(err, s->conn, r, "cannot read entries");
        }
        PQclear(r);
    }
    return rc;
}

static enum dft_err
pg_leaves(void *self, const char *cid, uint64_t from, uint64_t count, unsigned char (*out)[32],
          struct dft_error *err)
{
    struct pg_store *s = self;
    char a[24], b[24];
    enum dft_err rc = check_cid(cid, err);
    if (rc != DFT_OK || (rc = live(s, err)) != DFT_OK) {
        return rc;
    }
    if (count == 0) {
        return DFT_OK;
    }
    range_txt(from, count, a, b);
    const char *vals[3] = {cid, a, b};
    PGresult *r = run(s, ST_LEAVES, vals, NULL, NULL);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = res_fail(err, s->conn, r, "cannot read leaf hashes");
        goto out;
    }
    if ((uint64_t)PQntuples(r) != count) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "postgresql: no entries %llu to %llu in '%s'",
                      (unsigned long long)from, (unsigned long long)(from + count - 1), cid);
        goto out;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        if (be64(PQgetvalue(r, i, 0)) != from + (uint64_t)i || PQgetlength(r, i, 1) != 32) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "postgresql: entries of '%s' have a gap", cid);
            goto out;
        }
        memcpy(out[i], PQgetvalue(r, i, 1), 32);
    }
out:
    PQclear(r);
    return rc;
}

static enum dft_err
pg_checkpoint_put(void *self, const char *cid, uint64_t size, const char *note, size_t n,
                  struct dft_error *err)
{
    struct pg_store *s = self;
    char size_txt[24];
    enum dft_err rc = check_cid(cid, err);
    if (rc != DFT_OK || (rc = live(s, err)) != DFT_OK) {
        return rc;
    }
    if (n > INT32_MAX || size > (uint64_t)INT64_MAX) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "checkpoint too large");
    }
    snprintf(size_txt, sizeof size_txt, "%llu", (unsigned long long)size);
    const char *vals[3] = {cid, size_txt, note};
    int lens[3] = {0, 0, (int)n};
    int fmts[3] = {0, 0, 1};
    PGresult *r = run(s, ST_CP_PUT, vals, lens, fmts);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        rc = res_fail(err, s->conn, r, "cannot store a checkpoint");
    }
    PQclear(r);
    return rc;
}

static enum dft_err
pg_checkpoint_latest(void *self, const char *cid, uint64_t *size, struct dft_buf *note,
                     struct dft_error *err)
{
    struct pg_store *s = self;
    enum dft_err rc = check_cid(cid, err);
    if (rc != DFT_OK || (rc = live(s, err)) != DFT_OK) {
        return rc;
    }
    const char *vals[1] = {cid};
    PGresult *r = run(s, ST_CP_LATEST, vals, NULL, NULL);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = res_fail(err, s->conn, r, "cannot read the checkpoint");
    } else if (PQntuples(r) != 1) {
        rc = dft_fail(err, DFT_ERR_NOT_FOUND, "no checkpoint for '%s'", cid);
    } else {
        size_t old = note->len;
        rc = dft_buf_add(note, PQgetvalue(r, 0, 1), (size_t)PQgetlength(r, 0, 1));
        if (rc != DFT_OK) {
            note->len = old;
            rc = dft_fail(err, rc, "checkpoint too large");
        } else {
            *size = be64(PQgetvalue(r, 0, 0));
        }
    }
    PQclear(r);
    return rc;
}

const struct sync_log_ops sync_log_pg = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .create = pg_create,
    .collections = pg_collections,
    .append = pg_append,
    .size = pg_size,
    .read = pg_read,
    .leaves = pg_leaves,
    .checkpoint_put = pg_checkpoint_put,
    .checkpoint_latest = pg_checkpoint_latest,
};
