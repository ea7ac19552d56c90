/*
 * changes.c - edit, delete and link: one operation each, checked against the live view.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <pthread.h>

#include <sodium.h>

#include "crypto/hash.h"
#include "evidence/evidence.h"
#include "search/search.h"
#include "store/store.h"
#include "log/tlog.h"
#include "vault/envelope.h"
#include "vault/fsutil.h"
#include "vault/vault_internal.h"
#include "vault/view.h"

static int
id_kind(sqlite3 *db, const char *id, char *type_out, size_t type_max)
{
    static const char *const sql[] = {
        "SELECT type FROM records WHERE id=? AND deleted=0",
        "SELECT 'link' FROM links WHERE id=? AND deleted=0",
        "SELECT 'evidence' FROM evidence WHERE id=? AND deleted=0",
    };
    static const char kinds[] = {'r', 'l', 'e'};
    for (int i = 0; i < 3; i++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) != SQLITE_OK) {
            sqlite3_finalize(st);
            return 0;
        }
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            if (type_out != NULL) {
                snprintf(type_out, type_max, "%s", (const char *)sqlite3_column_text(st, 0));
            }
            sqlite3_finalize(st);
            return kinds[i];
        }
        sqlite3_finalize(st);
    }
    return 0;
}

static enum dft_err
check_id_syntax(const char *id, struct dft_error *err)
{
    size_t n = strlen(id);
    if (n == 0 || n >= DFT_ID_MAX) {
        return dft_fail(err, DFT_ERR_NOT_FOUND, "no record with id '%.48s'", id);
    }
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            return dft_fail(err, DFT_ERR_NOT_FOUND, "no record with id '%.48s'", id);
        }
    }
    return DFT_OK;
}

enum dft_err
dft_vault_edit(struct dft_vault *v, const char *id, const json_t *fields, struct dft_error *err)
{
    enum dft_err rc = check_id_syntax(id, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (id_kind(v->db, id, NULL, 0) != 'r') {
        return dft_fail(err, DFT_ERR_NOT_FOUND, "no record with id '%s'", id);
    }
    if (!json_is_object(fields) || json_object_size(fields) == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "nothing to change: give FIELD=VALUE");
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)(uintptr_t)fields, key, val)
    {
        if (strcmp(key, "type") == 0) {
            return dft_fail(err, DFT_ERR_INPUT, "the type of a record cannot change");
        }
        if ((rc = vault_check_field_name(key, err)) != DFT_OK ||
            (rc = vault_check_value(key, val, 0, err)) != DFT_OK) {
            return rc;
        }
    }
    json_t *ops = json_pack("[{sssssO}]", "record", id, "action", "update", "fields", fields);
    if (ops == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    rc = vault_commit_ops(v, ops, err);
    json_decref(ops);
    return rc;
}

enum dft_err
dft_vault_delete(struct dft_vault *v, const char *id, struct dft_error *err)
{
    enum dft_err rc = check_id_syntax(id, err);
    if (rc != DFT_OK) {
        return rc;
    }
    int kind = id_kind(v->db, id, NULL, 0);
    json_t *ops = NULL;
    if (kind == 'r' || kind == 'e') {
        ops = json_pack("[{ssss}]", "record", id, "action", "delete");
    } else if (kind == 'l') {
        sqlite3_stmt *st = NULL;
        int src = sqlite3_prepare_v2(v->db, "SELECT src, dst FROM links WHERE id=?", -1, &st, NULL);
        if (src == SQLITE_OK) {
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            src = sqlite3_step(st);
        }
        if (src != SQLITE_ROW) {
            sqlite3_finalize(st);
            return store_error(v->db, src, "cannot read link", err);
        }
        ops = json_pack("[{sssssss{ss}}]", "record", sqlite3_column_text(st, 0), "to",
                        sqlite3_column_text(st, 1), "action", "unlink", "fields", "link", id);
        sqlite3_finalize(st);
    } else {
        return dft_fail(err, DFT_ERR_NOT_FOUND, "no record with id '%s'", id);
    }
    if (ops == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    rc = vault_commit_ops(v, ops, err);
    json_decref(ops);
    return rc;
}

enum dft_err
dft_vault_link(struct dft_vault *v, const char *from, const char *to, const char *role,
               char *id_out, struct dft_error *err)
{
    enum dft_err rc;
    if ((rc = check_id_syntax(from, err)) != DFT_OK || (rc = check_id_syntax(to, err)) != DFT_OK ||
        (rc = vault_check_role(role, err)) != DFT_OK) {
        return rc;
    }
    if (id_kind(v->db, from, NULL, 0) != 'r') {
        return dft_fail(err, DFT_ERR_NOT_FOUND, "no record with id '%s'", from);
    }
    if (id_kind(v->db, to, NULL, 0) != 'r') {
        return dft_fail(err, DFT_ERR_NOT_FOUND, "no record with id '%s'", to);
    }
    if (strcmp(from, to) == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "cannot link a record to itself");
    }
    char lid[DFT_ID_MAX];
    dft_vault_new_id(lid, "lnk");
    json_t *ops = json_pack("[{sssssss{ssss}}]", "record", from, "to", to, "action", "link",
                            "fields", "link", lid, "role", role);
    if (ops == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    rc = vault_commit_ops(v, ops, err);
    json_decref(ops);
    if (rc == DFT_OK) {
        snprintf(id_out, DFT_ID_MAX, "%s", lid);
    }
    return rc;
}
