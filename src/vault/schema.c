/*
 * schema.c - the case model: fields of each record type with their kinds, required fields,
 * the role vocabulary of links, ISO 8601 dates, and the check every operation passes before it
 * is signed (schema_check_ops, called once from the commit pipeline).
 *
 * Fields follow the HURIDOCS Events Standard Formats where they fit. A vault extends the
 * built-in schema by signed "schema" operations on the pseudo-record "schema"; they are read
 * back from the history table. Fields named "x-..." are the user's own and are not checked.
 * Never changes the vault except through vault_commit_ops.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defter/model.h"
#include "store/store.h"
#include "vault/schema.h"
#include "vault/vault_internal.h"

enum kind { K_TEXT, K_LONG, K_DATE, K_ENUM, K_LIST, K_REF, K_FLAG };

static const char *const kind_names[] = {"text", "longtext", "date", "enum",
                                         "list", "ref",      "flag", NULL};

struct field {
    const char *name;
    enum kind kind;
    int required;
    const char *values; /* enum: comma-separated */
};

#define END_FIELDS                                                                                 \
    {                                                                                              \
        NULL, K_TEXT, 0, NULL                                                                      \
    }

/* Fields every type has. */
static const struct field common_fields[] = {
    {"summary", K_LONG, 0, NULL},
    {"description", K_LONG, 0, NULL},
    {"tags", K_LIST, 0, NULL},
    {"comments", K_LONG, 0, NULL},
    {"merged_from", K_LIST, 0, NULL},
    /* names of the fields a public bundle may show (docs/bundle-format.md) */
    {"public", K_LIST, 0, NULL},
    END_FIELDS,
};

static const struct field case_fields[] = {
    {"title", K_TEXT, 1, NULL},
    {"case_number", K_TEXT, 0, NULL},
    {"status", K_ENUM, 0,
     "open,investigation,trial,sentenced,acquitted,appeal,cassation,echr,closed,archived"},
    {"court", K_TEXT, 0, NULL},
    {"article", K_LIST, 0, NULL},
    {"violation", K_LIST, 0, NULL},
    {"date", K_DATE, 0, NULL},
    {"end_date", K_DATE, 0, NULL},
    {"place", K_TEXT, 0, NULL},
    {"lawyer", K_TEXT, 0, NULL},
    END_FIELDS,
};

static const struct field person_fields[] = {
    {"name", K_TEXT, 1, NULL},
    {"name_variants", K_LIST, 0, NULL},
    {"birth_date", K_DATE, 0, NULL},
    {"death_date", K_DATE, 0, NULL},
    {"sex", K_ENUM, 0, "female,male,other,unknown"},
    {"ethnicity", K_TEXT, 0, NULL},
    {"citizenship", K_TEXT, 0, NULL},
    {"occupation", K_TEXT, 0, NULL},
    {"affiliation", K_LIST, 0, NULL},
    {"address", K_TEXT, 0, NULL},
    {"contact", K_TEXT, 0, NULL},
    END_FIELDS,
};

static const struct field event_fields[] = {
    {"title", K_TEXT, 0, NULL},    {"date", K_DATE, 0, NULL},
    {"end_date", K_DATE, 0, NULL}, {"date_precision", K_ENUM, 0, "exact,approximate,unknown"},
    {"place", K_TEXT, 0, NULL},    {"type_of_act", K_LIST, 0, NULL},
    {"kind", K_TEXT, 0, NULL},     {"violation", K_LIST, 0, NULL},
    {"method", K_TEXT, 0, NULL},   END_FIELDS,
};

static const struct field proceeding_fields[] = {
    {"title", K_TEXT, 0, NULL},
    {"case_number", K_TEXT, 0, NULL},
    {"article", K_LIST, 0, NULL},
    {"court", K_TEXT, 0, NULL},
    {"judge", K_TEXT, 0, NULL},
    {"prosecutor", K_TEXT, 0, NULL},
    {"investigator", K_TEXT, 0, NULL},
    {"stage", K_ENUM, 0, "investigation,pre-trial,trial,appeal,cassation,supervisory,echr,closed"},
    {"status", K_TEXT, 0, NULL},
    {"hearings", K_LIST, 0, NULL},
    {"date", K_DATE, 0, NULL},
    {"end_date", K_DATE, 0, NULL},
    {"verdict", K_TEXT, 0, NULL},
    {"sentence", K_TEXT, 0, NULL},
    END_FIELDS,
};

