/*
 * api.c - the JSON API of `defter ui` under /api/: session, records, links, search, log,
 * verify, lock and unlock, on top of the vault API.
 *
 * Runs only after ui.c's security checks passed (session; Origin and CSRF for POST/PATCH),
 * always on the server thread. It must never log request data, keep a passphrase outside
 * secure memory longer than the unlock call, or change the vault when a request is refused.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "defter/vault.h"
#include "server/api_coercion.h"
#include "server/api_panic.h"
#include "server/ui_internal.h"

#define SEARCH_LIMIT_DEFAULT 50
#define SEARCH_LIMIT_MAX     500

/* Ids are short ASCII tokens; anything else cannot name a record. */
int
ui_id_ok(const char *s, size_t n)
{
    if (n == 0 || n >= DFT_ID_MAX) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '_' || ch == '-';
        if (!ok) {
            return 0;
        }
    }
    return 1;
}

/* Parse the body as one JSON object; NULL (and a 400 queued) otherwise. */
static json_t *
body_object(struct MHD_Connection *c, struct ui_req *r, enum MHD_Result *ret)
{
    json_error_t jerr;
    json_t *j;
    if (r->body.len == 0) {
        *ret = ui_send_error(c, r, 400, "empty request body");
        return NULL;
    }
    j = json_loadb((const char *)r->body.data, r->body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) {
        *ret = ui_send_error(c, r, 400, "malformed JSON");
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        *ret = ui_send_error(c, r, 400, "expected a JSON object");
        return NULL;
    }
    return j;
}

static enum MHD_Result
api_session(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r)
{
    json_t *types = json_array();
    const char *const *t = dft_record_types();
    for (size_t i = 0; types != NULL && t[i] != NULL; i++) {
        (void)json_array_append_new(types, json_string(t[i]));
    }
    return ui_send_json(c, r, 200,
                        json_pack("{s:s, s:b, s:o*, s:b}", "csrf", ui->sec->csrf, "locked",
                                  ui->vault == NULL, "types", types, "cover", ui_cover(ui)));
}

static enum MHD_Result
api_lock(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r)
{
    dft_vault_close(ui->vault); /* wipes every key */
    ui->vault = NULL;
    ui->lock_gen++; /* uploads and evidence streams begun before stop */
    ui_seen_clear(ui);
    dft_log(DFT_LOG_INFO, "ui: vault locked");
    return ui_send_json(c, r, 200, json_pack("{s:b}", "locked", 1));
}

static enum MHD_Result
api_unlock(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r)
{
    struct dft_error e;
    struct dft_vault *v = NULL;
    enum dft_err rc;
    dft_error_clear(&e);
    if (ui->vault != NULL) {
        return ui_send_json(c, r, 200, json_pack("{s:b}", "locked", 0));
    }
    if (r->body.len == 0) {
        return ui_send_error(c, r, 400, "empty passphrase");
    }
    /* the body is the passphrase itself, in secure memory (no JSON copy in the heap) */
    rc = dft_vault_open(&v, ui->dir, (const char *)r->body.data, r->body.len, &e);
    sodium_memzero(r->body.data, r->body.len);
    if (rc != DFT_OK) {
        return ui_send_dft_error(c, r, &e);
    }
    ui->vault = v;
    dft_log(DFT_LOG_INFO, "ui: vault unlocked");
    return ui_send_json(c, r, 200, json_pack("{s:b}", "locked", 0));
}

static enum MHD_Result
api_list(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r)
{
    const char *type = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "type");
    struct dft_error e;
    json_t *out = NULL;
    dft_error_clear(&e);
    if (type != NULL && type[0] == '\0') {
        type = NULL;
    }
    if (type != NULL && !dft_record_type_valid(type)) {
        return ui_send_error(c, r, 400, "unknown record type");
    }
    if (dft_vault_list(ui->vault, type, &out, &e) != DFT_OK) {
        return ui_send_dft_error(c, r, &e);
    }
    return ui_send_json(c, r, 200, json_pack("{s:o}", "records", out));
}

static enum MHD_Result
api_add(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r)
{
    enum MHD_Result ret = MHD_NO;
    struct dft_error e;
    json_t *item, *items = NULL, *ids = NULL;
    dft_error_clear(&e);
    item = body_object(c, r, &ret);
    if (item == NULL) {
        return ret;
    }
    items = json_array();
    if (items == NULL || json_array_append_new(items, item) != 0) {
        json_decref(items);
        return ui_send_error(c, r, 500, "out of memory");
    }
    if (dft_vault_add(ui->vault, items, &ids, &e) != DFT_OK) {
        ret = ui_send_dft_error(c, r, &e);
    } else {
        ret = ui_send_json(c, r, 201, json_pack("{s:O}", "id", json_array_get(ids, 0)));
    }
    json_decref(ids);
    json_decref(items);
    return ret;
}

