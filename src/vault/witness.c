/*
 * witness.c - the vault's witnesses: trust a witness key, set the cosignature policy (each a
 * signed, logged operation), list them, import cosigned checkpoints and give back the latest.
 *
 * The log layer (src/log/witness.c) checks keys, notes and cosignatures; this file supplies it
 * the vault's database and signing key, so no front end needs either.
 */
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "log/tlog.h"
#include "vault/vault_internal.h"

enum dft_err
vault_witness_set(struct dft_vault *v, struct dft_witness_set *ws, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    enum dft_err rc = DFT_OK;
    memset(ws, 0, sizeof *ws);
    int src = sqlite3_prepare_v2(v->db,
                                 "SELECT idx, op FROM main.history WHERE record = ?1"
                                 " ORDER BY idx, seq",
                                 -1, &st, NULL);
    if (src != SQLITE_OK) {
        sqlite3_finalize(st);
        return store_error(v->db, src, "cannot read the witnesses", err);
    }
    sqlite3_bind_text(st, 1, DFT_WITNESS_RECORD, -1, SQLITE_STATIC);
    while (rc == DFT_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 idx = sqlite3_column_int64(st, 0);
        const char *text = (const char *)sqlite3_column_text(st, 1);
        json_t *op = text == NULL ? NULL : json_loads(text, 0, NULL);
        if (op == NULL) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "log entry %lld: unreadable witness operation",
                          (long long)idx);
            break;
        }
        rc = witness_replay(ws, op, idx, err);
        json_decref(op);
    }
    if (rc == DFT_OK && src != SQLITE_DONE) {
        rc = store_error(v->db, src, "cannot read the witnesses", err);
    }
    sqlite3_finalize(st);
    return rc;
}

static json_t *
witness_list_json(const struct dft_witness_set *ws, int *bad)
{
    json_t *list = json_array();
    *bad |= list == NULL;
    for (size_t i = 0; list != NULL && i < ws->n; i++) {
        char vkey[DFT_NOTE_VKEY_MAX];
        char id[9];
        note_verifier_format(&ws->keys[i], vkey);
        snprintf(id, sizeof id, "%08x", (unsigned)ws->keys[i].key_id);
        *bad |= json_array_append_new(list, json_pack("{ssssss}", "name", ws->keys[i].name,
                                                      "key_id", id, "vkey", vkey)) != 0;
    }
    return list;
}

enum dft_err
dft_vault_witnesses(struct dft_vault *v, json_t **out, struct dft_error *err)
{
    struct dft_witness_set ws;
    int bad = 0;
    *out = NULL;
    enum dft_err rc = vault_witness_set(v, &ws, err);
    if (rc != DFT_OK) {
        return rc;
    }
    json_t *list = witness_list_json(&ws, &bad);
    if (bad) {
        json_decref(list);
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    *out = json_pack("{sosIsI}", "witnesses", list, "policy", (json_int_t)ws.policy, "trusted",
                     (json_int_t)ws.n);
    return *out != NULL ? DFT_OK : dft_fail(err, DFT_ERR_NOMEM, "out of memory");
}

/* One witness operation (add when vkey is not NULL, else policy k), then the new set. */
static enum dft_err
witness_change(struct dft_vault *v, const char *vkey, uint64_t k, json_t **out,
               struct dft_error *err)
{
    struct dft_witness_set ws;
    json_t *op = NULL, *ops = NULL;
    *out = NULL;
    enum dft_err rc = vault_witness_set(v, &ws, err);
    if (rc == DFT_OK) {
        rc = vkey != NULL ? witness_add_op(&ws, vkey, &op, err)
                          : witness_policy_op(&ws, k, &op, err);
    }
    if (rc == DFT_OK) {
        ops = json_pack("[O]", op);
        rc = ops == NULL ? dft_fail(err, DFT_ERR_NOMEM, "out of memory")
                         : dft_vault_append_ops(v, ops, NULL, err);
    }
    if (rc == DFT_OK) {
        rc = vault_witness_set(v, &ws, err);
    }
    if (rc == DFT_OK) {
        *out = json_pack("{sIsI}", "trusted", (json_int_t)ws.n, "policy", (json_int_t)ws.policy);
        if (*out == NULL) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        } else if (vkey != NULL && ws.n > 0 &&
                   (json_object_set(*out, "vkey",
                                    json_object_get(json_object_get(op, "fields"), "vkey")) != 0 ||
                    json_object_set_new(*out, "name", json_string(ws.keys[ws.n - 1].name)) != 0)) {
            json_decref(*out);
            *out = NULL;
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    json_decref(op);
    json_decref(ops);
    return rc;
}

enum dft_err
dft_vault_witness_add(struct dft_vault *v, const char *vkey, json_t **out, struct dft_error *err)
{
    return witness_change(v, vkey, 0, out, err);
}

enum dft_err
dft_vault_witness_policy(struct dft_vault *v, uint64_t k, json_t **out, struct dft_error *err)
{
    return witness_change(v, NULL, k, out, err);
}

enum dft_err
dft_vault_checkpoint_import(struct dft_vault *v, const char *note, size_t len, json_t **out,
                            struct dft_error *err)
{
    struct dft_witness_set ws;
    struct witness_import res;
    *out = NULL;
    enum dft_err rc = vault_witness_set(v, &ws, err);
    if (rc == DFT_OK) {
        rc = witness_import(v->db, v->keys->sign_pk, &ws, note, len, &res, err);
    }
    if (rc != DFT_OK) {
        return rc;
    }
    int met = ws.policy == 0 || res.cosignatures >= ws.policy;
    *out = json_pack("{sIsIsIsIsbsI}", "size", (json_int_t)res.size, "cosignatures",
                     (json_int_t)res.cosignatures, "added", (json_int_t)res.added, "policy",
                     (json_int_t)ws.policy, "policy_met", met, "trusted", (json_int_t)ws.n);
    return *out != NULL ? DFT_OK : dft_fail(err, DFT_ERR_NOMEM, "out of memory");
}

enum dft_err
dft_vault_checkpoint_cosigned(struct dft_vault *v, struct dft_buf *out, struct dft_error *err)
{
    struct dft_witness_set ws;
    enum dft_err rc = vault_witness_set(v, &ws, err);
    if (rc == DFT_OK) {
        rc = witness_latest(v->db, v->keys->sign_pk, &ws, out, err);
    }
    return rc;
}

enum dft_err
dft_vault_checkpoint_current(struct dft_vault *v, struct dft_buf *out, uint64_t *size_out,
                             struct dft_error *err)
{
    uint64_t size = 0;
    enum dft_err rc = tlog_size(v->db, &size, err);
    if (rc == DFT_OK) {
        rc = dft_vault_checkpoint(v, size, out, err);
    }
    if (rc == DFT_OK && size_out != NULL) {
        *size_out = size;
    }
    return rc;
}