static const struct field source_fields[] = {
    {"title", K_TEXT, 0, NULL},
    {"source_type", K_ENUM, 0, "interview,testimony,document,media,report,social_media,other"},
    {"author", K_TEXT, 0, NULL},
    {"date", K_DATE, 0, NULL},
    {"url", K_TEXT, 0, NULL},
    {"language", K_TEXT, 0, NULL},
    {"reliability", K_ENUM, 0, "confirmed,probable,doubtful,unknown"},
    {"text", K_LONG, 0, NULL},
    END_FIELDS,
};

static const struct field note_fields[] = {
    {"title", K_TEXT, 0, NULL},
    {"text", K_LONG, 0, NULL},
    {"date", K_DATE, 0, NULL},
    {"privileged", K_FLAG, 0, NULL},
    END_FIELDS,
};

static const struct field place_fields[] = {
    {"name", K_TEXT, 0, NULL},      {"title", K_TEXT, 0, NULL},    {"address", K_TEXT, 0, NULL},
    {"region", K_TEXT, 0, NULL},    {"country", K_TEXT, 0, NULL},  {"latitude", K_TEXT, 0, NULL},
    {"longitude", K_TEXT, 0, NULL}, {"place_ref", K_REF, 0, NULL}, END_FIELDS,
};

static const struct field organization_fields[] = {
    {"name", K_TEXT, 0, NULL},          {"title", K_TEXT, 0, NULL},
    {"name_variants", K_LIST, 0, NULL}, {"org_type", K_TEXT, 0, NULL},
    {"address", K_TEXT, 0, NULL},       {"country", K_TEXT, 0, NULL},
    {"contact", K_TEXT, 0, NULL},       END_FIELDS,
};

static const struct {
    const char *type;
    const struct field *fields;
} type_fields[] = {
    {"case", case_fields},     {"person", person_fields},
    {"event", event_fields},   {"proceeding", proceeding_fields},
    {"source", source_fields}, {"note", note_fields},
    {"place", place_fields},   {"organization", organization_fields},
};

static const char *const builtin_roles[] = {
    "victim",     "defendant",    "suspect",     "witness",     "lawyer",      "judge",
    "prosecutor", "investigator", "perpetrator", "participant", "complainant", "expert",
    "relative",   "hearing",      "source",      "author",      "member",      "related",
    "location",   "part_of",      "proceeding",  "event",       "note",        NULL,
};

static const struct field *
fields_of(const char *type)
{
    for (size_t i = 0; i < sizeof type_fields / sizeof type_fields[0]; i++) {
        if (strcmp(type_fields[i].type, type) == 0) {
            return type_fields[i].fields;
        }
    }
    return NULL;
}

static const struct field *
builtin_field(const char *type, const char *name)
{
    const struct field *f = fields_of(type);
    for (; f != NULL && f->name != NULL; f++) {
        if (strcmp(f->name, name) == 0) {
            return f;
        }
    }
    for (f = common_fields; f->name != NULL; f++) {
        if (strcmp(f->name, name) == 0) {
            return f;
        }
    }
    return NULL;
}

/* ---- suggestions ---- */

