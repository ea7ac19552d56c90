/*
 * witness.c - trusted witnesses, the cosignature policy and cosigned checkpoints of the vault's
 * own log.
 *
 * The witness set is not a table of its own: it is replayed from signed, logged operations of
 * the reserved record DFT_WITNESS_RECORD (actions witness_add and witness_policy), so every
 * change of trust is in the transparency log and in the view that verify rebuilds. Cosigned
 * checkpoints are kept in table tlog_cosigned, one note per tree size, holding only the lines
 * that verified: the log's signature and cosignatures by trusted witnesses. This file never
 * stores a checkpoint whose signatures it did not verify or whose root differs from the tree's
 * at its size, and never trusts a stored note without verifying it again.
 */
#include <string.h>

#include <sodium.h>

#include "store/store.h"
#include "log/tlog.h"

#define ACTION_ADD    "witness_add"
#define ACTION_POLICY "witness_policy"

/* ---- the witness set, from the log ---- */

enum dft_err
witness_replay(struct dft_witness_set *ws, const json_t *op, int64_t idx, struct dft_error *err)
{
    const char *action = json_string_value(json_object_get(op, "action"));
    const json_t *fields = json_object_get(op, "fields");
    if (action != NULL && strcmp(action, ACTION_ADD) == 0) {
        const char *vkey = json_string_value(json_object_get(fields, "vkey"));
        struct dft_note_verifier v;
        if (vkey == NULL || note_verifier_parse(&v, vkey, strlen(vkey), NULL) != DFT_OK ||
            v.alg != DFT_NOTE_ALG_COSIG_V1) {
            return dft_fail(err, DFT_ERR_INTEGRITY,
                            "witness operation in log entry %lld has a bad key", (long long)idx);
        }
        for (size_t i = 0; i < ws->n; i++) {
            if (ws->keys[i].key_id == v.key_id && strcmp(ws->keys[i].name, v.name) == 0) {
                return DFT_OK; /* already trusted: adding again changes nothing */
            }
        }
        if (ws->n >= DFT_WITNESS_MAX) {
            return dft_fail(err, DFT_ERR_INTEGRITY, "log entry %lld trusts too many witnesses",
                            (long long)idx);
        }
        ws->keys[ws->n++] = v;
        return DFT_OK;
    }
    if (action != NULL && strcmp(action, ACTION_POLICY) == 0) {
        const json_t *k = json_object_get(fields, "k");
        if (!json_is_integer(k) || json_integer_value(k) < 0 ||
            (uint64_t)json_integer_value(k) > ws->n) {
            return dft_fail(err, DFT_ERR_INTEGRITY,
                            "witness policy in log entry %lld is impossible", (long long)idx);
        }
        ws->policy = (unsigned)json_integer_value(k);
        const char *hex = json_string_value(json_object_get(fields, "text_sha256"));
        size_t bin_len = 0;
        ws->has_policy_text = hex != NULL;
        if (hex != NULL && (strlen(hex) != 64 ||
                            sodium_hex2bin(ws->policy_sha256, sizeof ws->policy_sha256, hex, 64,
                                           NULL, &bin_len, NULL) != 0 ||
                            bin_len != 32)) {
            return dft_fail(err, DFT_ERR_INTEGRITY,
                            "witness policy in log entry %lld has a bad text hash", (long long)idx);
        }
        return DFT_OK;
    }
    return dft_fail(err, DFT_ERR_INTEGRITY, "log entry %lld has an unknown witness operation",
                    (long long)idx);
}

enum dft_err
witness_add_op(const struct dft_witness_set *ws, const char *vkey, json_t **op,
               struct dft_error *err)
{
    struct dft_note_verifier v;
    char canon[DFT_NOTE_VKEY_MAX];
    enum dft_err rc = note_verifier_parse(&v, vkey, strlen(vkey), err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (v.alg != DFT_NOTE_ALG_COSIG_V1) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "'%s' is not a witness key: a witness key has type 0x04 "
                        "(tlog-cosignature/v1), this one 0x%02x",
                        v.name, (unsigned)v.alg);
    }
    for (size_t i = 0; i < ws->n; i++) {
        if (ws->keys[i].key_id == v.key_id && strcmp(ws->keys[i].name, v.name) == 0) {
            return dft_fail(err, DFT_ERR_INPUT, "witness '%s' is already trusted", v.name);
        }
    }
    if (ws->n >= DFT_WITNESS_MAX) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "at most %d witnesses can be trusted",
                        DFT_WITNESS_MAX);
    }
    note_verifier_format(&v, canon);
    *op = json_pack("{sssss{ss}}", "record", DFT_WITNESS_RECORD, "action", ACTION_ADD, "fields",
                    "vkey", canon);
    if (*op == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    return DFT_OK;
}

