/*
 * export.c - the vault's side of a bundle export: selection, history, envelopes, disclosures,
 * log material and evidence objects (export.h). Read-only.
 */
#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "log/tlog.h"
#include "vault/camouflage.h"
#include "vault/envelope.h"
#include "vault/oppath.h"
#include "vault/privileged.h"
#include "vault/export.h"
#include "evidence/evidence.h"
#include "vault/vault_internal.h"

static enum dft_err
prepare(struct dft_vault *v, sqlite3_stmt **st, const char *sql, struct dft_error *err)
{
    int rc = sqlite3_prepare_v2(v->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        return store_error(v->db, rc, "cannot read the vault", err);
    }
    return DFT_OK;
}

static json_t *
json_text(const unsigned char *text)
{
    json_error_t jerr;
    json_t *j = text != NULL ? json_loads((const char *)text, 0, &jerr) : NULL;
    return j != NULL ? j : json_object();
}

/* Add the live record id to recs ({id: {"id","type","fields"}}); NOT_FOUND when absent. */
static enum dft_err
add_record(struct dft_vault *v, const char *id, json_t *recs, const char **type_out,
           struct dft_error *err)
{
    if (json_object_get(recs, id) != NULL) {
        return DFT_OK;
    }
    sqlite3_stmt *st = NULL;
    enum dft_err e =
        prepare(v, &st, "SELECT type, fields FROM records WHERE id=?1 AND deleted=0", err);
    if (e != DFT_OK) {
        return e;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        json_t *r = json_pack("{ss ss so}", "id", id, "type", sqlite3_column_text(st, 0), "fields",
                              json_text(sqlite3_column_text(st, 1)));
        if (r == NULL || json_object_set_new(recs, id, r) != 0) {
            e = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    } else if (rc == SQLITE_DONE) {
        e = dft_fail(err, DFT_ERR_NOT_FOUND, "no record with id '%.64s'", id);
    } else {
        e = store_error(v->db, rc, "cannot read the vault", err);
    }
    sqlite3_finalize(st);
    if (e == DFT_OK && type_out != NULL) {
        *type_out = json_string_value(json_object_get(json_object_get(recs, id), "type"));
    }
    return e;
}

/* Live records linked to id, added to recs; live links touching id added to links. */
static enum dft_err
linked_records(struct dft_vault *v, const char *id, json_t *recs, json_t *links, int follow,
               struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    enum dft_err e = prepare(v, &st,
                             "SELECT l.id, l.src, l.dst, l.role FROM links l"
                             " WHERE (l.src=?1 OR l.dst=?1) AND l.deleted=0 ORDER BY l.id",
                             err);
    if (e != DFT_OK) {
        return e;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc;
    json_t *others = json_array();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *lid = (const char *)sqlite3_column_text(st, 0);
        const char *src = (const char *)sqlite3_column_text(st, 1);
        const char *dst = (const char *)sqlite3_column_text(st, 2);
        json_object_set_new(links, lid,
                            json_pack("{ss ss ss ss}", "id", lid, "src", src, "dst", dst, "role",
                                      (const char *)sqlite3_column_text(st, 3)));
        json_array_append_new(others, json_string(strcmp(src, id) == 0 ? dst : src));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(others);
        return store_error(v->db, rc, "cannot read the vault", err);
    }
    size_t i;
    json_t *o;
    json_array_foreach(others, i, o)
    {
        if (!follow) {
            break;
        }
        struct dft_error ignored = {0};
        e = add_record(v, json_string_value(o), recs, NULL, &ignored);
        if (e != DFT_OK && e != DFT_ERR_NOT_FOUND) { /* a deleted end is left out */
            *err = ignored;
            break;
        }
        e = DFT_OK;
    }
    json_decref(others);
    return e;
}

static enum dft_err
evidence_of(struct dft_vault *v, const char *id, json_t *evd, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    enum dft_err e = prepare(v, &st,
                             "SELECT id, record, object, sha256, size, name, mime FROM evidence"
                             " WHERE record=?1 AND deleted=0 AND object IS NOT NULL",
                             err);
    if (e != DFT_OK) {
        return e;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *eid = (const char *)sqlite3_column_text(st, 0);
        json_object_set_new(evd, eid,
                            json_pack("{ss ss s:s? s:s? sI s:s? s:s?}", "id", eid, "record",
                                      (const char *)sqlite3_column_text(st, 1), "object",
                                      (const char *)sqlite3_column_text(st, 2), "sha256",
                                      (const char *)sqlite3_column_text(st, 3), "size",
                                      (json_int_t)sqlite3_column_int64(st, 4), "name",
                                      (const char *)sqlite3_column_text(st, 5), "mime",
                                      (const char *)sqlite3_column_text(st, 6)));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? DFT_OK : store_error(v->db, rc, "cannot read the vault", err);
}

static int
cmp_id(const void *a, const void *b)
{
    const char *x = json_string_value(json_object_get(*(json_t *const *)a, "id"));
    const char *y = json_string_value(json_object_get(*(json_t *const *)b, "id"));
    return strcmp(x, y);
}

/* The values of object o as an array sorted by their "id". */
static json_t *
sorted_values(const json_t *o)
{
    size_t n = json_object_size(o), i = 0;
    json_t **vals = calloc(n + 1, sizeof *vals);
    json_t *arr = json_array();
    if (vals == NULL || arr == NULL) {
        free(vals);
        json_decref(arr);
        return NULL;
    }
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)(uintptr_t)o, k, val)
    {
        vals[i++] = val;
    }
    qsort(vals, n, sizeof *vals, cmp_id);
    for (i = 0; i < n; i++) {
        json_array_append(arr, vals[i]);
    }
    free(vals);
    return arr;
}

