/*
 * evidence.c - evidence in a vault: attach (import + one "evidence" operation per file, all or
 * none), uploads streamed in pieces, extract with a custody operation, reading an object for a
 * viewer, custody events, and the check of every object in use (part of dft_vault_verify).
 *
 * The object layer below (src/evidence/) knows no vault: this file hands it the objects
 * directory and the two subkeys it needs, and owns the evidence records and their SQL. Never
 * records an operation for an object that is not durable, and never removes an object that
 * existed before the call (another record may use it).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "evidence/evidence.h"
#include "vault/camouflage.h"
#include "vault/sync_internal.h"
#include "vault/vault_internal.h"

static enum dft_err
objects_dir(const struct dft_vault *v, char *out, size_t max, struct dft_error *err)
{
    if (vault_objects_path(v->dir, v->header_path, out, max, NULL) != DFT_OK) {
        return dft_fail(err, DFT_ERR_INPUT, "vault path is too long");
    }
    return DFT_OK;
}

/* New objects of a camouflaged vault get camouflaged headers (docs/evidence-format.md). */
static void
mark_camouflage(struct dft_vault *v)
{
    struct vault_layout l;
    vault_layout_of_header(v->header_path, &l);
    v->keys->camouflage = l.stem[0] != '\0';
}

static const char *
base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s != NULL && s[1] != '\0' ? s + 1 : path;
}

static void
remove_object(const struct dft_vault *v, const char *hex)
{
    char dir[PATH_MAX];
    if (objects_dir(v, dir, sizeof dir, NULL) == DFT_OK) {
        (void)evidence_remove(dir, hex);
    }
}

/* DFT_OK when id is a live record of one of the 8 types (evidence attaches to those only). */
static enum dft_err
check_record(struct dft_vault *v, const char *record, struct dft_error *err)
{
    json_t *rec = NULL;
    enum dft_err rc = dft_vault_show(v, record, 0, &rec, err);
    if (rc != DFT_OK) {
        return rc;
    }
    const char *type = json_string_value(json_object_get(rec, "type"));
    if (type == NULL || !dft_record_type_valid(type)) {
        rc = dft_fail(err, DFT_ERR_INPUT, "'%s' is not a record (evidence attaches to records)",
                      record);
    }
    json_decref(rec);
    return rc;
}

/* The object id and recorded SHA-256 of evidence evid. */
static enum dft_err
evidence_row(struct dft_vault *v, const char *evid, char object[DFT_OBJECT_HEX_BYTES],
             unsigned char sha[DFT_HASH_BYTES], struct dft_error *err)
{
    json_t *ev = NULL;
    enum dft_err rc = dft_vault_show(v, evid, 0, &ev, err);
    if (rc != DFT_OK) {
        return rc;
    }
    const char *type = json_string_value(json_object_get(ev, "type"));
    const char *obj = json_string_value(json_object_get(ev, "object"));
    const char *sha_hex = json_string_value(json_object_get(ev, "sha256"));
    if (type == NULL || strcmp(type, "evidence") != 0) {
        rc = dft_fail(err, DFT_ERR_INPUT, "'%s' is not evidence", evid);
    } else if (obj == NULL || strlen(obj) + 1 != DFT_OBJECT_HEX_BYTES || sha_hex == NULL ||
               strlen(sha_hex) != 64 || dft_hex_decode(sha, DFT_HASH_BYTES, sha_hex) != DFT_OK) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "evidence '%s' has a damaged record", evid);
    } else {
        memcpy(object, obj, DFT_OBJECT_HEX_BYTES);
    }
    json_decref(ev);
    return rc;
}

/* The "evidence" operation recording info on record as evid named name, appended to ops. */
static enum dft_err
evidence_op(json_t *ops, const char *record, const char *evid, const char *name,
            const struct dft_evidence_info *info, struct dft_error *err)
{
    if (name == NULL || name[0] == '\0' || !dft_utf8_valid(name, strlen(name))) {
        name = "(name not UTF-8)";
    }
    json_t *meta = info->meta != NULL ? json_incref(info->meta) : json_object();
    json_t *fields =
        json_pack("{ss ss ss sI ss ss so}", "evidence_id", evid, "object", info->object, "sha256",
                  info->sha256_hex, "size", (json_int_t)info->size, "name", name, "mime",
                  info->mime, "meta", meta);
    json_t *op = fields == NULL ? NULL
                                : json_pack("{ss ss ss so}", "record", record, "action", "evidence",
                                            "to", evid, "fields", fields);
    if (op == NULL || json_array_append_new(ops, op) != 0) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    return DFT_OK;
}