/* Optimal string alignment distance: insertions, deletions, substitutions, swaps of two. */
static size_t
edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) {
        return 99;
    }
    size_t d[65][65];
    for (size_t i = 0; i <= la; i++) {
        d[i][0] = i;
    }
    for (size_t j = 0; j <= lb; j++) {
        d[0][j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            if (d[i - 1][j] + 1 < best) {
                best = d[i - 1][j] + 1;
            }
            if (d[i][j - 1] + 1 < best) {
                best = d[i][j - 1] + 1;
            }
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best) {
                best = d[i - 2][j - 2] + 1;
            }
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

struct suggest {
    const char *best;
    size_t dist;
};

static void
suggest_try(struct suggest *s, const char *want, const char *cand)
{
    size_t d = edit_distance(want, cand);
    size_t limit = strlen(want) <= 4 ? 1 : (strlen(want) <= 8 ? 2 : 3);
    if (d <= limit && (s->best == NULL || d < s->dist)) {
        s->best = cand;
        s->dist = d;
    }
}

/* ---- vault extensions ---- */

/* {"fields":{TYPE:{NAME:KIND}}, "roles":[...]} from the vault's schema operations. */
static enum dft_err
load_ext(struct dft_vault *v, json_t **out, struct dft_error *err)
{
    json_t *ext = json_pack("{s{}s[]}", "fields", "roles");
    if (ext == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (v == NULL) {
        *out = ext;
        return DFT_OK;
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        v->db, "SELECT op FROM history WHERE record='schema' ORDER BY idx, seq", -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_error_t jerr;
        json_t *op = json_loads((const char *)sqlite3_column_text(st, 0), 0, &jerr);
        const json_t *f = json_object_get(op, "fields");
        const char *what = json_string_value(json_object_get(f, "add"));
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *type = json_string_value(json_object_get(f, "type"));
        const char *kind = json_string_value(json_object_get(f, "kind"));
        if (what != NULL && name != NULL && strcmp(what, "role") == 0) {
            json_array_append_new(json_object_get(ext, "roles"), json_string(name));
        } else if (what != NULL && name != NULL && type != NULL && kind != NULL &&
                   strcmp(what, "field") == 0) {
            json_t *tf = json_object_get(json_object_get(ext, "fields"), type);
            if (tf == NULL) {
                tf = json_object();
                json_object_set_new(json_object_get(ext, "fields"), type, tf);
            }
            json_object_set_new(tf, name, json_string(kind));
        }
        json_decref(op);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_OK) {
        json_decref(ext);
        return store_error(v->db, rc, "cannot read the schema", err);
    }
    *out = ext;
    return DFT_OK;
}

static const char *
ext_kind(const json_t *ext, const char *type, const char *name)
{
    return json_string_value(
        json_object_get(json_object_get(json_object_get(ext, "fields"), type), name));
}

static int
role_known(const json_t *ext, const char *role)
{
    for (size_t i = 0; builtin_roles[i] != NULL; i++) {
        if (strcmp(builtin_roles[i], role) == 0) {
            return 1;
        }
    }
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(ext, "roles"), i, r)
    {
        if (strcmp(json_string_value(r), role) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ---- values ---- */

static int
days_in(long y, long m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        return 29;
    }
    return d[m - 1];
}

static int
digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}

enum dft_err
dft_date_check(const char *field, const char *s, long *key_out, int *approx_out,
               struct dft_error *err)
{
    size_t n = strlen(s);
    int approx = 0;
    if (n > 0 && s[n - 1] == '~') {
        approx = 1;
        n--;
    }
    long y = 0, m = 0, d = 0;
    int ok = 0;
    if ((n == 4 || n == 7 || n == 10) && digits(s, 4)) {
        y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
        ok = 1;
        if (n >= 7) {
            ok = s[4] == '-' && digits(s + 5, 2);
            m = ok ? (s[5] - '0') * 10 + (s[6] - '0') : 0;
            ok = ok && m >= 1 && m <= 12;
        }
        if (ok && n == 10) {
            ok = s[7] == '-' && digits(s + 8, 2);
            d = ok ? (s[8] - '0') * 10 + (s[9] - '0') : 0;
            ok = ok && d >= 1 && d <= days_in(y, m);
        }
    }
    if (!ok) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "field '%s': '%.40s' is not a date; write it as ISO 8601 YYYY, YYYY-MM "
                        "or YYYY-MM-DD (e.g. 2014-02-26), with ~ at the end when approximate "
                        "(2014-02~)",
                        field, s);
    }
    if (key_out != NULL) {
        *key_out = y * 10000 + m * 100 + d;
    }
    if (approx_out != NULL) {
        *approx_out = approx;
    }
    return DFT_OK;
}

static int
enum_has(const char *values, const char *v)
{
    size_t n = strlen(v);
    const char *p = values;
    while (*p != '\0') {
        const char *e = strchr(p, ',');
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0) {
            return 1;
        }
        p += len;
        if (*p == ',') {
            p++;
        }
    }
    return 0;
}

