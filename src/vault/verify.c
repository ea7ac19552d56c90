/*
 * verify.c - check everything the vault holds, from the envelopes up.
 *
 * Every page must authenticate; every envelope must hash to its stored leaf, carry a valid
 * signature by the vault's key and reproduce its signed disclosure root; the view tables must
 * equal tables rebuilt from the envelopes alone in an in-memory schema; every evidence object in
 * use must decrypt to its recorded SHA-256. The CLI and the UI run this one function. Never
 * repairs anything:
 * it reports the first difference with DFT_ERR_INTEGRITY.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "search/rebuild.h"
#include "search/search.h"
#include "store/store.h"
#include "log/tlog.h"
#include "crypto/hash.h"
#include "evidence/evidence.h"
#include "vault/envelope.h"
#include "vault/sync_internal.h"
#include "vault/vault_internal.h"
#include "vault/view.h"
#include "vault/verify_history.h"
#include "vault/verify_idle.h"
#include "vault/verify_pipe.h"

/* Tables compared between main and rebuild, with the columns that define them. */
static const char *const compared[][2] = {
    {"records", "id, type, title, fields, created, updated, deleted"},
    {"links", "id, src, dst, role, created, deleted"},
    {"evidence", "id, record, object, sha256, size, name, mime, meta, created, deleted"},
    {"history", "record, idx, seq, op"},
    {"entries", "idx, action, author, ts, records"},
};

/* Count rows in one query's result and not the other's, both ways; any is a difference. */
static enum dft_err
compare_query(sqlite3 *db, const char *what, const char *a, const char *b, struct dft_error *err)
{
    struct dft_buf sql;
    dft_buf_init(&sql, 4096, 0);
    enum dft_err rc = dft_buf_addf(&sql,
                                   "SELECT (SELECT count(*) FROM (%s EXCEPT %s)) +"
                                   " (SELECT count(*) FROM (%s EXCEPT %s))",
                                   a, b, b, a);
    sqlite3_stmt *st = NULL;
    int src =
        rc == DFT_OK ? sqlite3_prepare_v2(db, (const char *)sql.data, -1, &st, NULL) : SQLITE_NOMEM;
    dft_buf_release(&sql);
    if (src == SQLITE_OK) {
        src = sqlite3_step(st);
    }
    if (src != SQLITE_ROW) {
        sqlite3_finalize(st);
        return store_error(db, src, "cannot compare the view", err);
    }
    sqlite3_int64 diff = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (diff != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "the %s differs from the operation log in %lld rows", what,
                        (long long)diff);
    }
    return DFT_OK;
}

static enum dft_err
compare_table(sqlite3 *db, const char *table, const char *cols, struct dft_error *err)
{
    char a[512], b[512], what[64];
    snprintf(a, sizeof a, "SELECT %s FROM main.%s", cols, table);
    snprintf(b, sizeof b, "SELECT %s FROM rebuild.%s", cols, table);
    snprintf(what, sizeof what, "%s table", table);
    return compare_query(db, what, a, b, err);
}

/*
 * Tables whose rows both sides list in key order (the stored history is WITHOUT ROWID on its
 * key, entries keyed by idx): compared row by row in one pass, without the temporary indexes
 * of EXCEPT (the history holds every operation). The rebuilt history is sorted once ("+"
 * keeps the planner off its key index: a lookup per row, in random order, costs more). On a
 * difference, compare_table counts the rows for the message.
 */
static const char *const ordered[][3] = {
    {"history", "record, idx, seq", "+record, +idx, +seq"},
    {"entries", "idx", "idx"},
};

/* 1 when both queries give the same rows in the same order, 0 when not or on an error. */
static int
same_rows(sqlite3 *db, const char *a, const char *b)
{
    sqlite3_stmt *sa = NULL, *sb = NULL;
    int ra = sqlite3_prepare_v2(db, a, -1, &sa, NULL);
    int rb = ra == SQLITE_OK ? sqlite3_prepare_v2(db, b, -1, &sb, NULL) : ra;
    int same = ra == SQLITE_OK && rb == SQLITE_OK;
    while (same) {
        ra = sqlite3_step(sa);
        rb = sqlite3_step(sb);
        if (ra != rb || (ra != SQLITE_ROW && ra != SQLITE_DONE)) {
            same = 0;
            break;
        }
        if (ra == SQLITE_DONE) {
            break;
        }
        int n = sqlite3_column_count(sa);
        for (int c = 0; c < n && same; c++) {
            int ta = sqlite3_column_type(sa, c);
            if (ta != sqlite3_column_type(sb, c)) {
                same = 0;
            } else if (ta == SQLITE_INTEGER) {
                same = sqlite3_column_int64(sa, c) == sqlite3_column_int64(sb, c);
            } else if (ta != SQLITE_NULL) {
                const void *pa = sqlite3_column_blob(sa, c);
                const void *pb = sqlite3_column_blob(sb, c);
                int na = sqlite3_column_bytes(sa, c);
                same = na == sqlite3_column_bytes(sb, c) &&
                       (na == 0 || memcmp(pa, pb, (size_t)na) == 0);
            }
        }
    }
    sqlite3_finalize(sa);
    sqlite3_finalize(sb);
    return same;
}

