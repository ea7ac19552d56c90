/*
 * view.c - apply operations to the records, links, evidence, history and log-entry tables.
 *
 * The envelopes table is the only source of truth; everything written here can be dropped and
 * rebuilt from it. Never reads the clock or randomness: the result depends only on the ops.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/sealed.h"
#include "search/search.h"
#include "store/store.h"
#include "vault/envelope.h"
#include "vault/idset.h"
#include "vault/view.h"

static const char *const view_tables[] = {
    "CREATE TABLE IF NOT EXISTS %s.records(id TEXT PRIMARY KEY, type TEXT NOT NULL,"
    " title TEXT NOT NULL, fields TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL,"
    " deleted INTEGER NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS %s.records_by_type ON records(type, title)",
    "CREATE TABLE IF NOT EXISTS %s.links(id TEXT PRIMARY KEY, src TEXT NOT NULL,"
    " dst TEXT NOT NULL, role TEXT NOT NULL, created TEXT NOT NULL,"
    " deleted INTEGER NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS %s.links_by_src ON links(src)",
    "CREATE INDEX IF NOT EXISTS %s.links_by_dst ON links(dst)",
    "CREATE TABLE IF NOT EXISTS %s.evidence(id TEXT PRIMARY KEY, record TEXT NOT NULL,"
    " object TEXT, sha256 TEXT, size INTEGER, name TEXT, mime TEXT, meta TEXT,"
    " created TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS %s.evidence_by_record ON evidence(record)",
    "CREATE TABLE IF NOT EXISTS %s.history(record TEXT NOT NULL, idx INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, op TEXT NOT NULL, PRIMARY KEY(record, idx, seq)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS %s.entries(idx INTEGER PRIMARY KEY, action TEXT NOT NULL,"
    " author TEXT NOT NULL, ts TEXT NOT NULL, records TEXT NOT NULL)",
};

/* Put the schema name where the template says %s (no printf: the template is data). */
static void
schema_sql(char *out, size_t max, const char *tmpl, const char *schema)
{
    size_t o = 0;
    size_t sl = strlen(schema);
    for (const char *p = tmpl; *p != '\0' && o + 1 < max; p++) {
        if (p[0] == '%' && p[1] == 's' && o + sl + 1 < max) {
            memcpy(out + o, schema, sl);
            o += sl;
            p++;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

enum dft_err
view_create_tables(sqlite3 *db, const char *schema, struct dft_error *err)
{
    char sql[512];
    if (strcmp(schema, "main") == 0) {
        enum dft_err rc = store_exec(db,
                                     "CREATE TABLE IF NOT EXISTS envelopes(idx INTEGER PRIMARY KEY,"
                                     " leaf_hash BLOB NOT NULL, envelope BLOB NOT NULL)",
                                     err);
        if (rc != DFT_OK) {
            return rc;
        }
    }
    for (size_t i = 0; i < sizeof view_tables / sizeof view_tables[0]; i++) {
        schema_sql(sql, sizeof sql, view_tables[i], schema);
        enum dft_err rc = store_exec(db, sql, err);
        if (rc != DFT_OK) {
            return rc;
        }
    }
    return DFT_OK;
}

static enum dft_err
prep(struct dft_view *vw, sqlite3_stmt **st, const char *fmt, struct dft_error *err)
{
    char sql[512];
    schema_sql(sql, sizeof sql, fmt, vw->schema);
    int rc = sqlite3_prepare_v3(vw->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    if (rc != SQLITE_OK) {
        return store_error(vw->db, rc, "cannot prepare view", err);
    }
    return DFT_OK;
}

enum dft_err
view_init(struct dft_view *vw, sqlite3 *db, const char *schema, int index_search,
          struct dft_error *err)
{
    memset(vw, 0, sizeof *vw);
    vw->db = db;
    vw->schema = schema;
    vw->index_search = index_search;
    enum dft_err rc;
    if ((rc = prep(vw, &vw->ins_record,
                   "INSERT OR REPLACE INTO %s.records(id,type,title,fields,created,updated,deleted)"
                   " VALUES(?,?,?,?,?,?,0)",
                   err)) != DFT_OK ||
        (rc = prep(vw, &vw->get_record, "SELECT type, fields, deleted FROM %s.records WHERE id=?",
                   err)) != DFT_OK ||
        (rc = prep(vw, &vw->upd_record,
                   "UPDATE %s.records SET title=?, fields=?, updated=? WHERE id=?", err)) !=
            DFT_OK ||
        (rc = prep(vw, &vw->del_record, "UPDATE %s.records SET deleted=1, updated=? WHERE id=?",
                   err)) != DFT_OK ||
        (rc = prep(vw, &vw->ins_link,
                   "INSERT OR REPLACE INTO %s.links(id,src,dst,role,created,deleted)"
                   " VALUES(?,?,?,?,?,0)",
                   err)) != DFT_OK ||
        (rc = prep(vw, &vw->get_link, "SELECT src, dst FROM %s.links WHERE id=?", err)) != DFT_OK ||
        (rc = prep(vw, &vw->del_link, "UPDATE %s.links SET deleted=1 WHERE id=?", err)) != DFT_OK ||
        (rc = prep(vw, &vw->ins_evidence,
                   "INSERT OR REPLACE INTO %s.evidence(id,record,object,sha256,size,name,mime,"
                   "meta,created,deleted) VALUES(?,?,?,?,?,?,?,?,?,0)",
                   err)) != DFT_OK ||
        (rc = prep(vw, &vw->del_evidence, "UPDATE %s.evidence SET deleted=1 WHERE id=?", err)) !=
            DFT_OK ||
        (rc = prep(vw, &vw->ins_history,
                   "INSERT OR REPLACE INTO %s.history(record,idx,seq,op) VALUES(?,?,?,?)", err)) !=
            DFT_OK ||
        (rc = prep(vw, &vw->ins_entry,
                   "INSERT INTO %s.entries(idx,action,author,ts,records) VALUES(?,?,?,?,?)",
                   err)) != DFT_OK) {
        view_release(vw);
        return rc;
    }
    if (index_search && (rc = search_writer_open(db, &vw->search, err)) != DFT_OK) {
        view_release(vw);
        return rc;
    }
    return DFT_OK;
}

void
view_release(struct dft_view *vw)
{
    sqlite3_stmt **all[] = {&vw->ins_record,   &vw->get_record,  &vw->upd_record, &vw->del_record,
                            &vw->ins_link,     &vw->get_link,    &vw->del_link,   &vw->ins_evidence,
                            &vw->del_evidence, &vw->ins_history, &vw->ins_entry};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        sqlite3_finalize(*all[i]);
        *all[i] = NULL;
    }
    search_writer_close(vw->search);
    vw->search = NULL;
}

const char *
view_title(const char *type, const json_t *fields, const char *fallback)
{
    static const char *const person_keys[] = {"name", "title", NULL};
    static const char *const other_keys[] = {"title", "name", "case_number", "summary", NULL};
    const char *const *keys = strcmp(type, "person") == 0 ? person_keys : other_keys;
    if (search_fields_sealed(fields)) {
        return "privileged note"; /* its fields are sealed (privileged.c) */
    }
    for (size_t i = 0; keys[i] != NULL; i++) {
        const char *s = json_string_value(json_object_get(fields, keys[i]));
        if (s != NULL && s[0] != '\0') {
            return s;
        }
    }
    return fallback;
}

void
op_touched(const json_t *op, const char **a, const char **b)
{
    *a = json_string_value(json_object_get(op, "record"));
    *b = json_string_value(json_object_get(op, "to"));
}

static enum dft_err
step_done(struct dft_view *vw, sqlite3_stmt *st, struct dft_error *err)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        return store_error(vw->db, rc, "cannot update the view", err);
    }
    return DFT_OK;
}

/*
 * Values are bound SQLITE_STATIC: every statement here is stepped and reset (step_done) while
 * the bound text (the ops' strings, the caller's buffers) is still alive, and a copy per value
 * (an allocation from the wiped pool, a wipe at its free) took about a tenth of the writer's
 * time in a batch.
 */
static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL) {
        sqlite3_bind_null(st, i);
    } else {
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    }
}

