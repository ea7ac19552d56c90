/*
 * api_daily.c - the daily-work routes of the JSON API: schema, filtered lists, readable history,
 * restore, CSV import and CSV/JSON export.
 *
 * Called by api.c after its own routes, with the vault unlocked and ui.c's security checks
 * passed. Never logs request data; export bodies are wiped after sending.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "defter/model.h"
#include "defter/vault.h"
#include "server/ui_internal.h"

struct args {
    json_t *query; /* {"where":{...}, "sort", "from", "to", "deleted"} */
    json_t *map;   /* import: {COLUMN: FIELD} */
    int bad;
};

static enum MHD_Result
collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    struct args *a = cls;
    if (value == NULL || !dft_utf8_valid(value, strlen(value)) ||
        !dft_utf8_valid(key, strlen(key))) {
        a->bad = 1;
        return MHD_YES;
    }
    if (strncmp(key, "w.", 2) == 0 && key[2] != '\0') {
        json_object_set_new(json_object_get(a->query, "where"), key + 2, json_string(value));
    } else if (strncmp(key, "m.", 2) == 0 && key[2] != '\0') {
        json_object_set_new(a->map, key + 2, json_string(value));
    } else if ((strcmp(key, "sort") == 0 || strcmp(key, "from") == 0 || strcmp(key, "to") == 0) &&
               value[0] != '\0') {
        json_object_set_new(a->query, key, json_string(value));
    } else if (strcmp(key, "deleted") == 0 && strcmp(value, "1") == 0) {
        json_object_set_new(a->query, "deleted", json_true());
    }
    return MHD_YES;
}

static const char *
type_arg(struct MHD_Connection *c, int *bad)
{
    const char *type = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "type");
    if (type != NULL && type[0] == '\0') {
        type = NULL;
    }
    *bad = type != NULL && !dft_record_type_valid(type);
    return type;
}

static enum MHD_Result
api_list_query(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r, int export_format)
{
    struct args a = {json_pack("{s{}}", "where"), json_object(), 0};
    int badtype = 0;
    const char *type = type_arg(c, &badtype);
    struct dft_error e;
    json_t *out = NULL;
    enum MHD_Result ret;
    dft_error_clear(&e);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect, &a);
    if (badtype || a.bad) {
        ret = ui_send_error(c, r, 400, badtype ? "unknown record type" : "bad query");
    } else if (dft_vault_list_query(ui->vault, type, a.query, &out, &e) != DFT_OK) {
        ret = ui_send_dft_error(c, r, &e);
    } else if (export_format == 'c') {
        struct dft_buf b;
        dft_buf_init(&b, (size_t)1 << 32, 1);
        if (dft_csv_export(out, &b, &e) != DFT_OK) {
            ret = ui_send_dft_error(c, r, &e);
        } else {
            ret = ui_send(c, r, 200, "text/csv; charset=utf-8",
                          b.data != NULL ? (const char *)b.data : "", b.len, 1);
        }
        dft_buf_release(&b);
        json_decref(out);
    } else {
        ret = ui_send_json(c, r, 200, json_pack("{s:o}", "records", out));
    }
    json_decref(a.query);
    json_decref(a.map);
    return ret;
}

static enum MHD_Result
api_import(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r)
{
    struct args a = {json_pack("{s{}}", "where"), json_object(), 0};
    int badtype = 0;
    const char *type = type_arg(c, &badtype);
    const char *dry = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "dry_run");
    struct dft_error e;
    json_t *ids = NULL;
    enum MHD_Result ret;
    dft_error_clear(&e);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect, &a);
    if (type == NULL || badtype || a.bad) {
        ret = ui_send_error(c, r, 400, "give a record type");
    } else if (r->body.len == 0) {
        ret = ui_send_error(c, r, 400, "empty file");
    } else if (dft_csv_import(ui->vault, (const char *)r->body.data, r->body.len, type, a.map,
                              dry != NULL && strcmp(dry, "1") == 0, &ids, &e) != DFT_OK) {
        ret = ui_send_dft_error(c, r, &e);
    } else {
        ret = ui_send_json(
            c, r, dry != NULL ? 200 : 201,
            json_pack("{s:I, s:O}", "count", (json_int_t)json_array_size(ids), "ids", ids));
    }
    json_decref(ids);
    json_decref(a.query);
    json_decref(a.map);
    return ret;
}

enum MHD_Result
dft_ui_api_daily(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r, const char *method,
                 const char *rest)
{
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int post = strcmp(method, "POST") == 0;
    struct dft_error e;
    json_t *out = NULL;
    dft_error_clear(&e);
    if (strcmp(rest, "schema") == 0 && get) {
        r->route = "api/schema";
        if (dft_schema_get(ui->vault, NULL, &out, &e) != DFT_OK) {
            return ui_send_dft_error(c, r, &e);
        }
        return ui_send_json(c, r, 200, out);
    }
    if (strcmp(rest, "list") == 0 && get) {
        r->route = "api/list";
        return api_list_query(ui, c, r, 0);
    }
    if (strcmp(rest, "export") == 0 && get) {
        const char *fmt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
        r->route = "api/export";
        return api_list_query(ui, c, r, fmt != NULL && strcmp(fmt, "csv") == 0 ? 'c' : 0);
    }
    if (strcmp(rest, "import") == 0 && post) {
        r->route = "api/import";
        return api_import(ui, c, r);
    }
    if (strncmp(rest, "records/", 8) == 0) {
        const char *id = rest + 8;
        const char *slash = strchr(id, '/');
        char idbuf[DFT_ID_MAX];
        if (slash != NULL && ui_id_ok(id, (size_t)(slash - id))) {
            memcpy(idbuf, id, (size_t)(slash - id));
            idbuf[slash - id] = '\0';
            if (strcmp(slash, "/restore") == 0 && post) {
                r->route = "api/records/:id/restore";
                if (dft_vault_restore(ui->vault, idbuf, &e) != DFT_OK) {
                    return ui_send_dft_error(c, r, &e);
                }
                return ui_send_json(c, r, 200, json_pack("{s:s}", "id", idbuf));
            }
            if (strcmp(slash, "/history") == 0 && get) {
                r->route = "api/records/:id/history";
                if (dft_vault_history(ui->vault, idbuf, &out, &e) != DFT_OK) {
                    return ui_send_dft_error(c, r, &e);
                }
                return ui_send_json(c, r, 200, json_pack("{s:o}", "history", out));
            }
        }
    }
    r->route = "api/unknown";
    return ui_send_error(c, r, 404, "no such API");
}
