/*
 * csv.c - spreadsheets in and out: CSV (RFC 4180) parsed and written by libcsv, records checked
 * against the schema row by row, imported in one envelope or not at all.
 *
 * Never writes a file: export appends to a caller's buffer, import goes through dft_vault_add.
 * Errors name the row (1 = the header row) and the column.
 */
#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defter/model.h"
#include "vault/schema.h"
#include "vault/vault_internal.h"

#define CSV_ROWS_MAX    DFT_BATCH_MAX
#define CSV_COLUMNS_MAX 512

struct parse_state {
    json_t *rows; /* arrays of strings */
    json_t *row;  /* the row being read */
    size_t line;  /* rows seen */
    enum dft_err rc;
    struct dft_error *err;
};

static void
on_field(void *s, size_t len, void *data)
{
    struct parse_state *ps = data;
    if (ps->rc != DFT_OK) {
        return;
    }
    if (ps->row == NULL) {
        ps->row = json_array();
    }
    const char *text = s != NULL ? s : "";
    /* a UTF-8 byte order mark at the very start belongs to no column */
    if (ps->line == 0 && json_array_size(ps->row) == 0 && len >= 3 &&
        memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        text += 3;
        len -= 3;
    }
    if (!dft_utf8_valid(text, len)) {
        ps->rc = dft_fail(ps->err, DFT_ERR_INPUT, "row %zu, column %zu: not valid UTF-8 text",
                          ps->line + 1, json_array_size(ps->row) + 1);
        return;
    }
    if (json_array_size(ps->row) >= CSV_COLUMNS_MAX) {
        ps->rc = dft_fail(ps->err, DFT_ERR_TOO_LARGE, "row %zu has more than %d columns",
                          ps->line + 1, CSV_COLUMNS_MAX);
        return;
    }
    json_array_append_new(ps->row, json_stringn(text, len));
}

static void
on_row(int c, void *data)
{
    (void)c;
    struct parse_state *ps = data;
    if (ps->rc != DFT_OK) {
        return;
    }
    if (ps->row == NULL) {
        ps->row = json_array();
    }
    ps->line++;
    if (ps->line > CSV_ROWS_MAX) {
        ps->rc = dft_fail(ps->err, DFT_ERR_TOO_LARGE, "more than %d rows", CSV_ROWS_MAX);
        return;
    }
    json_array_append_new(ps->rows, ps->row);
    ps->row = NULL;
}

