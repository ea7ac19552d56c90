/*
 * store_sqlite.c - the default log store of `defter serve`: one SQLite database DIR/sync.db
 * (WAL, synchronous=FULL) with every collection's entries, leaf hashes and signed checkpoints.
 *
 * It holds only what the server may see (ciphertext envelopes, public membership operations,
 * signed notes); it must never be handed plaintext. Each call is one transaction: an append
 * that fails leaves the log as it was, and one that returned DFT_OK survives a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "core/file.h"
#include "sync/storage.h"

struct store_sqlite {
    sqlite3 *db;
    sqlite3_stmt *ins;  /* INSERT INTO entries */
    sqlite3_stmt *size; /* SELECT count */
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS collections(cid TEXT PRIMARY KEY, size INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS entries(cid TEXT NOT NULL, idx INTEGER NOT NULL, body BLOB NOT "
    "NULL,"
    " leaf BLOB NOT NULL, PRIMARY KEY(cid, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS checkpoints(cid TEXT NOT NULL, size INTEGER NOT NULL,"
    " note BLOB NOT NULL, PRIMARY KEY(cid, size)) WITHOUT ROWID;";

static enum dft_err
db_fail(struct store_sqlite *s, struct dft_error *err, const char *what)
{
    return dft_fail(err, DFT_ERR_IO, "sync store: cannot %s: %s", what, sqlite3_errmsg(s->db));
}

static void
sq_close(void *self)
{
    struct store_sqlite *s = self;
    if (s == NULL) {
        return;
    }
    sqlite3_finalize(s->ins);
    sqlite3_finalize(s->size);
    sqlite3_close(s->db);
    free(s);
}

static enum dft_err
sq_open(void **self, const char *data_dir, const char *url, struct dft_error *err)
{
    char path[4096];
    enum dft_err rc = DFT_OK;
    (void)url;
    *self = NULL;
    if ((rc = dft_path_join(path, sizeof path, data_dir, "sync.db", err)) != DFT_OK) {
        return rc;
    }
    struct store_sqlite *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "sync store: out of memory");
    }
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW,
                        NULL) != SQLITE_OK) {
        rc = dft_fail(err, DFT_ERR_IO, "sync store: cannot open '%s'", path);
        goto out;
    }
    (void)chmod(path, 0600);
    sqlite3_busy_timeout(s->db, 10000);
    if (sqlite3_exec(s->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(s, err, "set up the database");
        goto out;
    }
    if (sqlite3_prepare_v2(s->db, "INSERT INTO entries(cid, idx, body, leaf) VALUES (?1,?2,?3,?4)",
                           -1, &s->ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "SELECT size FROM collections WHERE cid = ?1", -1, &s->size,
                           NULL) != SQLITE_OK) {
        rc = db_fail(s, err, "prepare statements");
        goto out;
    }
out:
    if (rc != DFT_OK) {
        sq_close(s);
        return rc;
    }
    *self = s;
    return DFT_OK;
}

static enum dft_err
get_size(struct store_sqlite *s, const char *cid, uint64_t *size, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    sqlite3_reset(s->size);
    sqlite3_bind_text(s->size, 1, cid, -1, SQLITE_STATIC);
    int step = sqlite3_step(s->size);
    if (step == SQLITE_ROW) {
        *size = (uint64_t)sqlite3_column_int64(s->size, 0);
    } else if (step == SQLITE_DONE) {
        rc = dft_fail(err, DFT_ERR_NOT_FOUND, "no collection '%.64s'", cid);
    } else {
        rc = db_fail(s, err, "read the log size");
    }
    sqlite3_reset(s->size);
    return rc;
}