enum dft_err
dft_vault_export_select(struct dft_vault *v, const char *case_id, const json_t *ids, json_t **out,
                        struct dft_error *err)
{
    json_t *recs = json_object(), *links = json_object(), *evd = json_object();
    enum dft_err e = DFT_OK;
    if (recs == NULL || links == NULL || evd == NULL) {
        e = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (case_id != NULL) {
        const char *type = NULL;
        if ((e = add_record(v, case_id, recs, &type, err)) != DFT_OK) {
            goto out;
        }
        if (type == NULL || strcmp(type, "case") != 0) {
            e = dft_fail(err, DFT_ERR_INPUT, "'%.64s' is not a case", case_id);
            goto out;
        }
        if ((e = linked_records(v, case_id, recs, links, 1, err)) != DFT_OK) {
            goto out;
        }
        /* and what is linked to its proceedings (hearings, judges, prosecutors) */
        json_t *procs = json_array();
        const char *pid;
        json_t *pr;
        json_object_foreach(recs, pid, pr)
        {
            const char *t = json_string_value(json_object_get(pr, "type"));
            if (t != NULL && strcmp(t, "proceeding") == 0) {
                json_array_append_new(procs, json_string(pid));
            }
        }
        size_t pi;
        json_array_foreach(procs, pi, pr)
        {
            if ((e = linked_records(v, json_string_value(pr), recs, links, 1, err)) != DFT_OK) {
                break;
            }
        }
        json_decref(procs);
        if (e != DFT_OK) {
            goto out;
        }
    } else {
        size_t i;
        json_t *id;
        json_array_foreach((json_t *)(uintptr_t)ids, i, id)
        {
            if (!json_is_string(id) ||
                (e = add_record(v, json_string_value(id), recs, NULL, err)) != DFT_OK) {
                if (!json_is_string(id)) {
                    e = dft_fail(err, DFT_ERR_INPUT, "record ids must be strings");
                }
                goto out;
            }
        }
    }
    const char *id;
    json_t *r;
    json_object_foreach(recs, id, r)
    {
        if ((e = linked_records(v, id, recs, links, 0, err)) != DFT_OK ||
            (e = evidence_of(v, id, evd, err)) != DFT_OK) {
            goto out;
        }
    }
    *out = json_pack("{so so so}", "records", sorted_values(recs), "evidence", sorted_values(evd),
                     "links", sorted_values(links));
    if (*out == NULL) {
        e = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
out:
    json_decref(recs);
    json_decref(links);
    json_decref(evd);
    return e;
}

enum dft_err
dft_vault_export_history(struct dft_vault *v, const char *id, json_t **out, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    enum dft_err e =
        prepare(v, &st, "SELECT idx, seq, op FROM history WHERE record=?1 ORDER BY idx, seq", err);
    if (e != DFT_OK) {
        return e;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_array_append_new(arr, json_pack("{sI sI so}", "index",
                                             (json_int_t)sqlite3_column_int64(st, 0), "seq",
                                             (json_int_t)sqlite3_column_int64(st, 1), "op",
                                             json_text(sqlite3_column_text(st, 2))));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return store_error(v->db, rc, "cannot read the vault", err);
    }
    *out = arr;
    return DFT_OK;
}

enum dft_err
dft_vault_export_envelope(struct dft_vault *v, uint64_t index, struct dft_buf *out,
                          struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    enum dft_err e = prepare(v, &st, "SELECT envelope FROM envelopes WHERE idx=?1", err);
    if (e != DFT_OK) {
        return e;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (dft_buf_add(out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0)) !=
            DFT_OK) {
            e = dft_fail(err, DFT_ERR_TOO_LARGE, "envelope %llu is too large",
                         (unsigned long long)index);
        }
    } else if (rc == SQLITE_DONE) {
        e = dft_fail(err, DFT_ERR_NOT_FOUND, "no envelope %llu", (unsigned long long)index);
    } else {
        e = store_error(v->db, rc, "cannot read the vault", err);
    }
    sqlite3_finalize(st);
    return e;
}

static json_t *
hash_json(const unsigned char h[DFT_TLOG_HASH_BYTES])
{
    char b64[DFT_TLOG_HASH_B64];
    tlog_hash_encode(b64, h);
    return json_string(b64);
}

enum dft_err
dft_vault_export_log(struct dft_vault *v, json_t **out, struct dft_error *err)
{
    struct dft_witness_set ws;
    struct dft_buf note, cos;
    uint64_t size = 0;
    json_t *doc = NULL, *id = NULL;
    dft_buf_init(&note, DFT_NOTE_MAX_BYTES, 0);
    dft_buf_init(&cos, DFT_NOTE_MAX_BYTES, 0);
    enum dft_err e;
    if ((e = tlog_size(v->db, &size, err)) != DFT_OK ||
        (e = dft_vault_checkpoint(v, size, &note, err)) != DFT_OK ||
        (e = vault_witness_set(v, &ws, err)) != DFT_OK ||
        (e = dft_vault_identity(v, &id, err)) != DFT_OK) {
        goto out;
    }
    json_t *wkeys = json_array();
    for (size_t i = 0; i < ws.n; i++) {
        char vkey[DFT_NOTE_VKEY_MAX];
        note_verifier_format(&ws.keys[i], vkey);
        json_array_append_new(wkeys, json_string(vkey));
    }
    doc =
        json_pack("{sO sO sI ss# so sI sn sn sI}", "vkey", json_object_get(id, "vkey"), "origin",
                  json_object_get(id, "origin"), "size", (json_int_t)size, "checkpoint",
                  (const char *)note.data, (int)note.len, "witnesses", wkeys, "policy",
                  (json_int_t)ws.policy, "cosigned", "consistency", "cosigned_size", (json_int_t)0);
    if (doc == NULL) {
        e = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    struct dft_error ignored = {0};
    if (ws.n > 0 && witness_latest(v->db, v->keys->sign_pk, &ws, &cos, &ignored) == DFT_OK) {
        struct dft_checkpoint c;
        struct dft_note_verifier logv;
        tlog_log_verifier(&logv, v->keys->sign_pk);
        if ((e = checkpoint_open(&c, (const char *)cos.data, cos.len, &logv, ws.keys, ws.n, NULL,
                                 err)) != DFT_OK) {
            goto out;
        }
        unsigned char proof[DFT_TLOG_PROOF_MAX][DFT_TLOG_HASH_BYTES];
        size_t n = 0;
        if ((e = tlog_prove_consistency(v->db, c.size, size, proof, &n, err)) != DFT_OK) {
            goto out;
        }
        json_t *pj = json_array();
        for (size_t i = 0; i < n; i++) {
            json_array_append_new(pj, hash_json(proof[i]));
        }
        json_object_set_new(doc, "cosigned", json_stringn((const char *)cos.data, cos.len));
        json_object_set_new(doc, "cosigned_size", json_integer((json_int_t)c.size));
        json_object_set_new(doc, "consistency",
                            json_pack("{sI sI so}", "old_size", (json_int_t)c.size, "new_size",
                                      (json_int_t)size, "proof", pj));
    }
    *out = doc;
    doc = NULL;
out:
    json_decref(doc);
    json_decref(id);
    dft_buf_release(&note);
    dft_buf_release(&cos);
    return e;
}

enum dft_err
dft_vault_export_proof(struct dft_vault *v, uint64_t index, uint64_t size,
                       unsigned char (*proof)[32], size_t *proof_len, struct dft_error *err)
{
    return tlog_prove_inclusion(v->db, index, size, proof, proof_len, err);
}

enum dft_err
dft_vault_export_evidence(struct dft_vault *v, const char *object, struct dft_evidence_obj **out,
                          struct dft_error *err)
{
    char dir[PATH_MAX + 16];
    if (vault_objects_path(v->dir, v->header_path, dir, sizeof dir, NULL) != DFT_OK) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "vault path too long");
    }
    return evidence_open(out, dir, v->keys, object, err);
}