/* Rows as arrays of strings. */
static enum dft_err
parse_rows(const char *text, size_t len, json_t **out, struct dft_error *err)
{
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    struct parse_state ps = {json_array(), NULL, 0, DFT_OK, err};
    if (ps.rows == NULL) {
        csv_free(&p);
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (csv_parse(&p, text, len, on_field, on_row, &ps) != len && ps.rc == DFT_OK) {
        ps.rc = dft_fail(err, DFT_ERR_INPUT, "row %zu: %s (check the quotes)", ps.line + 1,
                         csv_strerror(csv_error(&p)));
    }
    if (ps.rc == DFT_OK && csv_fini(&p, on_field, on_row, &ps) != 0 && ps.rc == DFT_OK) {
        ps.rc = dft_fail(err, DFT_ERR_INPUT, "row %zu: %s (a quote is not closed)", ps.line + 1,
                         csv_strerror(csv_error(&p)));
    }
    csv_free(&p);
    json_decref(ps.row);
    if (ps.rc != DFT_OK) {
        json_decref(ps.rows);
        return ps.rc;
    }
    *out = ps.rows;
    return DFT_OK;
}

enum dft_err
dft_csv_parse(const char *text, size_t len, json_t **rows_out, struct dft_error *err)
{
    json_t *rows = NULL;
    enum dft_err rc = parse_rows(text, len, &rows, err);
    if (rc != DFT_OK) {
        return rc;
    }
    json_t *header = json_array_get(rows, 0);
    json_t *out = json_array();
    for (size_t r = 1; r < json_array_size(rows); r++) {
        json_t *row = json_array_get(rows, r);
        json_t *o = json_object();
        for (size_t c = 0; c < json_array_size(row) && c < json_array_size(header); c++) {
            json_object_set(o, json_string_value(json_array_get(header, c)),
                            json_array_get(row, c));
        }
        json_array_append_new(out, o);
    }
    json_decref(rows);
    *rows_out = out;
    return DFT_OK;
}

/* A cell of a list field: "a; b; c" becomes ["a","b","c"]. */
static json_t *
cell_value(const char *kind, const char *s)
{
    if (kind == NULL || strcmp(kind, "list") != 0 || strstr(s, "; ") == NULL) {
        return json_string(s);
    }
    json_t *arr = json_array();
    const char *p = s;
    for (;;) {
        const char *e = strstr(p, "; ");
        size_t n = e != NULL ? (size_t)(e - p) : strlen(p);
        if (n > 0) {
            json_array_append_new(arr, json_stringn(p, n));
        }
        if (e == NULL) {
            break;
        }
        p = e + 2;
    }
    return arr;
}

enum dft_err
dft_csv_import(struct dft_vault *v, const char *text, size_t len, const char *type,
               const json_t *map, int dry_run, json_t **ids_out, struct dft_error *err)
{
    if (!dft_record_type_valid(type)) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "unknown record type '%.40s' (case, person, event, proceeding, source, "
                        "note, place, organization)",
                        type);
    }
    if (v == NULL && !dry_run) {
        return dft_fail(err, DFT_ERR_USAGE, "an import needs a vault");
    }
    json_t *rows = NULL;
    enum dft_err rc = parse_rows(text, len, &rows, err);
    if (rc != DFT_OK) {
        return rc;
    }
    json_t *items = json_array();
    json_t *fields = json_array(); /* field per column; null: skipped */
    json_t *header = json_array_get(rows, 0);
    const char *key;
    json_t *val;
    if (json_array_size(rows) < 2) {
        rc = dft_fail(err, DFT_ERR_INPUT, "no rows to import (the first row names the columns)");
        goto out;
    }
    json_object_foreach((json_t *)(uintptr_t)map, key, val)
    {
        int found = 0;
        size_t c;
        json_t *h;
        json_array_foreach(header, c, h)
        {
            found |= strcmp(json_string_value(h), key) == 0;
        }
        if (!found) {
            rc = dft_fail(err, DFT_ERR_INPUT, "--map names a column '%.64s' that the file has not",
                          key);
            goto out;
        }
    }
    size_t c;
    json_t *h;
    json_array_foreach(header, c, h)
    {
        const char *col = json_string_value(h);
        const char *field = json_string_value(json_object_get(map, col));
        if (field == NULL) {
            field = col;
        }
        int is_title_col = strcmp(field, "title") == 0 && schema_field_kind(type, "title") == NULL;
        if (strcmp(field, "-") == 0 || strcmp(field, "id") == 0 || strcmp(field, "type") == 0 ||
            strcmp(field, "created") == 0 || strcmp(field, "updated") == 0 || is_title_col) {
            json_array_append_new(fields, json_null()); /* columns of an export; not fields */
            continue;
        }
        if (field[0] == '\0') {
            rc = dft_fail(err, DFT_ERR_INPUT, "row 1, column %zu has no name (use --map)", c + 1);
            goto out;
        }
        struct dft_error ferr = {DFT_OK, ""};
        if (schema_field_known(v, type, field, &ferr) != DFT_OK) {
            /* the message names the field; say which column it is */
            rc = dft_fail(err, ferr.code, "row 1, column %zu ('%.64s'): %s", c + 1, col, ferr.msg);
            goto out;
        }
        json_array_append_new(fields, json_string(field));
    }
    for (size_t r = 1; r < json_array_size(rows); r++) {
        json_t *row = json_array_get(rows, r);
        if (json_array_size(row) == 1 && json_string_length(json_array_get(row, 0)) == 0) {
            continue; /* an empty line */
        }
        if (json_array_size(row) > json_array_size(header)) {
            rc = dft_fail(err, DFT_ERR_INPUT, "row %zu has %zu columns, the header %zu", r + 1,
                          json_array_size(row), json_array_size(header));
            goto out;
        }
        json_t *item = json_pack("{ss}", "type", type);
        json_array_foreach(row, c, val)
        {
            const char *field = json_string_value(json_array_get(fields, c));
            const char *cell = json_string_value(val);
            if (field == NULL || cell[0] == '\0') {
                continue;
            }
            json_object_set_new(item, field, cell_value(schema_field_kind(type, field), cell));
        }
        json_array_append_new(items, item);
        /* check this row alone, so that an error names it */
        json_t *one = json_pack("[O]", item), *ops = NULL;
        struct dft_error rerr = {DFT_OK, ""};
        int noop = 0;
        enum dft_err e = dft_vault_check_items(one, &ops, NULL, &rerr);
        if (e == DFT_OK) {
            e = schema_check_ops(v, ops, &noop, &rerr);
        }
        json_decref(one);
        json_decref(ops);
        if (e != DFT_OK) {
            /* the column whose field the message names */
            const char *col = NULL;
            json_array_foreach(fields, c, val)
            {
                char quoted[80];
                const char *f = json_string_value(val);
                snprintf(quoted, sizeof quoted, "'%s'", f != NULL ? f : "");
                if (f != NULL && col == NULL && strstr(rerr.msg, quoted) != NULL) {
                    col = json_string_value(json_array_get(header, c));
                }
            }
            if (col != NULL) {
                rc = dft_fail(err, e, "row %zu, column '%.64s': %s", r + 1, col, rerr.msg);
            } else {
                rc = dft_fail(err, e, "row %zu: %s", r + 1, rerr.msg);
            }
            goto out;
        }
    }
    if (json_array_size(items) == 0) {
        rc = dft_fail(err, DFT_ERR_INPUT, "no rows to import");
        goto out;
    }
    if (dry_run) {
        if (ids_out != NULL) {
            *ids_out = json_array();
            for (size_t i = 0; i < json_array_size(items); i++) {
                json_array_append_new(*ids_out, json_null());
            }
        }
        goto out;
    }
    json_t *ids = NULL;
    rc = dft_vault_add(v, items, &ids, err);
    if (rc == DFT_OK && ids_out != NULL) {
        *ids_out = ids;
    } else {
        json_decref(ids);
    }