enum dft_err
witness_policy_op(const struct dft_witness_set *ws, uint64_t k, json_t **op, struct dft_error *err)
{
    if (k > ws->n) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "a policy of %llu cosignatures needs %llu trusted witnesses; %zu are "
                        "trusted",
                        (unsigned long long)k, (unsigned long long)k, ws->n);
    }
    *op = json_pack("{sssss{sI}}", "record", DFT_WITNESS_RECORD, "action", ACTION_POLICY, "fields",
                    "k", (json_int_t)k);
    if (*op == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    return DFT_OK;
}

enum dft_err
witness_policy_text_op(const struct dft_witness_set *ws, uint64_t k, const unsigned char sha256[32],
                       json_t **op, struct dft_error *err)
{
    char hex[65];
    enum dft_err rc = witness_policy_op(ws, k, op, err);
    if (rc != DFT_OK) {
        return rc;
    }
    sodium_bin2hex(hex, sizeof hex, sha256, 32);
    if (json_object_set_new(json_object_get(*op, "fields"), "text_sha256", json_string(hex)) != 0) {
        json_decref(*op);
        *op = NULL;
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    return DFT_OK;
}

/* ---- cosigned checkpoints ---- */

/*
 * Open a cosigned checkpoint of the log of logv: every signature by the log or a trusted witness
 * must verify, the log's must be there, and the tree (of tree_size leaves, read through r) must
 * have the checkpoint's root at its size.
 */
static enum dft_err
open_cosigned(struct dft_tlog_reader *r, uint64_t tree_size, const struct dft_note_verifier *logv,
              const struct dft_witness_set *ws, const char *note, size_t len,
              struct dft_checkpoint *c, struct dft_note_check *checks, struct dft_error *err)
{
    unsigned char root[DFT_TLOG_HASH_BYTES];
    enum dft_err rc = checkpoint_open(c, note, len, logv, ws->keys, ws->n, checks, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (c->size > tree_size) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "checkpoint of size %llu signed by this vault is beyond its log (size "
                        "%llu): the vault was rolled back or forked",
                        (unsigned long long)c->size, (unsigned long long)tree_size);
    }
    if ((rc = tlog_reader_root(r, c->size, root, err)) != DFT_OK) {
        return rc;
    }
    if (sodium_memcmp(root, c->root, DFT_TLOG_HASH_BYTES) != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "cosigned checkpoint of size %llu is inconsistent with the log (another "
                        "root at that size): the log was forked or rewritten",
                        (unsigned long long)c->size);
    }
    return DFT_OK;
}

/* The stored note of size (DFT_ERR_NOT_FOUND when none) into out. */
static enum dft_err
stored_note(sqlite3 *db, uint64_t size, struct dft_buf *out, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    enum dft_err rc = DFT_OK;
    int src =
        sqlite3_prepare_v2(db, "SELECT note FROM tlog_cosigned WHERE size = ?1", -1, &st, NULL);
    if (src == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
        src = sqlite3_step(st);
    }
    if (src == SQLITE_ROW) {
        if (dft_buf_add(out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0)) !=
            DFT_OK) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "stored cosigned checkpoint %llu is too large",
                          (unsigned long long)size);
        }
    } else if (src == SQLITE_DONE) {
        rc = DFT_ERR_NOT_FOUND;
    } else {
        rc = store_error(db, src, "cannot read cosigned checkpoints", err);
    }
    sqlite3_finalize(st);
    return rc;
}

/* The first signature line of n by key v (NULL when none). */
static const struct dft_note_sig *
line_of(const struct dft_note *n, const struct dft_note_verifier *v)
{
    size_t name_len = strlen(v->name);
    for (size_t i = 0; i < n->nsigs; i++) {
        const struct dft_note_sig *s = &n->sigs[i];
        if (s->key_id == v->key_id && s->name_len == name_len &&
            memcmp(s->name, v->name, name_len) == 0) {
            return s;
        }
    }
    return NULL;
}