static enum kind
kind_parse(const char *k, const char **values)
{
    *values = NULL;
    if (strncmp(k, "enum:", 5) == 0) {
        *values = k + 5;
        return K_ENUM;
    }
    for (int i = 0; kind_names[i] != NULL; i++) {
        if (strcmp(k, kind_names[i]) == 0) {
            return (enum kind)i;
        }
    }
    return K_TEXT;
}

static enum dft_err
check_kind(const char *type, const char *name, enum kind kind, const char *values,
           const json_t *val, struct dft_error *err)
{
    switch (kind) {
    case K_TEXT:
    case K_LONG:
        if (json_is_string(val) || json_is_integer(val)) {
            return DFT_OK;
        }
        return dft_fail(err, DFT_ERR_INPUT, "field '%s' of a %s is text", name, type);
    case K_DATE:
        if (!json_is_string(val)) {
            return dft_fail(err, DFT_ERR_INPUT,
                            "field '%s' of a %s is a date: write it as text, e.g. \"2014-02-26\"",
                            name, type);
        }
        return dft_date_check(name, json_string_value(val), NULL, NULL, err);
    case K_ENUM:
        if (json_is_string(val) && enum_has(values, json_string_value(val))) {
            return DFT_OK;
        }
        if (json_is_string(val)) {
            /* suggest the nearest value */
            char buf[512];
            snprintf(buf, sizeof buf, "%s", values);
            struct suggest s = {NULL, 0};
            for (char *p = buf; p != NULL && *p != '\0';) {
                char *e = strchr(p, ',');
                if (e != NULL) {
                    *e = '\0';
                }
                suggest_try(&s, json_string_value(val), p);
                p = e != NULL ? e + 1 : NULL;
            }
            if (s.best != NULL) {
                return dft_fail(err, DFT_ERR_INPUT,
                                "'%.40s' is not a value of field '%s'; did you mean '%s'? (%s)",
                                json_string_value(val), name, s.best, values);
            }
        }
        return dft_fail(err, DFT_ERR_INPUT, "field '%s' of a %s is one of: %s", name, type, values);
    case K_LIST:
        if (json_is_string(val) || json_is_array(val) || json_is_integer(val)) {
            return DFT_OK;
        }
        return dft_fail(err, DFT_ERR_INPUT, "field '%s' of a %s is a list", name, type);
    case K_REF: {
        const char *s = json_string_value(val);
        const char *u = s != NULL ? strchr(s, '_') : NULL;
        if (u != NULL && u != s && strlen(u + 1) == 16) {
            return DFT_OK;
        }
        return dft_fail(err, DFT_ERR_INPUT, "field '%s' of a %s is a record id (like per_...)",
                        name, type);
    }
    case K_FLAG: {
        const char *s = json_string_value(val);
        if (json_is_boolean(val) ||
            (s != NULL && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0))) {
            return DFT_OK;
        }
        return dft_fail(err, DFT_ERR_INPUT, "field '%s' of a %s is true or false", name, type);
    }
    }
    return DFT_OK;
}

static int
is_custom_name(const char *name)
{
    return (name[0] == 'x' || name[0] == 'X') && (name[1] == '-' || name[1] == '_');
}

/* One field of a record of type: known, and of its kind. */
static enum dft_err
check_field(const json_t *ext, const char *type, const char *name, const json_t *val,
            struct dft_error *err)
{
    if (is_custom_name(name)) {
        return DFT_OK;
    }
    const struct field *f = builtin_field(type, name);
    if (f != NULL) {
        return check_kind(type, name, f->kind, f->values, val, err);
    }
    const char *k = ext_kind(ext, type, name);
    if (k != NULL) {
        const char *values;
        enum kind kind = kind_parse(k, &values);
        return check_kind(type, name, kind, values, val, err);
    }
    struct suggest s = {NULL, 0};
    for (f = fields_of(type); f != NULL && f->name != NULL; f++) {
        suggest_try(&s, name, f->name);
    }
    for (f = common_fields; f->name != NULL; f++) {
        suggest_try(&s, name, f->name);
    }
    const char *key;
    json_t *x;
    json_object_foreach(json_object_get(json_object_get(ext, "fields"), type), key, x)
    {
        suggest_try(&s, name, key);
    }
    if (s.best != NULL) {
        return dft_fail(err, DFT_ERR_INPUT, "unknown field '%.64s' for %s; did you mean '%s'?",
                        name, type, s.best);
    }
    return dft_fail(err, DFT_ERR_INPUT,
                    "unknown field '%.64s' for %s (see `defter schema %s`; a team adds one with "
                    "`defter schema add-field %s %.64s KIND`)",
                    name, type, type, type, name);
}

