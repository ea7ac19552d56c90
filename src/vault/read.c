/*
 * read.c - show, list, log and identity: JSON views of the vault for the CLI and the UI.
 *
 * Reads only the view tables (and envelopes for `log --envelopes`); never changes anything.
 */
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "log/tlog.h"
#include "vault/privileged.h"
#include "vault/vault_internal.h"

static json_t *
json_from_text(const unsigned char *text)
{
    json_error_t jerr;
    json_t *j = text != NULL ? json_loads((const char *)text, 0, &jerr) : NULL;
    return j != NULL ? j : json_null();
}

static enum dft_err
prepare(sqlite3 *db, sqlite3_stmt **st, const char *sql, struct dft_error *err)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        return store_error(db, rc, "cannot read the vault", err);
    }
    return DFT_OK;
}

static enum dft_err
finish(sqlite3 *db, sqlite3_stmt *st, int rc, struct dft_error *err)
{
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        return store_error(db, rc, "cannot read the vault", err);
    }
    return DFT_OK;
}

/* Append row(st) to out for every row of sql, whose ?1 is id. */
static enum dft_err
rows_of(sqlite3 *db, const char *sql, const char *id, json_t *(*row)(sqlite3_stmt *st), json_t *out,
        struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    enum dft_err e = prepare(db, &st, sql, err);
    if (e != DFT_OK) {
        return e;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_array_append_new(out, row(st));
    }
    return finish(db, st, rc, err);
}

static json_t *
relation_row(sqlite3_stmt *st)
{
    return json_pack("{ss ss ss ss s:s? s:s? ss}", "id", sqlite3_column_text(st, 0), "role",
                     sqlite3_column_text(st, 1), "direction", sqlite3_column_text(st, 2), "other",
                     sqlite3_column_text(st, 3), "other_type", sqlite3_column_text(st, 4),
                     "other_title", sqlite3_column_text(st, 5), "created",
                     sqlite3_column_text(st, 6));
}

static enum dft_err
relations_of(sqlite3 *db, const char *id, json_t *out, struct dft_error *err)
{
    return rows_of(
        db,
        "SELECT l.id, l.role, CASE WHEN l.src=?1 THEN 'out' ELSE 'in' END,"
        " CASE WHEN l.src=?1 THEN l.dst ELSE l.src END AS other, r.type, r.title, l.created"
        " FROM links l LEFT JOIN records r ON r.id = (CASE WHEN l.src=?1 THEN l.dst ELSE l.src END)"
        " WHERE (l.src=?1 OR l.dst=?1) AND l.deleted=0 AND coalesce(r.deleted, 0)=0"
        " ORDER BY l.created, l.id",
        id, relation_row, out, err);
}

static json_t *
evidence_row(sqlite3_stmt *st)
{
    return json_pack(
        "{ss ss s:s? s:s? sI s:s? s:s? so ss}", "id", sqlite3_column_text(st, 0), "record",
        sqlite3_column_text(st, 1), "object", sqlite3_column_text(st, 2), "sha256",
        sqlite3_column_text(st, 3), "size", (json_int_t)sqlite3_column_int64(st, 4), "name",
        sqlite3_column_text(st, 5), "mime", sqlite3_column_text(st, 6), "meta",
        json_from_text(sqlite3_column_text(st, 7)), "created", sqlite3_column_text(st, 8));
}

#define EVIDENCE_COLUMNS "id, record, object, sha256, size, name, mime, meta, created"

static enum dft_err
evidence_of(sqlite3 *db, const char *id, json_t *out, struct dft_error *err)
{
    return rows_of(db,
                   "SELECT " EVIDENCE_COLUMNS " FROM evidence WHERE record=?1 AND deleted=0"
                   " ORDER BY created, id",
                   id, evidence_row, out, err);
}

static json_t *
history_row(sqlite3_stmt *st)
{
    json_t *op = json_from_text(sqlite3_column_text(st, 1));
    json_object_set_new(op, "index", json_integer(sqlite3_column_int64(st, 0)));
    return op;
}

static enum dft_err
history_of(sqlite3 *db, const char *id, json_t *out, struct dft_error *err)
{
    return rows_of(db, "SELECT idx, op FROM history WHERE record=?1 ORDER BY idx, seq", id,
                   history_row, out, err);
}