static enum dft_err
canonical_string(const json_t *j, struct dft_buf *b, struct dft_error *err)
{
    dft_buf_reset(b);
    return json_canonical(j, b, err);
}

/* ---- canonical JSON made ahead ---- */

#define AHEAD_SLOTS 4096 /* ops made ahead of their use at most: bounds the memory held */

struct ahead_slot {
    struct dft_buf op;     /* canonical op; len 0: not made */
    struct dft_buf fields; /* canonical fields of a create; len 0: not made */
};

struct dft_view_ahead {
    const json_t *ops;
    size_t n;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    size_t made; /* ops [0, made) are in their slots */
    size_t used; /* ops [0, used) were taken by the view */
    int cancel;
    int maker_waits, view_waits; /* wake the other side only when it sleeps */
    size_t view_want;            /* the op a sleeping view waits for */
    struct ahead_slot slot[AHEAD_SLOTS];
};

enum dft_err
view_ahead_new(struct dft_view_ahead **out, const json_t *ops, struct dft_error *err)
{
    struct dft_view_ahead *a = calloc(1, sizeof *a);
    if (a == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (pthread_mutex_init(&a->lock, NULL) != 0) {
        free(a);
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (pthread_cond_init(&a->cond, NULL) != 0) {
        pthread_mutex_destroy(&a->lock);
        free(a);
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    a->ops = ops;
    a->n = json_array_size(ops);
    for (size_t i = 0; i < AHEAD_SLOTS; i++) {
        dft_buf_init(&a->slot[i].op, DFT_ENV_MAX, 0);
        dft_buf_init(&a->slot[i].fields, DFT_ENV_MAX, 0);
    }
    *out = a;
    return DFT_OK;
}

/* The end of the string that starts (with its quote) at s[i], past the closing quote. */
size_t
view_skip_string(const unsigned char *s, size_t n, size_t i)
{
    for (i++; i < n && s[i] != '"'; i++) {
        if (s[i] == '\\') {
            i++; /* the escaped character (of \uXXXX only the u: the rest is plain) */
        }
    }
    return i < n ? i + 1 : n;
}

/* The end of the value that starts at s[i] in compact JSON. */
size_t
view_skip_value(const unsigned char *s, size_t n, size_t i)
{
    int depth = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c == '"') {
            i = view_skip_string(s, n, i);
            if (depth == 0) {
                return i;
            }
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0) {
                return i; /* the end of the enclosing object */
            }
            if (--depth == 0) {
                return i + 1;
            }
        } else if (c == ',' && depth == 0) {
            return i;
        }
        i++;
    }
    return n;
}