static int
empty_value(const json_t *v)
{
    return v == NULL || json_is_null(v) ||
           (json_is_string(v) && json_string_value(v)[strspn(json_string_value(v), " \t")] == 0);
}

static enum dft_err
check_required(const char *type, const json_t *fields, struct dft_error *err)
{
    for (const struct field *f = fields_of(type); f != NULL && f->name != NULL; f++) {
        if (f->required && empty_value(json_object_get(fields, f->name))) {
            return dft_fail(err, DFT_ERR_INPUT, "a %s needs a %s", type, f->name);
        }
    }
    return DFT_OK;
}

static enum dft_err
check_role(const json_t *ext, const char *role, struct dft_error *err)
{
    if (role_known(ext, role)) {
        return DFT_OK;
    }
    struct suggest s = {NULL, 0};
    for (size_t i = 0; builtin_roles[i] != NULL; i++) {
        suggest_try(&s, role, builtin_roles[i]);
    }
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(ext, "roles"), i, r)
    {
        suggest_try(&s, role, json_string_value(r));
    }
    if (s.best != NULL) {
        return dft_fail(err, DFT_ERR_INPUT, "unknown role '%.64s'; did you mean '%s'?", role,
                        s.best);
    }
    return dft_fail(err, DFT_ERR_INPUT,
                    "unknown role '%.64s' (see `defter schema`; a team adds one with `defter "
                    "schema add-role %.64s`)",
                    role, role);
}

/* ---- the check of every operation ---- */

/* type, fields and deleted flag of a record in the view; 0 if absent. */
static int
record_row(sqlite3 *db, const char *id, char *type, size_t tmax, json_t **fields, int *deleted)
{
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(db, "SELECT type, fields, deleted FROM records WHERE id=?", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            found = 1;
            snprintf(type, tmax, "%s", (const char *)sqlite3_column_text(st, 0));
            if (fields != NULL) {
                json_error_t jerr;
                *fields = json_loads((const char *)sqlite3_column_text(st, 1), 0, &jerr);
            }
            *deleted = sqlite3_column_int(st, 2);
        }
    }
    sqlite3_finalize(st);
    return found;
}

/* Whether ops[0..upto) create or restore id (an undo of a merge does, then links it). */
static int
revived_earlier(const json_t *ops, size_t upto, const char *id)
{
    for (size_t k = 0; k < upto; k++) {
        const json_t *op = json_array_get(ops, k);
        const char *a = json_string_value(json_object_get(op, "action"));
        const char *r = json_string_value(json_object_get(op, "record"));
        if (a != NULL && r != NULL && strcmp(r, id) == 0 &&
            (strcmp(a, "create") == 0 || strcmp(a, "restore") == 0)) {
            return 1;
        }
    }
    return 0;
}

static enum dft_err
check_not_deleted(struct dft_vault *v, const json_t *ops, size_t at, const char *id,
                  struct dft_error *err)
{
    char type[32];
    int deleted = 0;
    if (v == NULL || id == NULL) {
        return DFT_OK;
    }
    if (record_row(v->db, id, type, sizeof type, NULL, &deleted) && deleted &&
        !revived_earlier(ops, at, id)) {
        return dft_fail(err, DFT_ERR_INPUT, "%s %s is deleted (`defter restore %s` brings it back)",
                        type, id, id);
    }
    return DFT_OK;
}