static enum dft_err
show_evidence(struct dft_vault *v, const char *id, json_t **out, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    enum dft_err e =
        prepare(v->db, &st, "SELECT " EVIDENCE_COLUMNS " FROM evidence WHERE id=?", err);
    if (e != DFT_OK) {
        return e;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE) {
            return dft_fail(err, DFT_ERR_NOT_FOUND, "no record with id '%s'", id);
        }
        return store_error(v->db, rc, "cannot read the vault", err);
    }
    json_t *o = evidence_row(st);
    sqlite3_finalize(st);
    json_object_set_new(o, "type", json_string("evidence"));
    json_t *title = json_object_get(o, "name");
    json_object_set(o, "title", title != NULL ? title : json_string(id));
    json_t *hist = json_array();
    json_object_set_new(o, "history", hist);
    e = history_of(v->db, id, hist, err);
    if (e != DFT_OK) {
        json_decref(o);
        return e;
    }
    /* Custody: every operation on the evidence after its import, oldest first. */
    json_t *custody = json_array();
    size_t i;
    json_t *op;
    json_array_foreach(hist, i, op)
    {
        const char *action = json_string_value(json_object_get(op, "action"));
        if (action != NULL && strcmp(action, "custody") == 0) {
            json_array_append(custody, op);
        }
    }
    json_object_set_new(o, "custody", custody);
    *out = o;
    return DFT_OK;
}

static enum dft_err
show_link(struct dft_vault *v, const char *id, json_t **out, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    enum dft_err e =
        prepare(v->db, &st, "SELECT src, dst, role, created, deleted FROM links WHERE id=?", err);
    if (e != DFT_OK) {
        return e;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE) {
            return show_evidence(v, id, out, err);
        }
        return store_error(v->db, rc, "cannot read the vault", err);
    }
    *out = json_pack("{ss ss ss ss ss ss sb}", "id", id, "type", "link", "from",
                     sqlite3_column_text(st, 0), "to", sqlite3_column_text(st, 1), "role",
                     sqlite3_column_text(st, 2), "created", sqlite3_column_text(st, 3), "deleted",
                     sqlite3_column_int(st, 4));
    sqlite3_finalize(st);
    return DFT_OK;
}

enum dft_err
dft_vault_show(struct dft_vault *v, const char *id, unsigned flags, json_t **out,
               struct dft_error *err)
{
    (void)flags; /* history is cheap to include; the flag is kept for callers */
    sqlite3_stmt *st = NULL;
    enum dft_err e = prepare(v->db, &st,
                             "SELECT type, title, fields, created, updated, deleted FROM records"
                             " WHERE id=?",
                             err);
    if (e != DFT_OK) {
        return e;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE) {
            return show_link(v, id, out, err);
        }
        return store_error(v->db, rc, "cannot read the vault", err);
    }
    json_t *o =
        json_pack("{ss ss ss so ss ss sb}", "id", id, "type", sqlite3_column_text(st, 0), "title",
                  sqlite3_column_text(st, 1), "fields", json_from_text(sqlite3_column_text(st, 2)),
                  "created", sqlite3_column_text(st, 3), "updated", sqlite3_column_text(st, 4),
                  "deleted", sqlite3_column_int(st, 5));
    sqlite3_finalize(st);
    if (o == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    json_t *rel = json_array(), *evd = json_array(), *hist = json_array();
    json_object_set_new(o, "relations", rel);
    json_object_set_new(o, "evidence", evd);
    json_object_set_new(o, "history", hist);
    if ((e = relations_of(v->db, id, rel, err)) != DFT_OK ||
        (e = evidence_of(v->db, id, evd, err)) != DFT_OK ||
        (e = history_of(v->db, id, hist, err)) != DFT_OK ||
        (e = privileged_show(v->keys, o, err)) != DFT_OK) {
        json_decref(o);
        return e;
    }
    *out = o;
    return DFT_OK;
}

enum dft_err
dft_vault_list(struct dft_vault *v, const char *type, json_t **out, struct dft_error *err)
{
    if (type != NULL && !dft_record_type_valid(type)) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "unknown record type '%.40s' (case, person, event, proceeding, source, "
                        "note, place, organization)",
                        type);
    }
    sqlite3_stmt *st = NULL;
    enum dft_err e = prepare(v->db, &st,
                             "SELECT id, type, title, fields, created, updated FROM records"
                             " WHERE deleted=0 AND (?1 IS NULL OR type=?1)"
                             " ORDER BY type, title COLLATE NOCASE, id",
                             err);
    if (e != DFT_OK) {
        return e;
    }
    if (type != NULL) {
        sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    }
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_array_append_new(
            arr, json_pack("{ss ss ss so ss ss}", "id", sqlite3_column_text(st, 0), "type",
                           sqlite3_column_text(st, 1), "title", sqlite3_column_text(st, 2),
                           "fields", json_from_text(sqlite3_column_text(st, 3)), "created",
                           sqlite3_column_text(st, 4), "updated", sqlite3_column_text(st, 5)));
    }
    e = finish(v->db, st, rc, err);
    if (e != DFT_OK) {
        json_decref(arr);
        return e;
    }
    *out = arr;
    return DFT_OK;
}