/*
 * Where the value of the top-level member key lies in the canonical JSON of an object (compact,
 * so nothing but the members' own bytes between '{', ',' and '}'); -1 if it has none. The
 * canonical JSON of a member's value is the same as that value's own canonical JSON, so a
 * create's fields are cut from its canonical op instead of encoded a second time.
 */
int
view_canonical_member(const unsigned char *s, size_t n, const char *key, size_t *off, size_t *len)
{
    size_t kl = strlen(key);
    size_t i = 1;
    if (n < 2 || s[0] != '{' || s[1] == '}') {
        return -1;
    }
    while (i < n && s[i] == '"') {
        size_t kend = view_skip_string(s, n, i); /* past the key's closing quote */
        int match = kend - i == kl + 2 && memcmp(s + i + 1, key, kl) == 0;
        if (kend >= n || s[kend] != ':') {
            return -1;
        }
        size_t v = kend + 1;
        size_t vend = view_skip_value(s, n, v);
        if (vend >= n || vend == v) {
            return -1;
        }
        if (match) {
            *off = v;
            *len = vend - v;
            return 0;
        }
        if (s[vend] != ',') {
            return -1; /* '}': no such member */
        }
        i = vend + 1;
    }
    return -1;
}

/* The producer's slot for op i once the view freed it; NULL once cancelled. */
static struct ahead_slot *
slot_free_wait(struct dft_view_ahead *a, size_t i)
{
    pthread_mutex_lock(&a->lock);
    while (!a->cancel && i - a->used >= AHEAD_SLOTS) {
        a->maker_waits = 1;
        pthread_cond_wait(&a->cond, &a->lock);
    }
    a->maker_waits = 0;
    int stop = a->cancel;
    pthread_mutex_unlock(&a->lock);
    if (stop) {
        return NULL;
    }
    /* the slot of op i is free: the view took op i - AHEAD_SLOTS */
    struct ahead_slot *s = &a->slot[i % AHEAD_SLOTS];
    dft_buf_reset(&s->op);
    dft_buf_reset(&s->fields);
    return s;
}