/* ---- one envelope, many disclosures (the same output as envelope_disclose) ---- */

struct dft_export_env {
    uint64_t index;
    json_t *items;         /* decrypted [{"op","salt_key"}] */
    unsigned char *hashes; /* op hashes, count * 32 */
    size_t count;
    char head_b64[dft_b64_len(DFT_ENV_HEAD_BYTES)];
};

static enum dft_err
item_salt_key(unsigned char key[DFT_SALT_KEY_BYTES], const json_t *item, struct dft_error *err)
{
    const char *s = json_string_value(json_object_get(item, "salt_key"));
    size_t kl = 0;
    if (s == NULL || dft_b64_decode(key, DFT_SALT_KEY_BYTES, &kl, s, strlen(s)) != DFT_OK ||
        kl != DFT_SALT_KEY_BYTES) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "envelope: missing or bad salt key");
    }
    return DFT_OK;
}

void
dft_export_env_free(struct dft_export_env *e)
{
    if (e == NULL) {
        return;
    }
    json_decref(e->items);
    free(e->hashes);
    free(e);
}

uint64_t
dft_export_env_index(const struct dft_export_env *e)
{
    return e->index;
}

enum dft_err
dft_vault_export_open(struct dft_vault *v, uint64_t index, struct dft_export_env **out,
                      struct dft_error *err)
{
    struct dft_buf env;
    unsigned char key[DFT_SALT_KEY_BYTES];
    dft_buf_init(&env, DFT_ENV_MAX, 0);
    struct dft_export_env *e = calloc(1, sizeof *e);
    enum dft_err rc = e == NULL ? dft_fail(err, DFT_ERR_NOMEM, "out of memory") : DFT_OK;
    if (rc == DFT_OK && (rc = dft_vault_export_envelope(v, index, &env, err)) == DFT_OK) {
        rc = envelope_open_items(v->keys, env.data, env.len, &e->items, err);
    }
    if (rc == DFT_OK) {
        e->index = index;
        e->count = json_array_size(e->items);
        dft_b64_encode(e->head_b64, env.data, DFT_ENV_HEAD_BYTES);
        e->hashes = malloc(e->count * DFT_HASH_BYTES + 1);
        if (e->hashes == NULL) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    for (size_t i = 0; rc == DFT_OK && i < e->count; i++) {
        const json_t *it = json_array_get(e->items, i);
        if ((rc = item_salt_key(key, it, err)) == DFT_OK) {
            rc = sd_op_hash(e->hashes + i * DFT_HASH_BYTES, json_object_get(it, "op"), key, err);
        }
    }
    sodium_memzero(key, sizeof key);
    dft_buf_release(&env);
    if (rc != DFT_OK) {
        dft_export_env_free(e);
        return rc;
    }
    *out = e;
    return DFT_OK;
}

static int
listed(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(name, names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static int
cmp_hash(const void *a, const void *b)
{
    return memcmp(a, b, DFT_HASH_BYTES);
}

/* RFC 9162 PATH(m, D[0:n]) over the op hashes h, appended to path (leaf side first). */
static void
op_path(json_t *path, size_t m, const unsigned char *h, size_t n)
{
    unsigned char sib[SD_PATH_MAX * DFT_HASH_BYTES];
    size_t k = sd_op_path(sib, m, h, n); /* oppath.c: subtree roots kept per envelope */
    for (size_t i = 0; i < k; i++) {
        json_array_append_new(path, hash_json(sib + i * DFT_HASH_BYTES));
    }
}

/* The value of item name in op (a top-level key, or "fields/<field>"), or NULL. */
static const json_t *
op_item(const json_t *op, const char *name)
{
    if (strncmp(name, "fields/", 7) == 0) {
        return json_object_get(json_object_get(op, "fields"), name + 7);
    }
    return strcmp(name, "fields") == 0 ? NULL : json_object_get(op, name);
}

/* The salt key of the sealed fields opened by dft_export_env_unseal. */
static enum dft_err
opened_salt_key(unsigned char key[DFT_SALT_KEY_BYTES], const json_t *item, struct dft_error *err)
{
    const char *s = json_string_value(json_object_get(json_object_get(item, "opened"), "salt_key"));
    size_t kl = 0;
    if (s == NULL || dft_b64_decode(key, DFT_SALT_KEY_BYTES, &kl, s, strlen(s)) != DFT_OK ||
        kl != DFT_SALT_KEY_BYTES) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "privileged note: missing sealed salt key");
    }
    return DFT_OK;
}

/*
 * The sealed fields of a privileged note not revealed: their digests, from the opened fields
 * (under the box's salt key) or, not opened, as the operation lists them.
 */
static enum dft_err
withhold_sealed(const json_t *fields, const json_t *opened, const unsigned char *sealed_key,
                const char *const *names, size_t n_names, unsigned char *withheld, size_t *nw,
                size_t max, struct dft_error *err)
{
    if (opened == NULL) {
        unsigned char *d = NULL;
        size_t n = 0;
        enum dft_err rc = privileged_digests(fields, &d, &n, err);
        if (rc == DFT_OK && *nw + n > max) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "privileged note: too many sealed fields");
        }
        if (rc == DFT_OK && n > 0) {
            memcpy(withheld + *nw * DFT_HASH_BYTES, d, n * DFT_HASH_BYTES);
            *nw += n;
        }
        free(d);
        return rc;
    }
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)(uintptr_t)opened, k, val)
    {
        char full[512];
        unsigned char salt[DFT_SALT_BYTES];
        if (snprintf(full, sizeof full, "fields/%s", k) >= (int)sizeof full) {
            return dft_fail(err, DFT_ERR_TOO_LARGE, "field name too long");
        }
        if (listed(full, names, n_names)) {
            continue;
        }
        if (*nw >= max) {
            return dft_fail(err, DFT_ERR_INTEGRITY, "privileged note: too many sealed fields");
        }
        sd_item_salt(salt, sealed_key, full);
        enum dft_err rc = sd_item_digest(withheld + *nw * DFT_HASH_BYTES, salt, full, val, err);
        sodium_memzero(salt, sizeof salt);
        if (rc != DFT_OK) {
            return rc;
        }
        (*nw)++;
    }
    return DFT_OK;
}