out:
    json_decref(items);
    json_decref(fields);
    json_decref(rows);
    return rc;
}

/* ---- export ---- */

static enum dft_err
put_cell(struct dft_buf *out, const char *s, int first, struct dft_error *err)
{
    size_t n = strlen(s);
    size_t need = csv_write(NULL, 0, s, n);
    char *tmp = malloc(need + 1);
    if (tmp == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    csv_write(tmp, need, s, n);
    enum dft_err rc = first ? DFT_OK : dft_buf_add(out, ",", 1);
    if (rc == DFT_OK) {
        rc = dft_buf_add(out, tmp, need);
    }
    free(tmp);
    return rc != DFT_OK ? dft_fail(err, rc, "the export is too large") : DFT_OK;
}

static enum dft_err
value_text(const json_t *v, struct dft_buf *b, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    if (json_is_string(v)) {
        rc = dft_buf_adds(b, json_string_value(v));
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach((json_t *)(uintptr_t)v, i, x)
        {
            if (i > 0 && (rc = dft_buf_adds(b, "; ")) != DFT_OK) {
                break;
            }
            if ((rc = value_text(x, b, err)) != DFT_OK) {
                return rc;
            }
        }
    } else if (v != NULL) {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        rc = s != NULL ? dft_buf_adds(b, s) : DFT_ERR_NOMEM;
        dft_json_string_free(s);
    }
    return rc != DFT_OK ? dft_fail(err, rc, "cannot write the export") : DFT_OK;
}

enum dft_err
dft_csv_export(const json_t *records, struct dft_buf *out, struct dft_error *err)
{
    json_t *cols = json_array();
    json_t *seen = json_object();
    size_t i;
    json_t *r;
    enum dft_err rc = DFT_OK;
    json_array_foreach((json_t *)(uintptr_t)records, i, r)
    {
        const char *k;
        json_t *x;
        json_object_foreach(json_object_get(r, "fields"), k, x)
        {
            if (json_object_get(seen, k) == NULL && strcmp(k, "title") != 0) {
                json_object_set_new(seen, k, json_true());
                json_array_append_new(cols, json_string(k));
            }
        }
    }
    static const char *const fixed[] = {"id", "type", "title"};
    for (size_t c = 0; c < 3 && rc == DFT_OK; c++) {
        rc = put_cell(out, fixed[c], c == 0, err);
    }
    json_t *col;
    json_array_foreach(cols, i, col)
    {
        if (rc == DFT_OK) {
            rc = put_cell(out, json_string_value(col), 0, err);
        }
    }
    if (rc == DFT_OK) {
        rc = dft_buf_add(out, "\r\n", 2);
    }
    struct dft_buf cell;
    dft_buf_init(&cell, DFT_FIELD_VALUE_MAX * 4, 0);
    json_array_foreach((json_t *)(uintptr_t)records, i, r)
    {
        if (rc != DFT_OK) {
            break;
        }
        const json_t *f = json_object_get(r, "fields");
        for (size_t c = 0; c < 3 && rc == DFT_OK; c++) {
            const json_t *v = c == 2 && json_object_get(f, "title") != NULL
                                  ? json_object_get(f, "title")
                                  : json_object_get(r, fixed[c]);
            dft_buf_reset(&cell);
            rc = value_text(v, &cell, err);
            if (rc == DFT_OK && (rc = dft_buf_add(&cell, "", 1)) == DFT_OK) {
                rc = put_cell(out, (const char *)cell.data, c == 0, err);
            }
        }
        size_t k;
        json_array_foreach(cols, k, col)
        {
            if (rc != DFT_OK) {
                break;
            }
            dft_buf_reset(&cell);
            rc = value_text(json_object_get(f, json_string_value(col)), &cell, err);
            if (rc == DFT_OK && (rc = dft_buf_add(&cell, "", 1)) == DFT_OK) {
                rc = put_cell(out, (const char *)cell.data, 0, err);
            }
        }
        if (rc == DFT_OK) {
            rc = dft_buf_add(out, "\r\n", 2);
        }
    }
    dft_buf_release(&cell);
    json_decref(cols);
    json_decref(seen);
    if (rc != DFT_OK && err != NULL && err->code == DFT_OK) {
        return dft_fail(err, rc, "the export is too large");
    }
    return rc;
}