/* A create's canonical fields, cut from its canonical op in s->op (else encoded). */
static void
slot_fields(struct ahead_slot *s, const json_t *op)
{
    struct dft_error ignored = {0};
    const char *action = json_string_value(json_object_get(op, "action"));
    const json_t *fields = json_object_get(op, "fields");
    size_t off = 0, len = 0;
    if (action == NULL || strcmp(action, "create") != 0 || !json_is_object(fields)) {
        return;
    }
    if (s->op.len > 0 && view_canonical_member(s->op.data, s->op.len, "fields", &off, &len) == 0 &&
        s->op.data[off] == '{') {
        if (dft_buf_add(&s->fields, s->op.data + off, len) != DFT_OK) {
            dft_buf_reset(&s->fields);
        }
    } else if (json_canonical(fields, &s->fields, &ignored) != DFT_OK) {
        dft_buf_reset(&s->fields);
    }
}

/*
 * A sleeping view is woken once a few ops past the one it waits for are made (or the last one),
 * not for each: a wake-up per op cost the producer a tenth of its time when the view kept up.
 */
#define AHEAD_WAKE 32

static void
slot_publish(struct dft_view_ahead *a, size_t i)
{
    pthread_mutex_lock(&a->lock);
    a->made = i + 1;
    if (a->view_waits && (a->made >= a->view_want + AHEAD_WAKE || a->made == a->n)) {
        pthread_cond_broadcast(&a->cond);
    }
    pthread_mutex_unlock(&a->lock);
}

void
view_ahead_run(struct dft_view_ahead *a)
{
    struct dft_error ignored = {0};
    for (size_t i = 0; i < a->n; i++) {
        struct ahead_slot *s = slot_free_wait(a, i);
        if (s == NULL) {
            return;
        }
        const json_t *op = json_array_get(a->ops, i);
        if (json_canonical(op, &s->op, &ignored) != DFT_OK) {
            dft_buf_reset(&s->op);
        }
        slot_fields(s, op);
        slot_publish(a, i);
    }
}

void
view_ahead_put(struct dft_view_ahead *a, size_t i, const unsigned char *op, size_t len)
{
    if (a == NULL || i >= a->n || i != a->made) {
        return; /* in order only (made is written by this producer alone) */
    }
    struct ahead_slot *s = slot_free_wait(a, i);
    if (s == NULL) {
        return;
    }
    if (dft_buf_add(&s->op, op, len) != DFT_OK) {
        dft_buf_reset(&s->op);
    }
    slot_fields(s, json_array_get(a->ops, i));
    slot_publish(a, i);
}

void
view_ahead_cancel(struct dft_view_ahead *a)
{
    if (a == NULL) {
        return;
    }
    pthread_mutex_lock(&a->lock);
    a->cancel = 1;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
}