enum dft_err
witness_import(sqlite3 *db, const unsigned char log_pub[32], const struct dft_witness_set *ws,
               const char *note, size_t len, struct witness_import *res, struct dft_error *err)
{
    struct dft_note_verifier logv;
    struct dft_note n, old;
    struct dft_checkpoint c, c_old;
    struct dft_note_check checks[DFT_WITNESS_MAX], old_checks[DFT_WITNESS_MAX];
    struct dft_tlog_reader *r = NULL;
    struct dft_buf prev, merged;
    sqlite3_stmt *st = NULL;
    int have_n = 0, have_old = 0, in_tx = 0;
    uint64_t tree_size = 0;
    size_t count = 0, added = 0;
    char ts[DFT_TS_BYTES];
    dft_buf_init(&prev, DFT_NOTE_MAX_BYTES, 0);
    dft_buf_init(&merged, DFT_NOTE_MAX_BYTES, 0);
    tlog_log_verifier(&logv, log_pub);
    memset(old_checks, 0, sizeof old_checks);

    /* Plain mistakes first (exit 1): not a note, another log, no signature by this vault. */
    enum dft_err rc = note_parse(&n, note, len, err);
    if (rc != DFT_OK) {
        goto out;
    }
    have_n = 1;
    if ((rc = checkpoint_parse(&c, n.text, n.text_len, err)) != DFT_OK) {
        goto out;
    }
    if (strcmp(c.origin, logv.name) != 0) {
        rc = dft_fail(err, DFT_ERR_INPUT,
                      "checkpoint is of another log '%.64s' (this vault's is "
                      "'%s')",
                      c.origin, logv.name);
        goto out;
    }
    if (line_of(&n, &logv) == NULL) {
        rc = dft_fail(err, DFT_ERR_INPUT, "checkpoint carries no signature by this vault's key");
        goto out;
    }
    if (ws->n == 0) {
        rc = dft_fail(err, DFT_ERR_INPUT, "no witness is trusted yet (defter witness add VKEY)");
        goto out;
    }

    if ((rc = store_exec(db, "BEGIN IMMEDIATE", err)) != DFT_OK) {
        goto out;
    }
    in_tx = 1;
    if ((rc = tlog_size(db, &tree_size, err)) != DFT_OK ||
        (rc = tlog_reader_open(db, &r, err)) != DFT_OK ||
        (rc = open_cosigned(r, tree_size, &logv, ws, note, len, &c, checks, err)) != DFT_OK) {
        goto out;
    }
    for (size_t i = 0; i < ws->n; i++) {
        count += checks[i].verified ? 1 : 0;
    }
    if (count == 0) {
        rc =
            dft_fail(err, DFT_ERR_INPUT,
                     "checkpoint carries no cosignature by a trusted witness (%zu trusted)", ws->n);
        goto out;
    }

    /* Merge with the cosignatures already kept for this size. */
    rc = stored_note(db, c.size, &prev, err);
    if (rc == DFT_OK) {
        if ((rc = open_cosigned(r, tree_size, &logv, ws, (const char *)prev.data, prev.len, &c_old,
                                old_checks, err)) != DFT_OK ||
            (rc = note_parse(&old, (const char *)prev.data, prev.len, err)) != DFT_OK) {
            goto out;
        }
        have_old = 1;
    } else if (rc == DFT_ERR_NOT_FOUND) {
        rc = DFT_OK;
    } else {
        goto out;
    }
    if (dft_buf_add(&merged, n.text, n.text_len) != DFT_OK ||
        dft_buf_adds(&merged, "\n") != DFT_OK) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    const struct dft_note_sig *logline = line_of(&n, &logv);
    if (dft_buf_add(&merged, logline->line, logline->line_len) != DFT_OK) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    count = 0;
    for (size_t i = 0; i < ws->n; i++) {
        const struct dft_note_sig *s = NULL;
        if (old_checks[i].verified) {
            s = &old.sigs[old_checks[i].sig_index];
        } else if (checks[i].verified) {
            s = &n.sigs[checks[i].sig_index];
            added++;
        }
        if (s != NULL) {
            count++;
            if (dft_buf_add(&merged, s->line, s->line_len) != DFT_OK) {
                rc = dft_fail(err, DFT_ERR_TOO_LARGE, "cosigned checkpoint is too large");
                goto out;
            }
        }
    }
    dft_time_now(ts);
    int src = sqlite3_prepare_v2(db,
                                 "INSERT OR REPLACE INTO tlog_cosigned(size, note, imported)"
                                 " VALUES (?1, ?2, ?3)",
                                 -1, &st, NULL);
    if (src == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)c.size);
        sqlite3_bind_blob(st, 2, merged.data, (int)merged.len, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, ts, -1, SQLITE_STATIC);
        src = sqlite3_step(st);
    }
    if (src != SQLITE_DONE) {
        rc = store_error(db, src, "cannot store the cosigned checkpoint", err);
        goto out;
    }
    if ((rc = store_exec(db, "COMMIT", err)) != DFT_OK) {
        goto out;
    }
    in_tx = 0;
    if (res != NULL) {
        res->size = c.size;
        res->cosignatures = count;
        res->added = added;
    }
out:
    sqlite3_finalize(st);
    tlog_reader_close(r);
    if (in_tx) {
        store_rollback(db);
    }
    if (have_n) {
        note_release(&n);
    }
    if (have_old) {
        note_release(&old);
    }
    dft_buf_release(&prev);
    dft_buf_release(&merged);
    return rc;
}