static enum dft_err
compare_in_order(sqlite3 *db, const char *table, const char *cols, const char *key,
                 const char *rebuild_key, struct dft_error *err)
{
    char a[512], b[512];
    snprintf(a, sizeof a, "SELECT %s FROM main.%s ORDER BY %s", cols, table, key);
    snprintf(b, sizeof b, "SELECT %s FROM rebuild.%s ORDER BY %s", cols, table, rebuild_key);
    if (same_rows(db, a, b)) {
        return DFT_OK;
    }
    /* a difference, or an error: the full comparison names it */
    enum dft_err rc = compare_table(db, table, cols, err);
    if (rc == DFT_OK) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "the %s table differs from the operation log", table);
    }
    return rc;
}

/*
 * The other tables (records, links, evidence) have rowids that both sides assign in the order
 * the operations are applied: when both list the same rows in rowid order (one sequential
 * scan each, no sort and no lookup by id), they hold the same set of rows. When they do not
 * (a difference, or the same rows in another order, as a view merged from a sync may hold
 * them), the set comparison decides.
 */
static enum dft_err
compare_by_rowid(sqlite3 *db, const char *table, const char *cols, struct dft_error *err)
{
    char a[512], b[512];
    snprintf(a, sizeof a, "SELECT %s FROM main.%s ORDER BY rowid", cols, table);
    snprintf(b, sizeof b, "SELECT %s FROM rebuild.%s ORDER BY rowid", cols, table);
    if (same_rows(db, a, b)) {
        return DFT_OK;
    }
    return compare_table(db, table, cols, err);
}

/* Compare one of the view tables, in one ordered pass when it has a plain key order. */
static enum dft_err
compare_view_table(sqlite3 *db, const char *table, const char *cols, struct dft_error *err)
{
    for (size_t i = 0; i < sizeof ordered / sizeof ordered[0]; i++) {
        if (strcmp(ordered[i][0], table) == 0) {
            return compare_in_order(db, table, cols, ordered[i][1], ordered[i][2], err);
        }
    }
    return compare_by_rowid(db, table, cols, err);
}

/*
 * The search layer folds the live records of the rebuilt view (names, body and folded keys), in
 * id order, and compares each with the stored index row (search_stream_*, on two threads);
 * verify reads none of its tables. The rebuilt records are sorted by id once ("+id": not a
 * lookup per record through the key index; the sort stays in memory, temp_store=MEMORY).
 */
static enum dft_err
check_search(struct dft_vault *v, struct dft_error *err)
{
    struct dft_search_stream *ss = NULL;
    sqlite3_stmt *st = NULL;
    enum dft_err rc = search_stream_open(&ss, v->db, err);
    if (rc != DFT_OK) {
        return rc;
    }
    int src = sqlite3_prepare_v2(v->db,
                                 "SELECT id, type, title, fields FROM rebuild.records"
                                 " WHERE deleted=0 ORDER BY +id",
                                 -1, &st, NULL);
    if (src != SQLITE_OK) {
        rc = store_error(v->db, src, "cannot read the rebuilt records", err);
        goto out;
    }
    while (rc == DFT_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *fields = (const char *)sqlite3_column_text(st, 3);
        if (fields == NULL) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "a rebuilt record has malformed fields");
            break;
        }
        rc = search_stream_put(ss, (const char *)sqlite3_column_text(st, 0),
                               (const char *)sqlite3_column_text(st, 1),
                               (const char *)sqlite3_column_text(st, 2), fields,
                               (size_t)sqlite3_column_bytes(st, 3), err);
    }
    if (rc == DFT_OK && src != SQLITE_DONE) {
        rc = store_error(v->db, src, "cannot read the rebuilt records", err);
    }
    if (rc == DFT_OK) {
        rc = search_stream_finish(ss, err);
    }