enum dft_err
dft_export_env_disclose(struct dft_export_env *e, size_t seq, const char *const *names,
                        size_t n_names, json_t **out, struct dft_error *err)
{
    if (seq >= e->count) {
        return dft_fail(err, DFT_ERR_INPUT, "the envelope has no operation %zu", seq);
    }
    const json_t *item = json_array_get(e->items, seq);
    const json_t *op = json_object_get(item, "op");
    const json_t *fields = json_object_get(op, "fields");
    const json_t *opened = json_object_get(json_object_get(item, "opened"), "fields");
    unsigned char key[DFT_SALT_KEY_BYTES], salt[DFT_SALT_BYTES], sealed_key[DFT_SALT_KEY_BYTES];
    size_t max = json_object_size(op) + json_object_size(fields) + json_object_size(opened) +
                 json_array_size(json_object_get(privileged_sealed(fields), "digests")) + 1,
           nw = 0;
    unsigned char *withheld = malloc(max * DFT_HASH_BYTES);
    json_t *doc = json_pack("{sisssIs[]s[]s[]}", "v", 1, "head", e->head_b64, "index",
                            (json_int_t)seq, "revealed", "withheld", "path");
    enum dft_err rc = withheld == NULL || doc == NULL
                          ? dft_fail(err, DFT_ERR_NOMEM, "out of memory")
                          : item_salt_key(key, item, err);
    if (rc == DFT_OK && opened != NULL) {
        rc = opened_salt_key(sealed_key, item, err);
    }
    for (size_t i = 0; rc == DFT_OK && i < n_names; i++) {
        const json_t *val = op_item(op, names[i]);
        int from_box = 0;
        if (val == NULL && opened != NULL && strncmp(names[i], "fields/", 7) == 0) {
            val = json_object_get(opened, names[i] + 7); /* a sealed field (privileged.c) */
            from_box = val != NULL;
        }
        if (val == NULL || listed(names[i], names, i)) {
            rc = dft_fail(err, DFT_ERR_INPUT, "bad item '%.64s' to disclose", names[i]);
            break;
        }
        char salt_b64[dft_b64_len(DFT_SALT_BYTES)];
        sd_item_salt(salt, from_box ? sealed_key : key, names[i]);
        dft_b64_encode(salt_b64, salt, sizeof salt);
        json_array_append_new(json_object_get(doc, "revealed"),
                              json_pack("{sssssO}", "name", names[i], "salt", salt_b64, "value",
                                        (json_t *)(uintptr_t)val));
    }
    /* every other item: top-level keys but "fields", then "fields/<name>" */
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)(uintptr_t)op, k, val)
    {
        if (rc != DFT_OK || strcmp(k, "fields") == 0 || listed(k, names, n_names)) {
            continue;
        }
        sd_item_salt(salt, key, k);
        if ((rc = sd_item_digest(withheld + nw * DFT_HASH_BYTES, salt, k, val, err)) == DFT_OK) {
            nw++;
        }
    }
    json_object_foreach((json_t *)(uintptr_t)fields, k, val)
    {
        char full[512];
        if (rc != DFT_OK) {
            break;
        }
        if (snprintf(full, sizeof full, "fields/%s", k) >= (int)sizeof full) {
            rc = dft_fail(err, DFT_ERR_TOO_LARGE, "field name too long");
            break;
        }
        if (listed(full, names, n_names)) {
            continue;
        }
        sd_item_salt(salt, key, full);
        if ((rc = sd_item_digest(withheld + nw * DFT_HASH_BYTES, salt, full, val, err)) == DFT_OK) {
            nw++;
        }
    }
    if (rc == DFT_OK) {
        rc = withhold_sealed(fields, opened, sealed_key, names, n_names, withheld, &nw, max, err);
    }
    if (rc == DFT_OK) {
        qsort(withheld, nw, DFT_HASH_BYTES, cmp_hash);
        for (size_t i = 0; i < nw; i++) {
            json_array_append_new(json_object_get(doc, "withheld"),
                                  hash_json(withheld + i * DFT_HASH_BYTES));
        }
        op_path(json_object_get(doc, "path"), seq, e->hashes, e->count);
        *out = doc;
        doc = NULL;
    }
    sodium_memzero(key, sizeof key);
    sodium_memzero(salt, sizeof salt);
    sodium_memzero(sealed_key, sizeof sealed_key);
    free(withheld);
    json_decref(doc);
    return rc;
}