static enum MHD_Result
api_show(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r, const char *id)
{
    struct dft_error e;
    json_t *out = NULL;
    dft_error_clear(&e);
    if (dft_vault_show(ui->vault, id, DFT_SHOW_HISTORY, &out, &e) != DFT_OK) {
        return ui_send_dft_error(c, r, &e);
    }
    return ui_send_json(c, r, 200, out);
}

static enum MHD_Result
api_edit(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r, const char *id)
{
    enum MHD_Result ret = MHD_NO;
    struct dft_error e;
    json_t *fields;
    dft_error_clear(&e);
    fields = body_object(c, r, &ret);
    if (fields == NULL) {
        return ret;
    }
    if (json_object_size(fields) == 0) {
        ret = ui_send_error(c, r, 400, "no fields to change");
    } else if (dft_vault_edit(ui->vault, id, fields, &e) != DFT_OK) {
        ret = ui_send_dft_error(c, r, &e);
    } else {
        ret = ui_send_json(c, r, 200, json_pack("{s:s}", "id", id));
    }
    json_decref(fields);
    return ret;
}

static enum MHD_Result
api_delete(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r, const char *id)
{
    struct dft_error e;
    dft_error_clear(&e);
    if (dft_vault_delete(ui->vault, id, &e) != DFT_OK) {
        return ui_send_dft_error(c, r, &e);
    }
    return ui_send_json(c, r, 200, json_pack("{s:s}", "id", id));
}

static enum MHD_Result
api_link(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r)
{
    enum MHD_Result ret = MHD_NO;
    struct dft_error e;
    char id[DFT_ID_MAX];
    json_t *j;
    const char *from, *to, *role;
    dft_error_clear(&e);
    j = body_object(c, r, &ret);
    if (j == NULL) {
        return ret;
    }
    from = json_string_value(json_object_get(j, "from"));
    to = json_string_value(json_object_get(j, "to"));
    role = json_string_value(json_object_get(j, "role"));
    if (from == NULL || to == NULL || role == NULL || role[0] == '\0') {
        ret = ui_send_error(c, r, 400, "a link needs \"from\", \"to\" and \"role\"");
    } else if (!ui_id_ok(from, strlen(from)) || !ui_id_ok(to, strlen(to))) {
        ret = ui_send_error(c, r, 404, "no such record");
    } else if (dft_vault_link(ui->vault, from, to, role, id, &e) != DFT_OK) {
        ret = ui_send_dft_error(c, r, &e);
    } else {
        ret = ui_send_json(c, r, 201, json_pack("{s:s}", "id", id));
    }
    json_decref(j);
    return ret;
}

static enum MHD_Result
api_search(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r)
{
    const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "q");
    const char *type = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "type");
    const char *lim = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
    unsigned long long limit = SEARCH_LIMIT_DEFAULT;
    struct dft_error e;
    json_t *out = NULL;
    dft_error_clear(&e);
    if (q == NULL || q[0] == '\0') {
        return ui_send_error(c, r, 400, "empty query");
    }
    if (!dft_utf8_valid(q, strlen(q))) {
        return ui_send_error(c, r, 400, "the query is not valid UTF-8 text");
    }
    if (type != NULL && type[0] == '\0') {
        type = NULL;
    }
    if (type != NULL && !dft_record_type_valid(type)) {
        return ui_send_error(c, r, 400, "unknown record type");
    }
    if (lim != NULL && lim[0] != '\0') {
        char *end = NULL;
        limit = strtoull(lim, &end, 10);
        if (*end != '\0' || lim[0] == '-' || limit == 0 || limit > SEARCH_LIMIT_MAX) {
            return ui_send_error(c, r, 400, "bad \"limit\"");
        }
    }
    if (dft_vault_search(ui->vault, q, type, (size_t)limit, &out, &e) != DFT_OK) {
        return ui_send_dft_error(c, r, &e);
    }
    return ui_send_json(c, r, 200, out);
}

static enum MHD_Result
api_log(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r)
{
    const char *since = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
    unsigned long long n = 0;
    struct dft_error e;
    json_t *out = NULL;
    dft_error_clear(&e);
    if (since != NULL && since[0] != '\0') {
        char *end = NULL;
        n = strtoull(since, &end, 10);
        if (*end != '\0' || since[0] == '-') {
            return ui_send_error(c, r, 400, "bad \"since\"");
        }
    }
    if (dft_vault_log(ui->vault, (uint64_t)n, 0, &out, &e) != DFT_OK) {
        return ui_send_dft_error(c, r, &e);
    }
    return ui_send_json(c, r, 200, out);
}

