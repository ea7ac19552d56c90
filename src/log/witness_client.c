/*
 * witness_client.c - the vault's notes on its witnesses (URL, last size, policy text) and the
 * c2sp.org/tlog-proof@v1 formatter.
 *
 * These rows are hints for asking, never trust: a wrong URL or last size costs one 409 round
 * trip, and every cosignature is still verified against the trusted keys before it is kept.
 */
#include <string.h>

#include "store/store.h"
#include "log/witness_client.h"

enum dft_err
wclient_setup(sqlite3 *db, struct dft_error *err)
{
    return store_exec(db,
                      "CREATE TABLE IF NOT EXISTS tlog_witness_urls(vkey TEXT PRIMARY KEY,"
                      " url TEXT NOT NULL DEFAULT '', last_size INTEGER NOT NULL DEFAULT 0);"
                      "CREATE TABLE IF NOT EXISTS tlog_witness_policy(id INTEGER PRIMARY KEY"
                      " CHECK (id = 1), text BLOB NOT NULL);",
                      err);
}

static enum dft_err
run(sqlite3 *db, const char *sql, const char *a, const char *b, int64_t n, int use_n,
    struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (src == SQLITE_OK) {
        sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
        if (b != NULL) {
            sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
        }
        if (use_n) {
            sqlite3_bind_int64(st, 2, n);
        }
        src = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (src != SQLITE_DONE) {
        return store_error(db, src, "cannot store the witness's address", err);
    }
    return DFT_OK;
}

enum dft_err
wclient_url_check(const char *url, struct dft_error *err)
{
    if (strlen(url) >= WCLIENT_URL_MAX) {
        return dft_fail(err, DFT_ERR_INPUT, "witness URL is longer than %d bytes",
                        WCLIENT_URL_MAX - 1);
    }
    if ((strncmp(url, "http://", 7) != 0 || url[7] == '\0') &&
        (strncmp(url, "https://", 8) != 0 || url[8] == '\0')) {
        return dft_fail(err, DFT_ERR_INPUT, "witness URL '%.64s' is not http:// or https://", url);
    }
    for (const char *p = url; *p != '\0'; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
            return dft_fail(err, DFT_ERR_INPUT, "witness URL has a space or control character");
        }
    }
    return DFT_OK;
}

enum dft_err
wclient_set_url(sqlite3 *db, const char *vkey, const char *url, struct dft_error *err)
{
    if (wclient_url_check(url, err) != DFT_OK) {
        return DFT_ERR_INPUT;
    }
    enum dft_err rc = wclient_setup(db, err);
    if (rc == DFT_OK) {
        rc = run(db,
                 "INSERT INTO tlog_witness_urls(vkey, url) VALUES (?1, ?2)"
                 " ON CONFLICT(vkey) DO UPDATE SET url = excluded.url",
                 vkey, url, 0, 0, err);
    }
    return rc;
}

enum dft_err
wclient_get(sqlite3 *db, const char *vkey, char url[WCLIENT_URL_MAX], uint64_t *last_size,
            struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    url[0] = '\0';
    *last_size = 0;
    enum dft_err rc = wclient_setup(db, err);
    if (rc != DFT_OK) {
        return rc;
    }
    int src = sqlite3_prepare_v2(db, "SELECT url, last_size FROM tlog_witness_urls WHERE vkey = ?1",
                                 -1, &st, NULL);
    if (src == SQLITE_OK) {
        sqlite3_bind_text(st, 1, vkey, -1, SQLITE_STATIC);
        src = sqlite3_step(st);
    }
    if (src == SQLITE_ROW) {
        const char *u = (const char *)sqlite3_column_text(st, 0);
        if (u != NULL && strlen(u) < WCLIENT_URL_MAX) {
            memcpy(url, u, strlen(u) + 1);
        }
        sqlite3_int64 n = sqlite3_column_int64(st, 1);
        *last_size = n > 0 ? (uint64_t)n : 0;
        src = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    return src == SQLITE_DONE ? DFT_OK
                              : store_error(db, src, "cannot read the witnesses' URLs", err);
}

enum dft_err
wclient_set_last(sqlite3 *db, const char *vkey, uint64_t last_size, struct dft_error *err)
{
    enum dft_err rc = wclient_setup(db, err);
    if (rc == DFT_OK) {
        rc = run(db,
                 "INSERT INTO tlog_witness_urls(vkey, last_size) VALUES (?1, ?2)"
                 " ON CONFLICT(vkey) DO UPDATE SET last_size = excluded.last_size",
                 vkey, NULL, (int64_t)last_size, 1, err);
    }
    return rc;
}

enum dft_err
wclient_policy_get(sqlite3 *db, struct dft_buf *out, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    enum dft_err rc = wclient_setup(db, err);
    if (rc != DFT_OK) {
        return rc;
    }
    int src =
        sqlite3_prepare_v2(db, "SELECT text FROM tlog_witness_policy WHERE id = 1", -1, &st, NULL);
    if (src == SQLITE_OK) {
        src = sqlite3_step(st);
    }
    if (src == SQLITE_ROW) {
        if (dft_buf_add(out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0)) !=
            DFT_OK) {
            rc = dft_fail(err, DFT_ERR_TOO_LARGE, "stored witness policy is too large");
        }
    } else if (src == SQLITE_DONE) {
        rc = DFT_ERR_NOT_FOUND;
    } else {
        rc = store_error(db, src, "cannot read the witness policy", err);
    }
    sqlite3_finalize(st);
    return rc;
}

enum dft_err
wclient_policy_set(sqlite3 *db, const char *text, size_t len, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    enum dft_err rc = wclient_setup(db, err);
    if (rc != DFT_OK) {
        return rc;
    }
    int src = sqlite3_prepare_v2(db,
                                 text != NULL ? "INSERT OR REPLACE INTO tlog_witness_policy(id, "
                                                "text) VALUES (1, ?1)"
                                              : "DELETE FROM tlog_witness_policy",
                                 -1, &st, NULL);
    if (src == SQLITE_OK) {
        if (text != NULL) {
            sqlite3_bind_blob(st, 1, text, (int)len, SQLITE_STATIC);
        }
        src = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return src == SQLITE_DONE ? DFT_OK
                              : store_error(db, src, "cannot store the witness policy", err);
}

enum dft_err
tlog_proof_format(struct dft_buf *out, uint64_t index,
                  const unsigned char (*proof)[DFT_TLOG_HASH_BYTES], size_t n, const char *note,
                  size_t note_len, struct dft_error *err)
{
    size_t mark = out->len;
    int bad = dft_buf_addf(out, "c2sp.org/tlog-proof@v1\nindex %llu\n",
                           (unsigned long long)index) != DFT_OK;
    for (size_t i = 0; i < n && !bad; i++) {
        char b64[DFT_TLOG_HASH_B64];
        tlog_hash_encode(b64, proof[i]);
        bad |= dft_buf_addf(out, "%s\n", b64) != DFT_OK;
    }
    bad |= dft_buf_add(out, "\n", 1) != DFT_OK;
    bad |= dft_buf_add(out, note, note_len) != DFT_OK;
    if (bad) {
        out->len = mark;
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    return DFT_OK;
}