enum dft_err
witness_check(sqlite3 *db, const unsigned char log_pub[32], const struct dft_witness_set *ws,
              json_t **report, struct dft_error *err)
{
    struct dft_note_verifier logv;
    struct dft_note_check checks[DFT_WITNESS_MAX];
    struct dft_tlog_reader *r = NULL;
    sqlite3_stmt *st = NULL;
    uint64_t tree_size = 0;
    int64_t stored = 0;
    json_t *latest = json_null();
    size_t latest_count = 0;
    tlog_log_verifier(&logv, log_pub);
    enum dft_err rc = tlog_size(db, &tree_size, err);
    if (rc != DFT_OK || (rc = tlog_reader_open(db, &r, err)) != DFT_OK) {
        goto out;
    }
    int src = sqlite3_prepare_v2(db, "SELECT size, note FROM main.tlog_cosigned ORDER BY size", -1,
                                 &st, NULL);
    if (src != SQLITE_OK) {
        rc = store_error(db, src, "cannot read cosigned checkpoints", err);
        goto out;
    }
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 size = sqlite3_column_int64(st, 0);
        const char *note = sqlite3_column_blob(st, 1);
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        struct dft_checkpoint c;
        if (note == NULL) {
            note = "";
        }
        if ((rc = open_cosigned(r, tree_size, &logv, ws, note, len, &c, checks, err)) != DFT_OK) {
            goto out;
        }
        if ((sqlite3_int64)c.size != size) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "cosigned checkpoint %lld is stored as size %lld",
                          (long long)c.size, (long long)size);
            goto out;
        }
        stored++;
        json_t *by = json_array();
        latest_count = 0;
        for (size_t i = 0; i < ws->n; i++) {
            if (checks[i].verified) {
                latest_count++;
                json_array_append_new(by, json_pack("{sssI}", "name", ws->keys[i].name, "timestamp",
                                                    (json_int_t)checks[i].timestamp));
            }
        }
        json_decref(latest);
        latest = json_pack("{sIsIso}", "size", (json_int_t)c.size, "cosignatures",
                           (json_int_t)latest_count, "cosigned_by", by);
    }
    if (src != SQLITE_DONE) {
        rc = store_error(db, src, "cannot read cosigned checkpoints", err);
        goto out;
    }
    int met = ws->policy == 0 || (stored > 0 && latest_count >= ws->policy);
    *report =
        json_pack("{sIsIsIsOsb}", "trusted", (json_int_t)ws->n, "policy", (json_int_t)ws->policy,
                  "checkpoints", (json_int_t)stored, "latest", latest, "policy_met", met);
    if (*report == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
out:
    json_decref(latest);
    sqlite3_finalize(st);
    tlog_reader_close(r);
    return rc;
}

enum dft_err
witness_latest(sqlite3 *db, const unsigned char log_pub[32], const struct dft_witness_set *ws,
               struct dft_buf *out, struct dft_error *err)
{
    struct dft_note_verifier logv;
    struct dft_note_check checks[DFT_WITNESS_MAX];
    struct dft_checkpoint c;
    struct dft_tlog_reader *r = NULL;
    sqlite3_stmt *st = NULL;
    uint64_t tree_size = 0;
    size_t mark = out->len;
    tlog_log_verifier(&logv, log_pub);
    enum dft_err rc = tlog_size(db, &tree_size, err);
    if (rc != DFT_OK || (rc = tlog_reader_open(db, &r, err)) != DFT_OK) {
        goto out;
    }
    int src = sqlite3_prepare_v2(db, "SELECT note FROM tlog_cosigned ORDER BY size DESC LIMIT 1",
                                 -1, &st, NULL);
    if (src == SQLITE_OK) {
        src = sqlite3_step(st);
    }
    if (src == SQLITE_DONE) {
        rc = dft_fail(err, DFT_ERR_NOT_FOUND, "no cosigned checkpoint is kept yet");
        goto out;
    }
    if (src != SQLITE_ROW) {
        rc = store_error(db, src, "cannot read cosigned checkpoints", err);
        goto out;
    }
    const char *note = sqlite3_column_blob(st, 0);
    size_t len = (size_t)sqlite3_column_bytes(st, 0);
    if ((rc = open_cosigned(r, tree_size, &logv, ws, note != NULL ? note : "", len, &c, checks,
                            err)) != DFT_OK) {
        goto out;
    }
    if (dft_buf_add(out, note, len) != DFT_OK) {
        out->len = mark;
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
out:
    sqlite3_finalize(st);
    tlog_reader_close(r);
    return rc;
}