static enum dft_err
check_evidence_twice(struct dft_vault *v, const json_t *op, struct dft_error *err)
{
    const json_t *f = json_object_get(op, "fields");
    const char *sha = json_string_value(json_object_get(f, "sha256"));
    const char *rec = json_string_value(json_object_get(op, "record"));
    if (v == NULL || sha == NULL || rec == NULL) {
        return DFT_OK;
    }
    sqlite3_stmt *st = NULL;
    enum dft_err rc = DFT_OK;
    if (sqlite3_prepare_v2(v->db,
                           "SELECT id, name FROM evidence WHERE record=? AND sha256=? AND "
                           "deleted=0 LIMIT 1",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, rec, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, sha, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *name = json_string_value(json_object_get(f, "name"));
            rc = dft_fail(
                err, DFT_ERR_INPUT, "'%.80s' is already attached to %s as %s (%.80s)",
                name != NULL ? name : "the file", rec, (const char *)sqlite3_column_text(st, 0),
                sqlite3_column_text(st, 1) != NULL ? (const char *)sqlite3_column_text(st, 1)
                                                   : "same content");
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* An update: known fields of their kind; removing an absent field is dropped (a no-op). */
static enum dft_err
check_update(struct dft_vault *v, const json_t *ext, json_t *op, struct dft_error *err)
{
    const char *id = json_string_value(json_object_get(op, "record"));
    json_t *changes = json_object_get(op, "fields");
    char type[32];
    json_t *cur = NULL;
    int deleted = 0;
    if (v == NULL || id == NULL || !json_is_object(changes) ||
        !record_row(v->db, id, type, sizeof type, &cur, &deleted)) {
        return DFT_OK; /* an update of a record made in this batch, or not one at all */
    }
    enum dft_err rc = DFT_OK;
    if (deleted) {
        rc = dft_fail(err, DFT_ERR_INPUT, "%s %s is deleted (`defter restore %s` brings it back)",
                      type, id, id);
        goto out;
    }
    json_t *drop = json_array();
    const char *key;
    json_t *val;
    json_object_foreach(changes, key, val)
    {
        if (json_is_null(val)) {
            if (json_object_get(cur, key) == NULL) {
                json_array_append_new(drop, json_string(key));
            }
            continue;
        }
        if ((rc = check_field(ext, type, key, val, err)) != DFT_OK) {
            break;
        }
    }
    size_t i;
    json_t *k;
    json_array_foreach(drop, i, k)
    {
        json_object_del(changes, json_string_value(k));
    }
    json_decref(drop);
    if (rc == DFT_OK) {
        /* the record as it would be: still has what it needs */
        json_t *after = json_deep_copy(cur);
        json_object_foreach(changes, key, val)
        {
            if (json_is_null(val)) {
                json_object_del(after, key);
            } else {
                json_object_set(after, key, val);
            }
        }
        rc = check_required(type, after, err);
        json_decref(after);
    }
out:
    json_decref(cur);
    return rc;
}

enum dft_err
schema_check_ops(struct dft_vault *v, json_t *ops, int *nothing_left, struct dft_error *err)
{
    *nothing_left = 0;
    json_t *ext = NULL;
    enum dft_err rc = load_ext(v, &ext, err);
    if (rc != DFT_OK) {
        return rc;
    }
    size_t n0 = json_array_size(ops);
    for (size_t i = 0; i < json_array_size(ops) && rc == DFT_OK;) {
        json_t *op = json_array_get(ops, i);
        const char *action = json_string_value(json_object_get(op, "action"));
        const char *record = json_string_value(json_object_get(op, "record"));
        const json_t *fields = json_object_get(op, "fields");
        if (action == NULL) {
            i++;
            continue;
        }
        if (strcmp(action, "create") == 0) {
            const char *type = json_string_value(json_object_get(op, "type"));
            const char *key;
            json_t *val;
            json_object_foreach((json_t *)(uintptr_t)fields, key, val)
            {
                if (type != NULL && (rc = check_field(ext, type, key, val, err)) != DFT_OK) {
                    break;
                }
            }
            if (rc == DFT_OK && type != NULL) {
                rc = check_required(type, fields, err);
            }
        } else if (strcmp(action, "update") == 0) {
            rc = check_update(v, ext, op, err);
            if (rc == DFT_OK && json_object_size(json_object_get(op, "fields")) == 0) {
                json_array_remove(ops, i);
                continue;
            }
        } else if (strcmp(action, "link") == 0) {
            const char *role = json_string_value(json_object_get(fields, "role"));
            if (role != NULL) {
                rc = check_role(ext, role, err);
            }
            if (rc == DFT_OK) {
                rc = check_not_deleted(v, ops, i, record, err);
            }
            if (rc == DFT_OK) {
                rc =
                    check_not_deleted(v, ops, i, json_string_value(json_object_get(op, "to")), err);
            }
        } else if (strcmp(action, "evidence") == 0) {
            rc = check_not_deleted(v, ops, i, record, err);
            if (rc == DFT_OK) {
                rc = check_evidence_twice(v, op, err);
            }
        }
        i++;
    }
    if (rc == DFT_OK && n0 > 0 && json_array_size(ops) == 0) {
        *nothing_left = 1;
    }
    json_decref(ext);
    return rc;
}

/* ---- reading and extending ---- */

static json_t *
field_json(const char *name, enum kind kind, int required, const char *values, int custom)
{
    json_t *o =
        json_pack("{ss ss sb}", "name", name, "kind", kind_names[kind], "required", required);
    if (values != NULL) {
        json_t *vals = json_array();
        char buf[512];
        snprintf(buf, sizeof buf, "%s", values);
        for (char *p = buf; p != NULL && *p != '\0';) {
            char *e = strchr(p, ',');
            if (e != NULL) {
                *e = '\0';
            }
            json_array_append_new(vals, json_string(p));
            p = e != NULL ? e + 1 : NULL;
        }
        json_object_set_new(o, "values", vals);
    }
    if (custom) {
        json_object_set_new(o, "custom", json_true());
    }
    return o;
}

enum dft_err
dft_schema_get(struct dft_vault *v, const char *type, json_t **out, struct dft_error *err)
{
    if (type != NULL && fields_of(type) == NULL) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "unknown record type '%.40s' (case, person, event, proceeding, source, "
                        "note, place, organization)",
                        type);
    }
    json_t *ext = NULL;
    enum dft_err rc = load_ext(v, &ext, err);
    if (rc != DFT_OK) {
        return rc;
    }
    json_t *types = json_object();
    for (size_t i = 0; i < sizeof type_fields / sizeof type_fields[0]; i++) {
        const char *t = type_fields[i].type;
        if (type != NULL && strcmp(type, t) != 0) {
            continue;
        }
        json_t *arr = json_array();
        for (const struct field *f = type_fields[i].fields; f->name != NULL; f++) {
            json_array_append_new(arr, field_json(f->name, f->kind, f->required, f->values, 0));
        }
        for (const struct field *f = common_fields; f->name != NULL; f++) {
            json_array_append_new(arr, field_json(f->name, f->kind, f->required, f->values, 0));
        }
        const char *key;
        json_t *k;
        json_object_foreach(json_object_get(json_object_get(ext, "fields"), t), key, k)
        {
            const char *values;
            enum kind kind = kind_parse(json_string_value(k), &values);
            json_array_append_new(arr, field_json(key, kind, 0, values, 1));
        }
        json_object_set_new(types, t, json_pack("{so}", "fields", arr));
    }
    json_t *roles = json_array();
    for (size_t i = 0; builtin_roles[i] != NULL; i++) {
        json_array_append_new(roles, json_string(builtin_roles[i]));
    }
    json_array_extend(roles, json_object_get(ext, "roles"));
    json_t *kinds = json_array();
    for (size_t i = 0; kind_names[i] != NULL; i++) {
        json_array_append_new(kinds, json_string(kind_names[i]));
    }
    json_decref(ext);
    *out = json_pack("{so so so}", "types", types, "roles", roles, "kinds", kinds);
    return *out != NULL ? DFT_OK : dft_fail(err, DFT_ERR_NOMEM, "out of memory");
}

static enum dft_err
check_name(const char *what, const char *name, struct dft_error *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64) {
        return dft_fail(err, DFT_ERR_INPUT, "a %s name has 1 to 64 characters", what);
    }
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              (c == '-' && i > 0))) {
            return dft_fail(err, DFT_ERR_INPUT,
                            "%s name '%.64s' may only hold lower-case letters a-z, digits, '_' "
                            "and '-'",
                            what, name);
        }
    }
    return DFT_OK;
}