enum dft_err
dft_vault_log(struct dft_vault *v, uint64_t since, int with_envelopes, json_t **out,
              struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    enum dft_err e = prepare(v->db, &st,
                             "SELECT e.idx, e.leaf_hash, n.action, n.author, n.ts, n.records,"
                             " CASE WHEN ?2 THEN e.envelope END FROM envelopes e"
                             " JOIN entries n ON n.idx = e.idx WHERE e.idx >= ?1 ORDER BY e.idx",
                             err);
    if (e != DFT_OK) {
        return e;
    }
    sqlite3_bind_int64(st, 1, since > INT64_MAX ? INT64_MAX : (sqlite3_int64)since);
    sqlite3_bind_int(st, 2, with_envelopes ? 1 : 0);
    json_t *entries = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char leaf[dft_b64_len(DFT_HASH_BYTES)];
        if (sqlite3_column_bytes(st, 1) != DFT_HASH_BYTES) {
            sqlite3_finalize(st);
            json_decref(entries);
            return dft_fail(err, DFT_ERR_INTEGRITY, "log entry %lld has a bad leaf hash",
                            (long long)sqlite3_column_int64(st, 0));
        }
        dft_b64_encode(leaf, sqlite3_column_blob(st, 1), DFT_HASH_BYTES);
        json_t *entry =
            json_pack("{sI ss so ss ss ss}", "index", (json_int_t)sqlite3_column_int64(st, 0),
                      "leaf_hash", leaf, "records", json_from_text(sqlite3_column_text(st, 5)),
                      "action", sqlite3_column_text(st, 2), "author", sqlite3_column_text(st, 3),
                      "ts", sqlite3_column_text(st, 4));
        if (with_envelopes) {
            int n = sqlite3_column_bytes(st, 6);
            char *b64 = malloc(dft_b64_len((size_t)n));
            if (b64 == NULL) {
                sqlite3_finalize(st);
                json_decref(entries);
                json_decref(entry);
                return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            }
            dft_b64_encode(b64, sqlite3_column_blob(st, 6), (size_t)n);
            json_object_set_new(entry, "envelope", json_string(b64));
            free(b64);
        }
        json_array_append_new(entries, entry);
    }
    e = finish(v->db, st, rc, err);
    if (e != DFT_OK) {
        json_decref(entries);
        return e;
    }
    sqlite3_stmt *cnt = NULL;
    e = prepare(v->db, &cnt, "SELECT count(*) FROM envelopes", err);
    if (e != DFT_OK) {
        json_decref(entries);
        return e;
    }
    sqlite3_step(cnt);
    json_int_t size = sqlite3_column_int64(cnt, 0);
    sqlite3_finalize(cnt);
    *out = json_pack("{sIso}", "size", size, "entries", entries);
    return DFT_OK;
}

enum dft_err
dft_vault_identity(struct dft_vault *v, json_t **out, struct dft_error *err)
{
    (void)err;
    char origin[DFT_TLOG_ORIGIN_BYTES];
    tlog_origin(origin, v->keys->sign_pk);
    /* C2SP signed-note verifier key of the log: name+hex(key id)+base64(0x01 ‖ public key). */
    struct dft_note_verifier verifier;
    char vkey[DFT_NOTE_VKEY_MAX];
    tlog_log_verifier(&verifier, v->keys->sign_pk);
    note_verifier_format(&verifier, vkey);
    char sign_pub[dft_b64_len(DFT_SIGN_PK_BYTES)], box_pub[dft_b64_len(DFT_BOX_PK_BYTES)];
    dft_b64_encode(sign_pub, v->keys->sign_pk, DFT_SIGN_PK_BYTES);
    dft_b64_encode(box_pub, v->keys->box_pk, DFT_BOX_PK_BYTES);
    char vid[2 * DFT_VAULT_ID_BYTES + 1];
    dft_hex_encode(vid, v->keys->vault_id, DFT_VAULT_ID_BYTES);
    *out = json_pack("{ss ss ss ss ss}", "vkey", vkey, "sign_pub", sign_pub, "box_pub", box_pub,
                     "origin", origin, "vault_id", vid);
    return *out != NULL ? DFT_OK : dft_fail(err, DFT_ERR_NOMEM, "out of memory");
}