out:
    sqlite3_finalize(st);
    search_stream_free(ss);
    return rc;
}

#define VERIFY_CACHE_KIB (512 * 1024) /* page cache while verify runs: 512 MiB at most */

/* Raise the main database's page cache to VERIFY_CACHE_KIB; the size to restore, 0: none. */
static int
verify_cache_grow(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int old = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA main.cache_size", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        old = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    /* a size in pages (positive) or KiB (negative): grow only what is smaller */
    if (old == 0 || (old < 0 && -old >= VERIFY_CACHE_KIB) ||
        (old > 0 && old >= VERIFY_CACHE_KIB / 4)) {
        return 0;
    }
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA main.cache_size=%d", -VERIFY_CACHE_KIB);
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? old : 0;
}

static void
verify_cache_restore(sqlite3 *db, int old)
{
    if (old != 0) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA main.cache_size=%d", old);
        (void)sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
}

static const char rebuild_history[] =
    "CREATE TABLE rebuild.history(record TEXT NOT NULL, idx INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, op TEXT NOT NULL, PRIMARY KEY(record, idx, seq))";

/* Apply the envelope opened before (if any) to the rebuilt view, and count it. */
static enum dft_err
verify_apply_prev(struct dft_view *vw, struct verify_opened *prev, int64_t *prev_idx,
                  int64_t *operations, int64_t *envelopes, struct dft_error *err)
{
    if (prev->ops == NULL) {
        return DFT_OK;
    }
    enum dft_err rc = view_apply(vw, *prev_idx, prev->ops, err);
    *operations += (int64_t)json_array_size(prev->ops);
    verify_opened_drop(prev);
    if (rc == DFT_OK) {
        (*envelopes)++;
    }
    return rc;
}

/*
 * The checks that read only the stored vault (verify_idle.h): the structure check and the
 * stored history's sum on a helper thread from the start, over a second read-only connection;
 * the full-text index's own consistency check on this thread while the second one opens an
 * envelope (verify_pipe.c), its failure kept and reported where it was checked before (after
 * the search rows are compared: the same first failure). Each step is due where it ran on this
 * thread before: after the first envelope is applied the structure check, after the second the
 * stored history's sum, after the third the full-text check; what the loop leaves undone is due
 * after it, in the same order, and a failure of a step already due is reported first.
 */
/*
 * One run of verify. With table_history 0 (and a view not merged from a sync), the history is
 * compared as a keyed digest (verify_history.h) and *retry is set, with nothing reported, when it
 * differs: the caller runs again with table_history 1, which builds the history table and names
 * the difference as before.
 */