void
view_ahead_free(struct dft_view_ahead *a)
{
    if (a == NULL) {
        return;
    }
    for (size_t i = 0; i < AHEAD_SLOTS; i++) {
        dft_buf_release(&a->slot[i].op);
        dft_buf_release(&a->slot[i].fields);
    }
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

/* The slot of op i once it is made; NULL if there is no producer or it stopped before i. */
static struct ahead_slot *
ahead_wait(struct dft_view_ahead *a, size_t i)
{
    if (a == NULL || i >= a->n) {
        return NULL;
    }
    pthread_mutex_lock(&a->lock);
    while (!a->cancel && a->made <= i) {
        a->view_waits = 1;
        a->view_want = i;
        pthread_cond_wait(&a->cond, &a->lock);
    }
    a->view_waits = 0;
    int have = a->made > i;
    pthread_mutex_unlock(&a->lock);
    return have ? &a->slot[i % AHEAD_SLOTS] : NULL;
}

/* The view is done with op i: its slot may be reused. */
static void
ahead_release(struct dft_view_ahead *a, size_t i)
{
    if (a == NULL || i >= a->n) {
        return;
    }
    pthread_mutex_lock(&a->lock);
    a->used = i + 1;
    /* a waiting maker is woken when half the window is free, not for every op */
    if (a->maker_waits && a->made - a->used <= AHEAD_SLOTS / 2) {
        pthread_cond_broadcast(&a->cond);
    }
    pthread_mutex_unlock(&a->lock);
}

static enum dft_err
index_search(struct dft_view *vw, const char *id, const char *type, const char *title,
             const json_t *fields, struct dft_error *err)
{
    if (!vw->index_search) {
        return DFT_OK;
    }
    return search_writer_put(vw->search, id, type, title, fields, err);
}

/*
 * The creates of one envelope are indexed together (dft_search_writer_put_many folds them on a
 * worker thread): each is noted here and written when an operation that reads or changes the
 * index comes (update, delete, restore) and at the end of the envelope, so the index ends the
 * same as with one put per create. Everything noted is borrowed from the ops.
 */
struct view_pending {
    struct dft_search_record *recs;
    size_t n, cap;
};

static enum dft_err
index_flush(struct dft_view *vw, struct dft_error *err)
{
    struct view_pending *p = vw->pending;
    if (p == NULL || p->n == 0) {
        return DFT_OK;
    }
    size_t n = p->n;
    p->n = 0;
    return dft_search_writer_put_many(vw->search, p->recs, n, err);
}

static enum dft_err
index_later(struct dft_view *vw, const char *id, const char *type, const char *title,
            const json_t *fields, struct dft_error *err)
{
    struct view_pending *p = vw->pending;
    if (!vw->index_search || p == NULL) {
        return index_search(vw, id, type, title, fields, err);
    }
    if (p->n == p->cap) {
        size_t cap = p->cap != 0 ? p->cap * 2 : 256;
        struct dft_search_record *r = realloc(p->recs, cap * sizeof *r);
        if (r == NULL) {
            enum dft_err rc = index_flush(vw, err);
            return rc != DFT_OK ? rc : index_search(vw, id, type, title, fields, err);
        }
        p->recs = r;
        p->cap = cap;
    }
    p->recs[p->n++] = (struct dft_search_record){id, type, title, fields};
    return DFT_OK;
}

static enum dft_err
apply_create(struct dft_view *vw, const json_t *op, const char *ts, struct dft_buf *b,
             const struct dft_buf *made, struct dft_error *err)
{
    const char *id = json_string_value(json_object_get(op, "record"));
    const char *type = json_string_value(json_object_get(op, "type"));
    const json_t *fields = json_object_get(op, "fields");
    if (type == NULL || !json_is_object(fields)) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "create operation without type or fields");
    }
    enum dft_err rc = DFT_OK;
    const struct dft_buf *fb = made;
    if (fb == NULL || fb->len == 0) {
        if ((rc = canonical_string(fields, b, err)) != DFT_OK) {
            return rc;
        }
        fb = b;
    }
    const char *title = view_title(type, fields, id);
    sqlite3_stmt *st = vw->ins_record;
    bind_text(st, 1, id);
    bind_text(st, 2, type);
    bind_text(st, 3, title);
    sqlite3_bind_text(st, 4, (const char *)fb->data, (int)fb->len, SQLITE_STATIC);
    bind_text(st, 5, ts);
    bind_text(st, 6, ts);
    rc = step_done(vw, st, err);
    if (rc != DFT_OK) {
        return rc;
    }
    return index_later(vw, id, type, title, fields, err);
}

