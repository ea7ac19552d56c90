/*
 * vault_ops.c - evidence in a vault: attach (import + one "evidence" operation per file, all
 * or none), extract with a custody operation, and verification of every object in use.
 *
 * Never records an operation for an object that is not durable, and never removes an object
 * that existed before the call (another record may use it).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "defter/vault.h"
#include "evidence/internal.h"

static int
objects_dir(struct dft_vault *v, char *out, size_t max)
{
    int n = snprintf(out, max, "%s/%s", dft_vault_dir(v), DFT_VAULT_OBJECTS_DIR);
    return (n < 0 || (size_t)n >= max) ? -1 : 0;
}

static const char *
base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s != NULL && s[1] != '\0' ? s + 1 : path;
}

static void
remove_object(const char *objdir, const char *hex)
{
    char p[PATH_MAX];
    if (evd_object_path(p, sizeof p, objdir, hex) == 0) {
        (void)unlink(p);
    }
}

enum dft_err
dft_evidence_attach(struct dft_vault *v, const char *record, const char *const *paths, size_t n,
                    dft_progress_fn progress, void *pctx, json_t **out, struct dft_error *err)
{
    enum dft_err rc;
    char objdir[PATH_MAX];
    json_t *rec = NULL, *ops = NULL, *result = NULL;
    struct dft_evidence_info *infos = NULL;
    size_t done = 0;

    *out = NULL;
    if (objects_dir(v, objdir, sizeof objdir) != 0) {
        return dft_fail(err, DFT_ERR_INPUT, "vault path is too long");
    }
    rc = dft_vault_show(v, record, 0, &rec, err);
    if (rc != DFT_OK) {
        return rc;
    }
    const char *type = json_string_value(json_object_get(rec, "type"));
    if (type == NULL || !dft_record_type_valid(type)) {
        json_decref(rec);
        return dft_fail(err, DFT_ERR_INPUT, "'%s' is not a record (evidence attaches to records)",
                        record);
    }
    json_decref(rec);
    infos = calloc(n ? n : 1, sizeof *infos);
    ops = json_array();
    result = json_array();
    if (infos == NULL || ops == NULL || result == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (done = 0; done < n; done++) {
        rc = dft_evidence_import(objdir, dft_vault_keys(v), paths[done], progress, pctx,
                                 &infos[done], err);
        if (rc != DFT_OK) {
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        char evid[DFT_ID_MAX];
        const char *name = base_name(paths[i]);
        dft_vault_new_id(evid, "evd");
        json_t *fields =
            json_pack("{ss ss ss sI ss ss sO}", "evidence_id", evid, "object", infos[i].object,
                      "sha256", infos[i].sha256_hex, "size", (json_int_t)infos[i].size, "name",
                      dft_utf8_valid(name, strlen(name)) ? name : "(name not UTF-8)", "mime",
                      infos[i].mime, "meta", infos[i].meta);
        json_t *op = fields == NULL ? NULL
                                    : json_pack("{ss ss ss so}", "record", record, "action",
                                                "evidence", "to", evid, "fields", fields);
        json_t *row = json_pack("{ss ss sI}", "id", evid, "sha256", infos[i].sha256_hex, "size",
                                (json_int_t)infos[i].size);
        if (op == NULL || row == NULL) {
            json_decref(op);
            json_decref(row);
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            goto out;
        }
        json_array_append_new(ops, op);
        json_array_append_new(result, row);
    }
    rc = dft_vault_append_ops(v, ops, NULL, err);
    if (rc != DFT_OK) {
        goto out;
    }
    *out = result;
    result = NULL;
out:
    if (rc != DFT_OK) {
        /* all or none: drop the objects this call stored (older ones may be in use) */
        for (size_t i = 0; i < done && i < n; i++) {
            int dup = 0;
            for (size_t k = 0; k < i; k++) {
                dup |= strcmp(infos[k].object, infos[i].object) == 0;
            }
            if (infos[i].created && !dup) {
                remove_object(objdir, infos[i].object);
            }
        }
    }
    for (size_t i = 0; infos != NULL && i < n; i++) {
        dft_evidence_info_release(&infos[i]);
    }
    free(infos);
    json_decref(ops);
    json_decref(result);
    return rc;
}