static json_t *
result_row(const char *evid, const struct dft_evidence_info *info)
{
    return json_pack("{ss ss sI}", "id", evid, "sha256", info->sha256_hex, "size",
                     (json_int_t)info->size);
}

enum dft_err
dft_vault_attach(struct dft_vault *v, const char *record, const char *const *paths, size_t n,
                 dft_progress_fn progress, void *pctx, json_t **out, struct dft_error *err)
{
    enum dft_err rc;
    char objdir[PATH_MAX];
    json_t *ops = NULL, *result = NULL;
    struct dft_evidence_info *infos = NULL;
    size_t done = 0;

    *out = NULL;
    if ((rc = objects_dir(v, objdir, sizeof objdir, err)) != DFT_OK ||
        (rc = check_record(v, record, err)) != DFT_OK) {
        return rc;
    }
    infos = calloc(n ? n : 1, sizeof *infos);
    ops = json_array();
    result = json_array();
    if (infos == NULL || ops == NULL || result == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    mark_camouflage(v);
    for (done = 0; done < n; done++) {
        rc = evidence_import(objdir, v->keys, paths[done], progress, pctx, &infos[done], err);
        if (rc != DFT_OK) {
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        char evid[DFT_ID_MAX];
        dft_vault_new_id(evid, "evd");
        rc = evidence_op(ops, record, evid, base_name(paths[i]), &infos[i], err);
        if (rc != DFT_OK) {
            goto out;
        }
        if (json_array_append_new(result, result_row(evid, &infos[i])) != 0) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            goto out;
        }
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
                remove_object(v, infos[i].object);
            }
        }
    }
    for (size_t i = 0; infos != NULL && i < n; i++) {
        evidence_info_release(&infos[i]);
    }
    free(infos);
    json_decref(ops);
    json_decref(result);
    return rc;
}

enum dft_err
dft_vault_upload_open(struct dft_vault *v, uint64_t max, struct dft_evidence_writer **out,
                      struct dft_error *err)
{
    char objdir[PATH_MAX];
    *out = NULL;
    enum dft_err rc = objects_dir(v, objdir, sizeof objdir, err);
    if (rc == DFT_OK) {
        rc = evidence_writer_open(out, objdir, max, err);
    }
    return rc;
}

enum dft_err
dft_vault_upload_finish(struct dft_vault *v, struct dft_evidence_writer *w, const char *record,
                        const char *name, json_t **out, struct dft_error *err)
{
    struct dft_evidence_info info;
    char evid[DFT_ID_MAX];
    json_t *ops = NULL, *row = NULL;

    *out = NULL;
    memset(&info, 0, sizeof info);
    enum dft_err rc = check_record(v, record, err);
    if (rc != DFT_OK) {
        dft_evidence_writer_abort(w);
        return rc;
    }
    mark_camouflage(v);
    rc = evidence_writer_finish(w, v->keys, &info, err); /* frees w */
    if (rc != DFT_OK) {
        return rc;
    }
    dft_vault_new_id(evid, "evd");
    ops = json_array();
    row = result_row(evid, &info);
    if (ops == NULL || row == NULL || json_object_set_new(row, "mime", json_string(info.mime))) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = evidence_op(ops, record, evid, name, &info, err)) != DFT_OK ||
        (rc = dft_vault_append_ops(v, ops, NULL, err)) != DFT_OK) {
        goto out;
    }
    *out = row;
    row = NULL;
out:
    if (rc != DFT_OK && info.created) {
        /* all or none: the object this upload stored goes too (older ones may be in use) */
        remove_object(v, info.object);
    }
    evidence_info_release(&info);
    json_decref(ops);
    json_decref(row);
    return rc;
}