static enum dft_err
commit_schema_op(struct dft_vault *v, json_t *fields, struct dft_error *err)
{
    json_t *ops =
        json_pack("[{ss ss so}]", "record", "schema", "action", "schema", "fields", fields);
    if (ops == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    enum dft_err rc = vault_commit_ops(v, ops, err);
    json_decref(ops);
    return rc;
}

enum dft_err
dft_schema_add_field(struct dft_vault *v, const char *type, const char *name, const char *kind,
                     struct dft_error *err)
{
    enum dft_err rc;
    if (fields_of(type) == NULL) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "unknown record type '%.40s' (case, person, event, proceeding, source, "
                        "note, place, organization)",
                        type);
    }
    if ((rc = check_name("field", name, err)) != DFT_OK) {
        return rc;
    }
    const char *values = NULL;
    enum kind k = kind_parse(kind, &values);
    if ((k == K_TEXT && strcmp(kind, "text") != 0) ||
        (k == K_ENUM && (values == NULL || values[0] == '\0' || strlen(values) > 400))) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "unknown kind '%.40s' (text, longtext, date, list, ref, flag, "
                        "enum:VALUE,VALUE,...)",
                        kind);
    }
    if (is_custom_name(name)) {
        return dft_fail(err, DFT_ERR_INPUT, "fields named x-... are free already");
    }
    json_t *ext = NULL;
    if ((rc = load_ext(v, &ext, err)) != DFT_OK) {
        return rc;
    }
    int exists = builtin_field(type, name) != NULL || ext_kind(ext, type, name) != NULL;
    json_decref(ext);
    if (exists) {
        return dft_fail(err, DFT_ERR_INPUT, "%s already has a field '%s'", type, name);
    }
    return commit_schema_op(
        v, json_pack("{ss ss ss ss}", "add", "field", "type", type, "name", name, "kind", kind),
        err);
}