static enum MHD_Result
api_verify(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r)
{
    struct dft_error e;
    json_t *out = NULL;
    dft_error_clear(&e);
    if (dft_vault_verify(ui->vault, 0, &out, &e) != DFT_OK) {
        /* an integrity failure is an answer, not a server error */
        return ui_send_json(
            c, r, 200,
            json_pack("{s:b, s:s}", "ok", 0, "error", e.msg[0] ? e.msg : dft_strerror(e.code)));
    }
    return ui_send_json(c, r, 200, out);
}

static enum MHD_Result
api_identity(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r)
{
    struct dft_error e;
    json_t *out = NULL;
    dft_error_clear(&e);
    if (dft_vault_identity(ui->vault, &out, &e) != DFT_OK) {
        return ui_send_dft_error(c, r, &e);
    }
    return ui_send_json(c, r, 200, out);
}

enum MHD_Result
ui_api(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r, const char *method,
       const char *path)
{
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int post = strcmp(method, "POST") == 0;
    int patch = strcmp(method, "PATCH") == 0;
    const char *rest = path + 5; /* after "/api/" */

    if (strcmp(rest, "session") == 0 && get) {
        r->route = "api/session";
        return api_session(ui, c, r);
    }
    if (strcmp(rest, "lock") == 0 && post) {
        r->route = "api/lock";
        return api_lock(ui, c, r);
    }
    if (strcmp(rest, "unlock") == 0 && post) {
        r->route = "api/unlock";
        return api_unlock(ui, c, r);
    }
    if (strcmp(rest, "panic") == 0 && post) { /* works locked: api_panic.c */
        r->route = "api/panic";
        return ui_api_panic(ui, c, r);
    }
    if (strncmp(rest, "safety/", 7) == 0 && post) { /* the Safety page: api_coercion.c */
        return ui_api_safety(ui, c, r, rest + 7);
    }
    r->route = "api/locked";
    if (ui->vault == NULL) {
        return ui_send_json(c, r, 423,
                            json_pack("{s:s, s:b}", "error", "the vault is locked", "locked", 1));
    }
    if (strcmp(rest, "records") == 0) {
        r->route = "api/records";
        if (get) {
            return api_list(ui, c, r);
        }
        if (post) {
            return api_add(ui, c, r);
        }
    } else if (strncmp(rest, "records/", 8) == 0) {
        const char *id = rest + 8;
        const char *slash = strchr(id, '/');
        size_t idlen = slash ? (size_t)(slash - id) : strlen(id);
        char idbuf[DFT_ID_MAX];
        r->route = "api/records/:id";
        if (!ui_id_ok(id, idlen)) {
            return ui_send_error(c, r, 404, "no such record");
        }
        memcpy(idbuf, id, idlen);
        idbuf[idlen] = '\0';
        if (slash == NULL) {
            if (get) {
                return api_show(ui, c, r, idbuf);
            }
            if (post || patch) {
                return api_edit(ui, c, r, idbuf);
            }
        } else if (strcmp(slash, "/delete") == 0 && post) {
            r->route = "api/records/:id/delete";
            return api_delete(ui, c, r, idbuf);
        } else if (strcmp(slash, "/proof") == 0 && get) {
            const char *dl = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "download");
            r->route = "api/records/:id/proof";
            return ui_proof(ui, c, r, idbuf, dl != NULL);
        }
    } else if (strncmp(rest, "evidence/", 9) == 0) {
        const char *id = rest + 9;
        const char *slash = strchr(id, '/');
        char idbuf[DFT_ID_MAX];
        r->route = "api/evidence/:id";
        if (slash == NULL || !ui_id_ok(id, (size_t)(slash - id))) {
            return ui_send_error(c, r, 404, "no such evidence");
        }
        memcpy(idbuf, id, (size_t)(slash - id));
        idbuf[slash - id] = '\0';
        if (strcmp(slash, "/content") == 0 && get) {
            r->route = "api/evidence/:id/content";
            return ui_evidence_content(ui, c, r, idbuf, strcmp(method, "HEAD") == 0);
        }
    } else if (strcmp(rest, "checkpoint") == 0 && get) {
        r->route = "api/checkpoint";
        return ui_checkpoint(ui, c, r);
    } else if (strcmp(rest, "links") == 0 && post) {
        r->route = "api/links";
        return api_link(ui, c, r);
    } else if (strcmp(rest, "search") == 0 && get) {
        r->route = "api/search";
        return api_search(ui, c, r);
    } else if (strcmp(rest, "log") == 0 && get) {
        r->route = "api/log";
        return api_log(ui, c, r);
    } else if (strcmp(rest, "verify") == 0 && post) {
        r->route = "api/verify";
        return api_verify(ui, c, r);
    } else if (strcmp(rest, "identity") == 0 && get) {
        r->route = "api/identity";
        return api_identity(ui, c, r);
    }
    return dft_ui_api_daily(ui, c, r, method, rest); /* api_daily.c, else 404 */
}