static enum dft_err
sq_create(void *self, const char *cid, struct dft_error *err)
{
    struct store_sqlite *s = self;
    sqlite3_stmt *st = NULL;
    enum dft_err rc = DFT_OK;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO collections(cid, size) VALUES (?1, 0)", -1, &st,
                           NULL) != SQLITE_OK) {
        return db_fail(s, err, "prepare");
    }
    sqlite3_bind_text(st, 1, cid, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_CONSTRAINT) {
        rc = dft_fail(err, DFT_ERR_INPUT, "collection '%.64s' exists", cid);
    } else if (step != SQLITE_DONE) {
        rc = db_fail(s, err, "create a collection");
    }
    sqlite3_finalize(st);
    return rc;
}

static enum dft_err
sq_collections(void *self, sync_cid_fn fn, void *ctx, struct dft_error *err)
{
    struct store_sqlite *s = self;
    sqlite3_stmt *st = NULL;
    enum dft_err rc = DFT_OK;
    if (sqlite3_prepare_v2(s->db, "SELECT cid FROM collections ORDER BY cid", -1, &st, NULL) !=
        SQLITE_OK) {
        return db_fail(s, err, "prepare");
    }
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (fn(ctx, (const char *)sqlite3_column_text(st, 0)) != 0) {
            break;
        }
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = db_fail(s, err, "list collections");
    }
    sqlite3_finalize(st);
    return rc;
}

static enum dft_err
sq_append(void *self, const char *cid, size_t count, const unsigned char *const *bodies,
          const size_t *lens, const unsigned char (*leaves)[32], uint64_t *first,
          struct dft_error *err)
{
    struct store_sqlite *s = self;
    enum dft_err rc = DFT_OK;
    uint64_t size = 0;
    sqlite3_stmt *up = NULL;
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        return db_fail(s, err, "begin a transaction");
    }
    if ((rc = get_size(s, cid, &size, err)) != DFT_OK) {
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        sqlite3_reset(s->ins);
        sqlite3_bind_text(s->ins, 1, cid, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s->ins, 2, (sqlite3_int64)(size + i));
        sqlite3_bind_blob64(s->ins, 3, lens[i] > 0 ? bodies[i] : (const void *)"",
                            (sqlite3_uint64)lens[i], SQLITE_STATIC);
        sqlite3_bind_blob(s->ins, 4, leaves[i], 32, SQLITE_STATIC);
        if (sqlite3_step(s->ins) != SQLITE_DONE) {
            rc = db_fail(s, err, "append an entry");
            goto out;
        }
    }
    if (sqlite3_prepare_v2(s->db, "UPDATE collections SET size = ?2 WHERE cid = ?1", -1, &up,
                           NULL) != SQLITE_OK) {
        rc = db_fail(s, err, "prepare");
        goto out;
    }
    sqlite3_bind_text(up, 1, cid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(up, 2, (sqlite3_int64)(size + count));
    if (sqlite3_step(up) != SQLITE_DONE) {
        rc = db_fail(s, err, "update the log size");
        goto out;
    }
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_fail(s, err, "commit");
        goto out;
    }
    *first = size;
out:
    sqlite3_reset(s->ins);
    sqlite3_clear_bindings(s->ins);
    sqlite3_finalize(up);
    if (rc != DFT_OK) {
        (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

static enum dft_err
sq_size(void *self, const char *cid, uint64_t *size, struct dft_error *err)
{
    return get_size(self, cid, size, err);
}

static enum dft_err
sq_read(void *self, const char *cid, uint64_t from, uint64_t count, sync_entry_fn fn, void *ctx,
        struct dft_error *err)
{
    struct store_sqlite *s = self;
    sqlite3_stmt *st = NULL;
    enum dft_err rc = DFT_OK;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT idx, body, leaf FROM entries WHERE cid = ?1 AND idx >= ?2 "
                           "AND idx < ?3 ORDER BY idx",
                           -1, &st, NULL) != SQLITE_OK) {
        return db_fail(s, err, "prepare");
    }
    uint64_t end = from + count < from ? UINT64_MAX : from + count;
    if (end > (uint64_t)INT64_MAX) {
        end = (uint64_t)INT64_MAX;
    }
    sqlite3_bind_text(st, 1, cid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)from);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)end);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *leaf = sqlite3_column_blob(st, 2);
        if (leaf == NULL || sqlite3_column_bytes(st, 2) != 32) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "sync store: damaged leaf hash");
            break;
        }
        const unsigned char *body = sqlite3_column_blob(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        if (fn(ctx, (uint64_t)sqlite3_column_int64(st, 0), body != NULL ? body : leaf, n, leaf) !=
            0) {
            break;
        }
    }
    if (rc == DFT_OK && step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = db_fail(s, err, "read entries");
    }
    sqlite3_finalize(st);
    return rc;
}