enum dft_err
dft_schema_add_role(struct dft_vault *v, const char *role, struct dft_error *err)
{
    enum dft_err rc = check_name("role", role, err);
    if (rc != DFT_OK) {
        return rc;
    }
    json_t *ext = NULL;
    if ((rc = load_ext(v, &ext, err)) != DFT_OK) {
        return rc;
    }
    int exists = role_known(ext, role);
    json_decref(ext);
    if (exists) {
        return dft_fail(err, DFT_ERR_INPUT, "role '%s' exists already", role);
    }
    return commit_schema_op(v, json_pack("{ss ss}", "add", "role", "name", role), err);
}

const char *
schema_field_kind(const char *type, const char *name)
{
    const struct field *f = NULL;
    if (type != NULL) {
        f = builtin_field(type, name);
    } else {
        for (size_t i = 0; f == NULL && i < sizeof type_fields / sizeof type_fields[0]; i++) {
            f = builtin_field(type_fields[i].type, name);
        }
    }
    return f != NULL ? kind_names[f->kind] : NULL;
}

enum dft_err
schema_field_known(struct dft_vault *v, const char *type, const char *name, struct dft_error *err)
{
    static const char *const columns[] = {"id", "type", "title", "created", "updated", NULL};
    for (size_t i = 0; columns[i] != NULL; i++) {
        if (strcmp(columns[i], name) == 0) {
            return DFT_OK;
        }
    }
    if (is_custom_name(name) || schema_field_kind(type, name) != NULL) {
        return DFT_OK;
    }
    json_t *ext = NULL;
    enum dft_err rc = load_ext(v, &ext, err);
    if (rc != DFT_OK) {
        return rc;
    }
    /* check a string value on a scratch record: only "unknown field" matters here */
    struct dft_error tmp = {DFT_OK, ""};
    json_t *probe = json_string("");
    rc = DFT_OK;
    if (type != NULL) {
        if (check_field(ext, type, name, probe, &tmp) != DFT_OK &&
            strncmp(tmp.msg, "unknown field", 13) == 0) {
            rc = dft_fail(err, DFT_ERR_INPUT, "%s", tmp.msg);
        }
    } else {
        int found = 0;
        const char *t;
        json_t *tf;
        json_object_foreach(json_object_get(ext, "fields"), t, tf)
        {
            found |= json_object_get(tf, name) != NULL;
        }
        if (!found) {
            rc = dft_fail(err, DFT_ERR_INPUT, "unknown field '%.64s'", name);
        }
    }
    json_decref(probe);
    json_decref(ext);
    return rc;
}