static enum dft_err
apply_update(struct dft_view *vw, const json_t *op, const char *ts, struct dft_buf *b,
             struct dft_error *err)
{
    const char *id = json_string_value(json_object_get(op, "record"));
    const json_t *changes = json_object_get(op, "fields");
    sqlite3_stmt *st = vw->get_record;
    bind_text(st, 1, id);
    int src = sqlite3_step(st);
    if (src != SQLITE_ROW) {
        sqlite3_reset(st);
        if (src == SQLITE_DONE) {
            return DFT_OK; /* an update of an unknown record changes nothing */
        }
        return store_error(vw->db, src, "cannot read record", err);
    }
    char type[32];
    snprintf(type, sizeof type, "%s", (const char *)sqlite3_column_text(st, 0));
    json_error_t jerr;
    json_t *fields = json_loads((const char *)sqlite3_column_text(st, 1), 0, &jerr);
    sqlite3_reset(st);
    if (!json_is_object(fields)) {
        json_decref(fields);
        return dft_fail(err, DFT_ERR_INTEGRITY, "record %s has malformed fields", id);
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)(uintptr_t)changes, key, val)
    {
        if (json_is_null(val)) {
            json_object_del(fields, key);
        } else if (json_object_set(fields, key, val) != 0) {
            json_decref(fields);
            return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    enum dft_err rc = canonical_string(fields, b, err);
    if (rc == DFT_OK) {
        const char *title = view_title(type, fields, id);
        st = vw->upd_record;
        bind_text(st, 1, title);
        sqlite3_bind_text(st, 2, (const char *)b->data, (int)b->len, SQLITE_STATIC);
        bind_text(st, 3, ts);
        bind_text(st, 4, id);
        rc = step_done(vw, st, err);
        if (rc == DFT_OK) {
            rc = index_search(vw, id, type, title, fields, err);
        }
    }
    json_decref(fields);
    return rc;
}

static enum dft_err
apply_delete(struct dft_view *vw, const json_t *op, const char *ts, struct dft_error *err)
{
    const char *id = json_string_value(json_object_get(op, "record"));
    sqlite3_stmt *st = vw->del_record;
    bind_text(st, 1, ts);
    bind_text(st, 2, id);
    enum dft_err rc = step_done(vw, st, err);
    if (rc == DFT_OK) {
        st = vw->del_evidence;
        bind_text(st, 1, id);
        rc = step_done(vw, st, err);
    }
    if (rc == DFT_OK && vw->index_search) {
        rc = search_writer_remove(vw->search, id, err);
    }
    return rc;
}

/* "restore" (defter restore ID): the record is live again, and found by search. */
static enum dft_err
apply_restore(struct dft_view *vw, const json_t *op, const char *ts, struct dft_error *err)
{
    const char *id = json_string_value(json_object_get(op, "record"));
    sqlite3_stmt *st = NULL;
    enum dft_err rc =
        prep(vw, &st, "UPDATE %s.records SET deleted=0, updated=? WHERE id=? AND deleted=1", err);
    if (rc != DFT_OK) {
        return rc;
    }
    bind_text(st, 1, ts);
    bind_text(st, 2, id);
    rc = step_done(vw, st, err);
    sqlite3_finalize(st);
    st = vw->get_record;
    bind_text(st, 1, id);
    if (rc == DFT_OK && sqlite3_step(st) == SQLITE_ROW) {
        char type[32];
        snprintf(type, sizeof type, "%s", (const char *)sqlite3_column_text(st, 0));
        json_error_t jerr;
        json_t *fields = json_loads((const char *)sqlite3_column_text(st, 1), 0, &jerr);
        sqlite3_reset(st);
        if (json_is_object(fields)) {
            rc = index_search(vw, id, type, view_title(type, fields, id), fields, err);
        }
        json_decref(fields);
    }
    sqlite3_reset(st);
    return rc;
}

static enum dft_err
apply_link(struct dft_view *vw, const json_t *op, const char *ts, struct dft_error *err)
{
    const json_t *fields = json_object_get(op, "fields");
    const char *link = json_string_value(json_object_get(fields, "link"));
    const char *role = json_string_value(json_object_get(fields, "role"));
    const char *from = json_string_value(json_object_get(op, "record"));
    const char *to = json_string_value(json_object_get(op, "to"));
    if (link == NULL || role == NULL || from == NULL || to == NULL) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "link operation is incomplete");
    }
    sqlite3_stmt *st = vw->ins_link;
    bind_text(st, 1, link);
    bind_text(st, 2, from);
    bind_text(st, 3, to);
    bind_text(st, 4, role);
    bind_text(st, 5, ts);
    return step_done(vw, st, err);
}