static enum dft_err
sq_leaves(void *self, const char *cid, uint64_t from, uint64_t count, unsigned char (*out)[32],
          struct dft_error *err)
{
    struct store_sqlite *s = self;
    sqlite3_stmt *st = NULL;
    enum dft_err rc = DFT_OK;
    uint64_t got = 0;
    if (sqlite3_prepare_v2(
            s->db,
            "SELECT idx, leaf FROM entries WHERE cid = ?1 AND idx >= ?2 AND idx < ?3 "
            "ORDER BY idx",
            -1, &st, NULL) != SQLITE_OK) {
        return db_fail(s, err, "prepare");
    }
    sqlite3_bind_text(st, 1, cid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)from);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)(from + count));
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *leaf = sqlite3_column_blob(st, 1);
        if ((uint64_t)sqlite3_column_int64(st, 0) != from + got || leaf == NULL ||
            sqlite3_column_bytes(st, 1) != 32) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "sync store: damaged leaf hashes");
            break;
        }
        memcpy(out[got++], leaf, 32);
    }
    if (rc == DFT_OK && step != SQLITE_DONE) {
        rc = db_fail(s, err, "read leaf hashes");
    }
    if (rc == DFT_OK && got != count) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "sync store: leaf hashes missing");
    }
    sqlite3_finalize(st);
    return rc;
}

static enum dft_err
sq_checkpoint_put(void *self, const char *cid, uint64_t size, const char *note, size_t n,
                  struct dft_error *err)
{
    struct store_sqlite *s = self;
    sqlite3_stmt *st = NULL;
    enum dft_err rc = DFT_OK;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO checkpoints(cid, size, note) VALUES (?1,?2,?3)",
                           -1, &st, NULL) != SQLITE_OK) {
        return db_fail(s, err, "prepare");
    }
    sqlite3_bind_text(st, 1, cid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)size);
    sqlite3_bind_blob64(st, 3, note, (sqlite3_uint64)n, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = db_fail(s, err, "keep a checkpoint");
    }
    sqlite3_finalize(st);
    return rc;
}

static enum dft_err
sq_checkpoint_latest(void *self, const char *cid, uint64_t *size, struct dft_buf *note,
                     struct dft_error *err)
{
    struct store_sqlite *s = self;
    sqlite3_stmt *st = NULL;
    enum dft_err rc = DFT_OK;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT size, note FROM checkpoints WHERE cid = ?1 ORDER BY size DESC "
                           "LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK) {
        return db_fail(s, err, "prepare");
    }
    sqlite3_bind_text(st, 1, cid, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *size = (uint64_t)sqlite3_column_int64(st, 0);
        rc = dft_buf_add(note, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1));
        if (rc != DFT_OK) {
            rc = dft_fail(err, rc, "sync store: checkpoint too large");
        }
    } else if (step == SQLITE_DONE) {
        rc = dft_fail(err, DFT_ERR_NOT_FOUND, "no checkpoint yet");
    } else {
        rc = db_fail(s, err, "read a checkpoint");
    }
    sqlite3_finalize(st);
    return rc;
}

const struct sync_log_ops sync_log_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .create = sq_create,
    .collections = sq_collections,
    .append = sq_append,
    .size = sq_size,
    .read = sq_read,
    .leaves = sq_leaves,
    .checkpoint_put = sq_checkpoint_put,
    .checkpoint_latest = sq_checkpoint_latest,
};