static enum dft_err
verify_run(struct dft_vault *v, unsigned flags, int table_history, int *retry, json_t **report,
           struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    sqlite3_stmt *st = NULL;
    struct dft_view vw;
    int view_ready = 0, attached = 0, in_tx = 0, opening = 0;
    int64_t envelopes = 0, operations = 0;
    struct dft_tlog_check *tree = NULL; /* the Merkle tree rebuilt from the leaves */
    struct verify_open_job job = {0};   /* the envelope being opened */
    struct verify_opened prev = {0};    /* the envelope opened before */
    int64_t prev_idx = 0;
    unsigned char root[DFT_HASH_BYTES];
    char root_b64[DFT_TLOG_HASH_B64];
    int cache_kib = 0; /* the page cache size to restore (negative KiB), 0: unchanged */
    int arenas = 0;    /* jansson's allocator is wrapped (json_arena.h) */
    int merged = sync_view_merged(v);
    int digest = !table_history && !merged;      /* history compared as a digest */
    unsigned char hkey[VERIFY_DIGEST_KEY_BYTES]; /* its key: random, this run only */
    struct verify_digest hist = {{0, 0, 0, 0}, 0, 0};
    const unsigned char *hk = digest ? hkey : NULL;
    struct verify_idle idle;
    memset(&idle, 0, sizeof idle);
    if (v->header.damaged) { /* seen (and rewritten from the good copy) when it was opened */
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "vault header copy %d was damaged or tampered (rewritten from the other)",
                        v->header.damaged - 1);
    }
    randombytes_buf(hkey, sizeof hkey);
    verify_idle_start(&idle, v->db, digest, hkey); /* its own connection: before ATTACH, BEGIN */
    /*
     * A larger page cache while verify reads: the search index is read in id order, a lookup
     * by row number per row. Pages are only taken as they are read; restored at the end.
     */
    cache_kib = verify_cache_grow(v->db);
    arenas = crypto_json_arena_install();
    if ((rc = store_exec(v->db, "ATTACH DATABASE ':memory:' AS rebuild", err)) != DFT_OK) {
        goto out;
    }
    attached = 1;
    /*
     * The index of records by type and title serves listing only: nothing verify runs on the
     * rebuilt tables reads it, and keeping it costs a b-tree insert in random order per record.
     * The rebuilt history keeps its rows in the order they come, with an index on the key (the
     * same constraint, so INSERT OR REPLACE behaves the same): inserted by a random record id,
     * every operation's text would land on a random page of a table that outgrows the caches.
     */
    if ((rc = store_exec(v->db, rebuild_history, err)) != DFT_OK ||
        (rc = view_create_tables(v->db, "rebuild", err)) != DFT_OK ||
        (rc = store_exec(v->db, "DROP INDEX rebuild.records_by_type", err)) != DFT_OK ||
        (rc = view_init(&vw, v->db, "rebuild", 0, err)) != DFT_OK) {
        goto out;
    }
    view_ready = 1;
    /* shared: merged below; else the history rows are summed, not written */
    vw.sync_mode = merged ? VIEW_LOG_ONLY : digest ? VIEW_NO_HISTORY : 0;
    /*
     * One transaction around the rebuild (rolled back at the end): without it every view row
     * is a transaction of its own, and each ends with work that grows with the in-memory
     * database. When the caller already holds a transaction, verify runs inside it.
     */
    in_tx = sqlite3_exec(v->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
    if ((rc = tlog_check_begin(v->db, &tree, err)) != DFT_OK) {
        goto out;
    }
    int src = sqlite3_prepare_v2(v->db,
                                 "SELECT idx, leaf_hash, envelope FROM main.envelopes"
                                 " ORDER BY idx",
                                 -1, &st, NULL);
    if (src != SQLITE_OK) {
        rc = store_error(v->db, src, "cannot read the log", err);
        goto out;
    }
    /*
     * The first envelope is opened on the second thread while the pages are checked; a read
     * error is reported after the page check, which names a tampered page first.
     */
    if ((src = sqlite3_step(st)) == SQLITE_ROW) {
        verify_open_start(&job, v->keys, sqlite3_column_blob(st, 2),
                          (size_t)sqlite3_column_bytes(st, 2), sqlite3_column_int64(st, 0), hk,
                          &hist);
        opening = 1;
    }
    if ((rc = store_check_pages(v->db, err)) != DFT_OK) {
        goto out;
    }
    int64_t expect = 0;
    /* envelope k is opened on a second thread while k-1 is applied (verify_pipe.c) */
    for (; src == SQLITE_ROW; src = sqlite3_step(st)) {
        int64_t idx = sqlite3_column_int64(st, 0);
        const unsigned char *leaf = sqlite3_column_blob(st, 1);
        int leaf_len = sqlite3_column_bytes(st, 1);
        const unsigned char *env = sqlite3_column_blob(st, 2);
        size_t env_len = (size_t)sqlite3_column_bytes(st, 2);
        if (!opening) {
            verify_open_start(&job, v->keys, env, env_len, idx, hk, &hist);
        }
        opening = 0;
        if ((rc = verify_apply_prev(&vw, &prev, &prev_idx, &operations, &envelopes, err)) !=
            DFT_OK) {
            goto out;
        }
        if (idx != expect) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "log index %lld is missing", (long long)expect);
            goto out;
        }
        expect++;
        unsigned char h[DFT_HASH_BYTES];
        crypto_leaf_hash(h, env, env_len);
        if (leaf_len != DFT_HASH_BYTES || sodium_memcmp(h, leaf, DFT_HASH_BYTES) != 0) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "log entry %lld does not match its leaf hash",
                          (long long)idx);
            goto out;
        }
        if ((rc = tlog_check_add(tree, h, err)) != DFT_OK) {
            goto out;
        }
        struct dft_envelope_info info;
        if ((rc = envelope_inspect(env, env_len, &info, err)) != DFT_OK) {
            goto out;
        }
        if (sodium_memcmp(info.author, v->keys->sign_pk, DFT_SIGN_PK_BYTES) != 0) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "log entry %lld is signed by an unknown key",
                          (long long)idx);
            goto out;
        }
        if (envelopes > 0 && (rc = verify_idle_step(&idle, v->db, err)) != DFT_OK) {
            goto out;
        }
        if ((rc = verify_open_finish(&job, &prev, err)) != DFT_OK) {
            goto out;
        }
        prev_idx = idx;
    }
    if (src != SQLITE_DONE) {
        rc = store_error(v->db, src, "cannot read the log", err);
        goto out;
    }
    if ((rc = verify_apply_prev(&vw, &prev, &prev_idx, &operations, &envelopes, err)) != DFT_OK) {
        goto out;
    }
    while (idle.done < VERIFY_IDLE_STEPS) {
        if ((rc = verify_idle_step(&idle, v->db, err)) != DFT_OK) {
            goto out;
        }
    }
    if ((rc = verify_idle_collect(&idle, err)) != DFT_OK) {
        goto out;
    }
    if (merged && (rc = sync_verify_view(v, err)) != DFT_OK) { /* sync_view.c */
        goto out;
    }
    rc = tlog_check_finish(tree, NULL, root, err);
    tree = NULL;
    if (rc != DFT_OK) {
        goto out;
    }
    tlog_hash_encode(root_b64, root);
    /* The search index is a view too: its contents rebuilt from the records, FTS5 consistent. */
    if ((rc = check_search(v, err)) != DFT_OK) {
        goto out;
    }
    if ((rc = idle.fts_rc) != DFT_OK) { /* search_check, run in the loop */
        *err = idle.fts_err;
        goto out;
    }
    for (size_t i = 0; i < sizeof compared / sizeof compared[0]; i++) {
        if (digest && strcmp(compared[i][0], "history") == 0) {
            if (!verify_digest_equal(&idle.stored, &hist)) {
                *retry = 1; /* a difference: the caller builds the table and names it */
                rc = DFT_ERR_INTEGRITY;
                goto out;
            }
            continue;
        }
        if ((rc = compare_view_table(v->db, compared[i][0], compared[i][1], err)) != DFT_OK) {
            goto out;
        }
    }
    if (in_tx) { /* the rebuild is compared: the rest reads outside that transaction */
        (void)sqlite3_exec(v->db, "ROLLBACK", NULL, NULL, NULL);
        in_tx = 0;
    }
    /* Trusted witnesses (replayed from the checked history) and every cosigned checkpoint. */
    struct dft_witness_set ws;
    json_t *witnesses = NULL;
    if ((rc = vault_witness_set(v, &ws, err)) != DFT_OK ||
        (rc = witness_check(v->db, v->keys->sign_pk, &ws, &witnesses, err)) != DFT_OK) {
        goto out;
    }
    /* Every evidence object in use: decrypted and rehashed (quick: header, length, last tag). */
    json_t *evidence = NULL;
    rc = (merged ? sync_verify_evidence : vault_verify_evidence)(
        v, (flags & DFT_VERIFY_QUICK) ? EVIDENCE_QUICK : 0, &evidence, err);
    if (rc != DFT_OK) {
        json_decref(witnesses);
        goto out;
    }
    *report =
        json_pack("{sbsIsIsssIsssoso}", "ok", 1, "envelopes", (json_int_t)envelopes, "operations",
                  (json_int_t)operations, "pages", "ok", "tree_size", (json_int_t)envelopes, "root",
                  root_b64, "witnesses", witnesses, "evidence", evidence);
    if (*report == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
out:
    rc = verify_idle_fail(&idle, rc, err); /* a failure of a check due earlier comes first */
    verify_idle_stop(&idle);
    verify_open_cancel(&job);
    verify_opened_drop(&prev);
    tlog_check_free(tree);
    sqlite3_finalize(st);
    if (view_ready) {
        view_release(&vw);
    }
    if (in_tx) {
        (void)sqlite3_exec(v->db, "ROLLBACK", NULL, NULL, NULL);
    }
    if (attached) {
        (void)sqlite3_exec(v->db, "DETACH DATABASE rebuild", NULL, NULL, NULL);
    }
    verify_cache_restore(v->db, cache_kib);
    if (arenas) {
        crypto_json_arena_uninstall(); /* every tree in an arena was dropped above */
    }
    sodium_memzero(hkey, sizeof hkey);
    return rc;
}

enum dft_err
dft_vault_verify(struct dft_vault *v, unsigned flags, json_t **report, struct dft_error *err)
{
    int retry = 0;
    enum dft_err rc = verify_run(v, flags, 0, &retry, report, err);
    if (retry) {
        rc = verify_run(v, flags, 1, &retry, report, err);
    }
    return rc;
}