/* One custody operation on evid: {"event", "sha256"[, "via"]}. */
static enum dft_err
custody(struct dft_vault *v, const char *evid, const char *event, const char *via,
        const unsigned char sha[DFT_HASH_BYTES], struct dft_error *err)
{
    char hex[DFT_SHA256_HEX_BYTES];
    dft_hex_encode(hex, sha, DFT_HASH_BYTES);
    json_t *fields = json_pack("{ss ss}", "event", event, "sha256", hex);
    if (fields != NULL && via != NULL && json_object_set_new(fields, "via", json_string(via))) {
        json_decref(fields);
        fields = NULL;
    }
    json_t *ops = fields == NULL ? NULL
                                 : json_pack("[{ss ss so}]", "record", evid, "action", "custody",
                                             "fields", fields);
    if (ops == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    enum dft_err rc = dft_vault_append_ops(v, ops, NULL, err);
    json_decref(ops);
    return rc;
}

enum dft_err
dft_vault_custody(struct dft_vault *v, const char *evid, const char *event, const char *via,
                  struct dft_error *err)
{
    char object[DFT_OBJECT_HEX_BYTES];
    unsigned char sha[DFT_HASH_BYTES];
    enum dft_err rc = evidence_row(v, evid, object, sha, err);
    if (rc == DFT_OK) {
        rc = custody(v, evid, event, via, sha, err);
    }
    return rc;
}

enum dft_err
dft_vault_extract(struct dft_vault *v, const char *evid, const char *out_path,
                  dft_progress_fn progress, void *pctx, unsigned char sha_out[DFT_HASH_BYTES],
                  struct dft_error *err)
{
    char objdir[PATH_MAX], object[DFT_OBJECT_HEX_BYTES];
    unsigned char expected[DFT_HASH_BYTES], sha[DFT_HASH_BYTES];
    enum dft_err rc;

    if ((rc = objects_dir(v, objdir, sizeof objdir, err)) != DFT_OK ||
        (rc = evidence_row(v, evid, object, expected, err)) != DFT_OK) {
        return rc;
    }
    struct dft_keys *pulled = NULL; /* another member's object: no dedup key (sync_chunks.c) */
    rc = sync_object_keys(v, object, &pulled, err);
    if (rc == DFT_OK) {
        rc = evidence_extract(objdir, pulled != NULL ? pulled : v->keys, object, expected, out_path,
                              progress, pctx, sha, err);
    }
    keys_free(pulled);
    if (rc != DFT_OK) {
        return rc;
    }
    rc = custody(v, evid, "extract", NULL, sha, err);
    if (rc != DFT_OK) {
        /* no custody record, no extracted copy */
        (void)unlink(out_path);
        return rc;
    }
    if (sha_out != NULL) {
        memcpy(sha_out, sha, sizeof sha);
    }
    return DFT_OK;
}

enum dft_err
dft_vault_evidence_open(struct dft_vault *v, const char *evid, struct dft_evidence_obj **out,
                        struct dft_error *err)
{
    char objdir[PATH_MAX], object[DFT_OBJECT_HEX_BYTES];
    unsigned char expected[DFT_HASH_BYTES], have[DFT_HASH_BYTES];
    enum dft_err rc;

    *out = NULL;
    if ((rc = objects_dir(v, objdir, sizeof objdir, err)) != DFT_OK ||
        (rc = evidence_row(v, evid, object, expected, err)) != DFT_OK) {
        return rc;
    }
    rc = evidence_open(out, objdir, v->keys, object, err);
    if (rc != DFT_OK) {
        return rc;
    }
    dft_evidence_sha256(*out, have);
    if (crypto_verify_32(expected, have) != 0) {
        dft_evidence_close(*out);
        *out = NULL;
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "the stored object of '%s' does not match its record", evid);
    }
    return DFT_OK;
}

enum dft_err
vault_verify_evidence(struct dft_vault *v, unsigned flags, json_t **report, struct dft_error *err)
{
    char objdir[PATH_MAX];
    sqlite3_stmt *st = NULL;
    long long objects = 0, evidence = 0;
    char last[DFT_OBJECT_HEX_BYTES] = "";

    *report = NULL;
    enum dft_err rc = objects_dir(v, objdir, sizeof objdir, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (sqlite3_prepare_v2(v->db,
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
            rc = evidence_verify(objdir, v->keys, object, expected, EVIDENCE_QUICK, err);
        } else {
            objects++;
            rc = evidence_verify(objdir, v->keys, object, expected, flags, err);
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
                        (json_int_t)evidence, "quick", (flags & EVIDENCE_QUICK) != 0);
    if (*report == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
out:
    sqlite3_finalize(st);
    return rc;
}