enum dft_err
dft_export_env_unseal(struct dft_vault *v, struct dft_export_env *e, struct dft_error *err)
{
    size_t i;
    json_t *item;
    json_array_foreach(e->items, i, item)
    {
        const json_t *op = json_object_get(item, "op");
        if (json_object_get(item, "opened") != NULL ||
            privileged_sealed(json_object_get(op, "fields")) == NULL) {
            continue;
        }
        unsigned char key[DFT_KEY_BYTES];
        char key_b64[dft_b64_len(DFT_KEY_BYTES)];
        json_t *fields = NULL;
        enum dft_err rc = privileged_open_op(v->keys, op, &fields, key, err);
        if (rc == DFT_OK && fields != NULL) {
            dft_b64_encode(key_b64, key, sizeof key);
            if (json_object_set_new(item, "opened",
                                    json_pack("{sOss}", "fields", fields, "salt_key", key_b64)) !=
                0) {
                rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            }
        }
        sodium_memzero(key, sizeof key);
        sodium_memzero(key_b64, sizeof key_b64);
        json_decref(fields);
        if (rc != DFT_OK) {
            return rc;
        }
    }
    return DFT_OK;
}

const json_t *
dft_export_env_opened(const struct dft_export_env *e, size_t seq)
{
    return json_object_get(json_object_get(json_array_get(e->items, seq), "opened"), "fields");
}

enum dft_err
dft_vault_export_privileged(struct dft_vault *v, const char *id, json_t **fields_out,
                            struct dft_error *err)
{
    json_t *rec = NULL;
    enum dft_err rc = dft_vault_show(v, id, 0, &rec, err);
    if (rc != DFT_OK) {
        return rc;
    }
    const json_t *p = json_object_get(rec, "privileged");
    if (p != NULL && !json_is_true(json_object_get(p, "readable"))) {
        rc = dft_fail(err, DFT_ERR_INPUT,
                      "privileged note %s is sealed to another member's key: only its author "
                      "can include it",
                      id);
    } else {
        *fields_out = json_incref(json_object_get(rec, "fields"));
    }
    json_decref(rec);
    return rc;
}