enum dft_err
dft_evidence_extract_id(struct dft_vault *v, const char *evid, const char *out_path,
                        dft_progress_fn progress, void *pctx, unsigned char sha_out[DFT_HASH_BYTES],
                        struct dft_error *err)
{
    enum dft_err rc;
    char objdir[PATH_MAX], hex[DFT_SHA256_HEX_BYTES];
    unsigned char expected[DFT_HASH_BYTES], sha[DFT_HASH_BYTES];
    json_t *ev = NULL, *ops = NULL;

    if (objects_dir(v, objdir, sizeof objdir) != 0) {
        return dft_fail(err, DFT_ERR_INPUT, "vault path is too long");
    }
    rc = dft_vault_show(v, evid, 0, &ev, err);
    if (rc != DFT_OK) {
        return rc;
    }
    const char *type = json_string_value(json_object_get(ev, "type"));
    const char *object = json_string_value(json_object_get(ev, "object"));
    const char *sha_hex = json_string_value(json_object_get(ev, "sha256"));
    if (type == NULL || strcmp(type, "evidence") != 0) {
        rc = dft_fail(err, DFT_ERR_INPUT, "'%s' is not evidence", evid);
        goto out;
    }
    if (object == NULL || sha_hex == NULL || strlen(sha_hex) != 64 ||
        dft_hex_decode(expected, sizeof expected, sha_hex) != DFT_OK) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "evidence '%s' has a damaged record", evid);
        goto out;
    }
    rc = dft_evidence_extract(objdir, dft_vault_keys(v), object, expected, out_path, progress, pctx,
                              sha, err);
    if (rc != DFT_OK) {
        goto out;
    }
    dft_hex_encode(hex, sha, sizeof sha);
    ops = json_pack("[{ss ss s{ss ss}}]", "record", evid, "action", "custody", "fields", "event",
                    "extract", "sha256", hex);
    if (ops == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    } else {
        rc = dft_vault_append_ops(v, ops, NULL, err);
    }
    if (rc != DFT_OK) {
        /* no custody record, no extracted copy */
        (void)unlink(out_path);
        goto out;
    }
    if (sha_out != NULL) {
        memcpy(sha_out, sha, sizeof sha);
    }
out:
    json_decref(ev);
    json_decref(ops);
    return rc;
}

enum dft_err
dft_evidence_verify_vault(struct dft_vault *v, unsigned flags, json_t **report,
                          struct dft_error *err)
{
    char objdir[PATH_MAX];
    sqlite3_stmt *st = NULL;
    enum dft_err rc = DFT_OK;
    long long objects = 0, evidence = 0;
    char last[DFT_OBJECT_HEX_BYTES] = "";

    *report = NULL;
    if (objects_dir(v, objdir, sizeof objdir) != 0) {
        return dft_fail(err, DFT_ERR_INPUT, "vault path is too long");
    }
    if (sqlite3_prepare_v2(dft_vault_db(v),
                           "SELECT id, object, sha256 FROM evidence WHERE deleted=0"
                           " ORDER BY object, id",
                           -1, &st, NULL) != SQLITE_OK) {
        return dft_fail(err, DFT_ERR_INTERNAL, "cannot read the evidence table");
    }
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *object = (const char *)sqlite3_column_text(st, 1);
        const char *sha_hex = (const char *)sqlite3_column_text(st, 2);
        unsigned char expected[DFT_HASH_BYTES];
        evidence++;
        if (object == NULL || sha_hex == NULL || strlen(sha_hex) != 64 ||
            dft_hex_decode(expected, sizeof expected, sha_hex) != DFT_OK) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "evidence '%s' has a damaged record",
                          id ? id : "?");
            goto out;
        }
        if (strcmp(object, last) == 0) {
            /* same object: verified already; the recorded hash must agree too */
            rc = dft_evidence_verify(objdir, dft_vault_keys(v), object, expected,
                                     DFT_EVIDENCE_QUICK, err);
        } else {
            objects++;
            rc = dft_evidence_verify(objdir, dft_vault_keys(v), object, expected, flags, err);
            snprintf(last, sizeof last, "%s", object);
        }
        if (rc != DFT_OK) {
            dft_fail(err, rc, "evidence '%s' failed verification", id ? id : "?");
            goto out;
        }
    }
    if (s != SQLITE_DONE) {
        rc = dft_fail(err, DFT_ERR_INTERNAL, "cannot read the evidence table");
        goto out;
    }
    *report = json_pack("{sI sI sb}", "objects", (json_int_t)objects, "evidence",
                        (json_int_t)evidence, "quick", (flags & DFT_EVIDENCE_QUICK) != 0);
out:
    sqlite3_finalize(st);
    return rc;
}