static enum dft_err
apply_unlink(struct dft_view *vw, const json_t *op, struct dft_error *err)
{
    const char *link = json_string_value(json_object_get(json_object_get(op, "fields"), "link"));
    sqlite3_stmt *st = vw->del_link;
    bind_text(st, 1, link);
    return step_done(vw, st, err);
}

static enum dft_err
apply_evidence(struct dft_view *vw, const json_t *op, const char *ts, struct dft_buf *b,
               struct dft_error *err)
{
    const json_t *f = json_object_get(op, "fields");
    const char *evid = json_string_value(json_object_get(op, "to"));
    if (evid == NULL) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "evidence operation without evidence id");
    }
    dft_buf_reset(b);
    const json_t *meta = json_object_get(f, "meta");
    enum dft_err rc = DFT_OK;
    if (meta != NULL) {
        rc = json_canonical(meta, b, err);
        if (rc != DFT_OK) {
            return rc;
        }
    }
    sqlite3_stmt *st = vw->ins_evidence;
    bind_text(st, 1, evid);
    bind_text(st, 2, json_string_value(json_object_get(op, "record")));
    bind_text(st, 3, json_string_value(json_object_get(f, "object")));
    bind_text(st, 4, json_string_value(json_object_get(f, "sha256")));
    sqlite3_bind_int64(st, 5, json_integer_value(json_object_get(f, "size")));
    bind_text(st, 6, json_string_value(json_object_get(f, "name")));
    bind_text(st, 7, json_string_value(json_object_get(f, "mime")));
    if (meta != NULL) {
        sqlite3_bind_text(st, 8, (const char *)b->data, (int)b->len, SQLITE_STATIC);
    }
    bind_text(st, 9, ts);
    return step_done(vw, st, err);
}

/* Ops that change no table: the log-only pass, or deletes held by a conflict (sync_view.c). */
static int
view_skips(const struct dft_view *vw, const json_t *op)
{
    const char *id = json_string_value(json_object_get(op, "id"));
    return (vw->sync_mode & VIEW_LOG_ONLY) != 0 ||
           (vw->skip != NULL && id != NULL && json_object_get(vw->skip, id) != NULL);
}

static enum dft_err
add_history(struct dft_view *vw, const char *id, int64_t idx, int64_t seq, const struct dft_buf *op,
            struct dft_error *err)
{
    sqlite3_stmt *st = vw->ins_history;
    bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, idx);
    sqlite3_bind_int64(st, 3, seq);
    sqlite3_bind_text(st, 4, (const char *)op->data, (int)op->len, SQLITE_STATIC);
    return step_done(vw, st, err);
}

enum dft_err
view_apply(struct dft_view *vw, int64_t idx, const json_t *ops, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    struct dft_buf opbuf, tmp;
    dft_buf_init(&opbuf, DFT_ENV_MAX, 0);
    dft_buf_init(&tmp, DFT_ENV_MAX, 0);
    struct vault_idset touched = VAULT_IDSET_INIT; /* ids in first-touch order */
    size_t n = json_array_size(ops);
    const char *ts = NULL;
    const char *author = NULL;
    struct view_pending pending = {NULL, 0, 0};
    vw->pending = vw->index_search ? &pending : NULL;
    for (size_t i = 0; i < n; i++) {
        const json_t *op = json_array_get(ops, i);
        const char *action = json_string_value(json_object_get(op, "action"));
        const char *record = json_string_value(json_object_get(op, "record"));
        ts = json_string_value(json_object_get(op, "ts"));
        author = json_string_value(json_object_get(op, "author"));
        if (action == NULL || record == NULL || ts == NULL || author == NULL) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "operation is incomplete");
            goto out;
        }
        struct ahead_slot *made = ahead_wait(vw->ahead, i);
        if (strcmp(action, "create") != 0 && (rc = index_flush(vw, err)) != DFT_OK) {
            goto out;
        }
        if (view_skips(vw, op)) {
            /* history only */
        } else if (strcmp(action, "create") == 0) {
            rc = apply_create(vw, op, ts, &tmp, made != NULL ? &made->fields : NULL, err);
        } else if (strcmp(action, "update") == 0) {
            rc = apply_update(vw, op, ts, &tmp, err);
        } else if (strcmp(action, "delete") == 0) {
            rc = apply_delete(vw, op, ts, err);
        } else if (strcmp(action, "link") == 0) {
            rc = apply_link(vw, op, ts, err);
        } else if (strcmp(action, "unlink") == 0) {
            rc = apply_unlink(vw, op, err);
        } else if (strcmp(action, "restore") == 0) {
            rc = apply_restore(vw, op, ts, err);
        } else if (strcmp(action, "evidence") == 0) {
            rc = apply_evidence(vw, op, ts, &tmp, err);
        }
        /* Other actions (custody, merge...) live in history only. */
        if (rc != DFT_OK) {
            goto out;
        }
        if (vw->sync_mode & VIEW_NO_LOG) {
            ahead_release(vw->ahead, i);
            continue;
        }
        const struct dft_buf *opc = &opbuf;
        if (vw->sync_mode & VIEW_NO_HISTORY) {
            /* no history rows: the op's text is not needed */
        } else if (made != NULL && made->op.len > 0) {
            opc = &made->op;
        } else {
            dft_buf_reset(&opbuf);
            rc = json_canonical(op, &opbuf, err);
            if (rc != DFT_OK) {
                goto out;
            }
        }
        const char *ids[2];
        op_touched(op, &ids[0], &ids[1]);
        for (int k = 0; k < 2; k++) {
            if (ids[k] == NULL) {
                continue;
            }
            if (vault_idset_add(&touched, ids[k], NULL) < 0) {
                rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
                goto out;
            }
            if ((vw->sync_mode & VIEW_NO_HISTORY) == 0) {
                rc = add_history(vw, ids[k], idx, (int64_t)i, opc, err);
            }
            if (rc != DFT_OK) {
                goto out;
            }
        }
        ahead_release(vw->ahead, i);
    }
    if ((rc = index_flush(vw, err)) != DFT_OK) {
        goto out;
    }
    if (vw->sync_mode & VIEW_NO_LOG) {
        goto out;
    }
    const char *entry_action =
        n == 1 ? json_string_value(json_object_get(json_array_get(ops, 0), "action")) : "batch";
    dft_buf_reset(&tmp);
    rc = json_canonical_strings(touched.ids, touched.n, &tmp, err);
    if (rc != DFT_OK) {
        goto out;
    }
    sqlite3_stmt *st = vw->ins_entry;
    sqlite3_bind_int64(st, 1, idx);
    bind_text(st, 2, entry_action);
    bind_text(st, 3, author);
    bind_text(st, 4, ts);
    sqlite3_bind_text(st, 5, (const char *)tmp.data, (int)tmp.len, SQLITE_STATIC);
    rc = step_done(vw, st, err);
out:
    vw->pending = NULL;
    free(pending.recs);
    vault_idset_free(&touched);
    dft_buf_release(&opbuf);
    dft_buf_release(&tmp);
    return rc;
}
