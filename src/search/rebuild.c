/*
 * rebuild.c - check the search index against one rebuilt from the records (for verify).
 *
 * The caller feeds every live record; each is folded by the same code that indexes the vault
 * (search_prepare) into the rows of search_doc in a private in-memory database, and the stored
 * index rows (id, type, title, names, body and the folded keys) must equal the rebuilt ones, row
 * for row. The full-text tables are not rebuilt: only search_doc is compared, and search_check
 * checks the stored full-text tables against it. The in-memory database never touches disk
 * (temp_store=MEMORY) and is closed on free. verify uses the streaming form below
 * (search_stream_*, rebuild.h): the same comparison, folded on two threads, without the
 * in-memory database.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/json_arena.h"
#include "crypto/json_fast.h"
#include "search/internal.h"
#include "search/rebuild.h"
#include "search/search.h"
#include "store/store.h"

struct dft_search_rebuild {
    sqlite3 *mem;
    int in_tx;
    sqlite3_stmt *ins;            /* into the in-memory search_doc */
    struct search_prepared *prep; /* reused by every put */
};

void
search_rebuild_free(struct dft_search_rebuild *r)
{
    if (r == NULL) {
        return;
    }
    sqlite3_finalize(r->ins);
    if (r->mem != NULL) {
        (void)sqlite3_close_v2(r->mem);
    }
    if (r->prep != NULL) {
        search_prepared_release(r->prep);
        free(r->prep);
    }
    sqlite3_free(r);
}

enum dft_err
search_rebuild_open(struct dft_search_rebuild **out, struct dft_error *err)
{
    struct dft_search_rebuild *r = sqlite3_malloc(sizeof *r);
    enum dft_err rc = DFT_OK;
    *out = NULL;
    if (r == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    memset(r, 0, sizeof *r);
    int src =
        sqlite3_open_v2(":memory:", &r->mem, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (src != SQLITE_OK) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "cannot open a database in memory");
        goto out;
    }
    /* the rows search_insert writes, keyed by id: a second put of an id replaces the first */
    if ((rc = store_exec(r->mem,
                         "PRAGMA temp_store=MEMORY;"
                         "CREATE TABLE search_doc(id TEXT PRIMARY KEY, type TEXT NOT NULL,"
                         " title TEXT NOT NULL, names TEXT NOT NULL, body TEXT NOT NULL,"
                         " toks TEXT NOT NULL) WITHOUT ROWID",
                         err)) != DFT_OK ||
        (rc = store_exec(r->mem, "BEGIN", err)) != DFT_OK) {
        goto out;
    }
    r->in_tx = 1;
    src = sqlite3_prepare_v2(r->mem,
                             "INSERT OR REPLACE INTO search_doc(id, type, title, names, body, toks)"
                             " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                             -1, &r->ins, NULL);
    r->prep = malloc(sizeof *r->prep);
    if (src != SQLITE_OK || r->prep == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "cannot open a database in memory");
        goto out;
    }
    search_prepared_init(r->prep);
    *out = r;
    r = NULL;
out:
    search_rebuild_free(r);
    return rc;
}

enum dft_err
search_rebuild_put(struct dft_search_rebuild *r, const char *id, const char *type,
                   const char *title, const json_t *fields, struct dft_error *err)
{
    if (r == NULL || id == NULL || type == NULL) {
        return dft_fail(err, DFT_ERR_USAGE, "search put needs a database, an id and a type");
    }
    const struct search_prepared *p = r->prep;
    enum dft_err e = search_prepare(r->prep, title, fields, err);
    if (e != DFT_OK) {
        return e;
    }
    sqlite3_stmt *st = r->ins;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, title != NULL ? title : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, p->names.len ? (const char *)p->names.data : "", (int)p->names.len,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 5, p->body.len ? (const char *)p->body.data : "", (int)p->body.len,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 6, p->toks.len ? (const char *)p->toks.data : "", (int)p->toks.len,
                      SQLITE_STATIC);
    int src = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (src != SQLITE_DONE) {
        return store_error(r->mem, src, "cannot rebuild the search index", err);
    }
    return DFT_OK;
}

static int
same_text(sqlite3_stmt *a, sqlite3_stmt *b, int col)
{
    int na = sqlite3_column_bytes(a, col);
    int nb = sqlite3_column_bytes(b, col);
    const void *pa = sqlite3_column_blob(a, col);
    const void *pb = sqlite3_column_blob(b, col);
    return na == nb && (na == 0 || memcmp(pa, pb, (size_t)na) == 0);
}

/*
 * The stored name keys, in the current form: each token is flags, exact form (empty when it
 * equals the folded one) and folded form. Indexes made before tokenizer version 2 kept every
 * exact form and two more fields per token (recomputed since when scoring): those are brought
 * to the current form before comparing. NULL when out of memory.
 */
static char *
current_keys(const char *p, size_t n, size_t *len)
{
    char *out = malloc(n + 1);
    size_t o = 0, i = 0;
    if (out == NULL) {
        return NULL;
    }
    while (i < n) {
        /* one token: up to the next token or name separator */
        size_t end = i;
        while (end < n && p[end] != SEARCH_SEP_TOKEN && p[end] != SEARCH_SEP_NAME) {
            end++;
        }
        size_t f[6], fn = 0; /* field starts */
        f[fn++] = i;
        for (size_t k = i; k < end && fn < 6; k++) {
            if (p[k] == SEARCH_SEP_FIELD) {
                f[fn++] = k + 1;
            }
        }
        if (fn >= 3) {
            size_t l0 = f[1] - 1 - f[0], l1 = f[2] - 1 - f[1];
            size_t l2 = (fn > 3 ? f[3] - 1 : end) - f[2];
            int same = l1 == l2 && memcmp(p + f[1], p + f[2], l1) == 0;
            memcpy(out + o, p + f[0], l0);
            o += l0;
            out[o++] = SEARCH_SEP_FIELD;
            if (!same) {
                memcpy(out + o, p + f[1], l1);
                o += l1;
            }
            out[o++] = SEARCH_SEP_FIELD;
            memcpy(out + o, p + f[2], l2);
            o += l2;
        } else {
            memcpy(out + o, p + i, end - i);
            o += end - i;
        }
        if (end < n) {
            out[o++] = p[end];
        }
        i = end + 1;
    }
    *len = o;
    return out;
}

/* Keys pa (na bytes) and pb (nb bytes) the same in the current form; -1 when out of memory. */
static int
same_keys_raw(const char *pa, size_t la, const char *pb, size_t lb)
{
    size_t na = 0, nb = 0;
    char *ka = current_keys(pa, la, &na);
    char *kb = current_keys(pb, lb, &nb);
    int same = ka == NULL || kb == NULL ? -1 : (na == nb && memcmp(ka, kb, na) == 0);
    free(ka);
    free(kb);
    return same;
}

static int
same_keys(sqlite3_stmt *a, sqlite3_stmt *b, int col)
{
    return same_keys_raw(
        (const char *)sqlite3_column_blob(a, col), (size_t)sqlite3_column_bytes(a, col),
        (const char *)sqlite3_column_blob(b, col), (size_t)sqlite3_column_bytes(b, col));
}

struct line {
    const char *p;
    size_t n;
};

static int
line_cmp(const void *a, const void *b)
{
    const struct line *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, n);
    return c != 0 ? c : (x->n > y->n) - (x->n < y->n);
}

/* Split p (n bytes) at newlines into a new sorted array; *count lines. NULL when out of memory. */
static struct line *
sorted_lines(const char *p, size_t n, size_t *count)
{
    size_t k = n > 0 ? 1 : 0;
    for (size_t i = 0; i < n; i++) {
        k += p[i] == '\n';
    }
    struct line *ls = malloc((k ? k : 1) * sizeof *ls);
    if (ls == NULL) {
        return NULL;
    }
    size_t j = 0, start = 0;
    for (size_t i = 0; i <= n && n > 0; i++) {
        if (i == n || p[i] == '\n') {
            ls[j].p = p + start;
            ls[j].n = i - start;
            j++;
            start = i + 1;
        }
    }
    qsort(ls, j, sizeof *ls, line_cmp);
    *count = j;
    return ls;
}

/*
 * The body holds one line per text field in the order of the field object, which depends on
 * how it was read (the operation or the stored canonical JSON): compare it as a set of lines.
 * -1 when out of memory.
 */
static int
same_lines_raw(const char *pa, size_t ta, const char *pb, size_t tb)
{
    size_t na = 0, nb = 0;
    struct line *la = sorted_lines(pa, ta, &na);
    struct line *lb = sorted_lines(pb, tb, &nb);
    int same = la == NULL || lb == NULL ? -1 : na == nb;
    for (size_t i = 0; same == 1 && i < na; i++) {
        same = line_cmp(&la[i], &lb[i]) == 0;
    }
    free(la);
    free(lb);
    return same;
}

static int
same_lines(sqlite3_stmt *a, sqlite3_stmt *b, int col)
{
    return same_lines_raw(
        (const char *)sqlite3_column_blob(a, col), (size_t)sqlite3_column_bytes(a, col),
        (const char *)sqlite3_column_blob(b, col), (size_t)sqlite3_column_bytes(b, col));
}

enum dft_err
search_rebuild_compare(struct dft_search_rebuild *r, sqlite3 *db, struct dft_error *err)
{
    static const char *const sql =
        "SELECT id, type, title, names, body, toks FROM search_doc ORDER BY id";
    static const char *const cols[] = {"id", "type", "title", "names", "body", "keys"};
    sqlite3_stmt *a = NULL, *b = NULL;
    enum dft_err rc = DFT_OK;
    int sa = sqlite3_prepare_v2(db, sql, -1, &a, NULL);
    if (sa != SQLITE_OK) {
        rc = store_error(db, sa, "cannot read the search index", err);
        goto out;
    }
    int sb = sqlite3_prepare_v2(r->mem, sql, -1, &b, NULL);
    if (sb != SQLITE_OK) {
        rc = store_error(r->mem, sb, "cannot read the rebuilt search index", err);
        goto out;
    }
    long long row = 0;
    for (;; row++) {
        sa = sqlite3_step(a);
        sb = sqlite3_step(b);
        if (sa != SQLITE_ROW && sa != SQLITE_DONE) {
            rc = store_error(db, sa, "cannot read the search index", err);
            goto out;
        }
        if (sb != SQLITE_ROW && sb != SQLITE_DONE) {
            rc = store_error(r->mem, sb, "cannot read the rebuilt search index", err);
            goto out;
        }
        if (sa == SQLITE_DONE && sb == SQLITE_DONE) {
            break;
        }
        if (sa != sb) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY,
                          "the search index has %s entries than the records it indexes",
                          sa == SQLITE_ROW ? "more" : "fewer");
            goto out;
        }
        for (int c = 0; c < 6; c++) {
            int same = c == 4   ? same_lines(a, b, c)
                       : c == 5 ? same_keys(a, b, c)
                                : same_text(a, b, c);
            if (same < 0) {
                rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
                goto out;
            }
            if (!same) {
                rc = dft_fail(err, DFT_ERR_INTEGRITY,
                              "the search index differs from the records in the %s of entry %lld",
                              cols[c], row);
                goto out;
            }
        }
    }
out:
    sqlite3_finalize(a);
    sqlite3_finalize(b);
    return rc;
}

/*
 * ---- the streaming check (search_stream_*) ----
 *
 * The live records come in id order, in batches; a worker folds the queued batches in order
 * while the caller fills the next, and the caller compares each folded batch, in order, with
 * the next stored rows in id order, by the same rules as search_rebuild_compare. When every
 * batch of the ring is in use, the caller folds the oldest queued batch itself: both threads
 * fold, as much as each has time for. No second database: nothing is inserted or sorted.
 */

#define STREAM_BATCH 256 /* records per batch */
#define STREAM_RING  4   /* batches: one filling, the others queued, folding or folded */

struct stream_row {
    size_t id, type, title, fields, fields_len; /* offsets into the batch text */
    struct search_prepared prep;
    enum dft_err e;
    struct dft_error err;
};

struct stream_batch {
    struct dft_buf text; /* secure: the records' contents */
    struct stream_row rows[STREAM_BATCH];
    size_t n;
    int folded; /* under lock */
};

/*
 * Batches by sequence number, batch k in b[k % STREAM_RING]: [head, next) are taken for
 * folding (folded or not), [next, tail) queued, tail is being filled.
 */
struct dft_search_stream {
    sqlite3 *db;
    sqlite3_stmt *stored;
    long long row; /* stored rows compared */
    struct stream_batch b[STREAM_RING];
    size_t head, next, tail; /* under lock (tail written by the caller only) */
    pthread_t th;
    int have_thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int quit;
};

/* Fold a batch; its JSON is parsed into an arena when one is free (json_arena.h): no walk to free.
 */
static void
fold_batch(struct stream_batch *b)
{
    struct crypto_json_arena *a = crypto_json_arena_take();
    crypto_json_arena_enter(a);
    for (size_t i = 0; i < b->n; i++) {
        struct stream_row *r = &b->rows[i];
        const char *t = (const char *)b->text.data;
        json_t *fields = crypto_json_loadb(t + r->fields, r->fields_len, 0);
        dft_error_clear(&r->err);
        if (!json_is_object(fields)) {
            r->e = dft_fail(&r->err, DFT_ERR_INTEGRITY, "a rebuilt record has malformed fields");
        } else {
            r->e = search_prepare(&r->prep, t + r->title, fields, &r->err);
        }
        if (a == NULL || crypto_json_arena_spilled(a)) {
            json_decref(fields); /* not all of it in the arena: freed the usual way */
        }
    }
    crypto_json_arena_leave();
    crypto_json_arena_release(a);
}

/* Take the oldest queued batch (lock held), fold it without the lock, mark it folded. */
static void
take_and_fold(struct dft_search_stream *s)
{
    struct stream_batch *b = &s->b[s->next % STREAM_RING];
    s->next++;
    pthread_mutex_unlock(&s->lock);
    fold_batch(b);
    pthread_mutex_lock(&s->lock);
    b->folded = 1;
    pthread_cond_broadcast(&s->cond);
}

static void *
stream_worker(void *arg)
{
    struct dft_search_stream *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->quit && s->next == s->tail) {
            pthread_cond_wait(&s->cond, &s->lock);
        }
        if (s->quit) {
            break;
        }
        take_and_fold(s);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static enum dft_err
stream_compare_row(struct dft_search_stream *s, const struct stream_batch *b,
                   const struct stream_row *r, struct dft_error *err)
{
    static const char *const cols[] = {"id", "type", "title", "names", "body", "keys"};
    if (r->e != DFT_OK) {
        return dft_fail(err, r->e, "%s", r->err.msg);
    }
    int sa = sqlite3_step(s->stored);
    if (sa == SQLITE_DONE) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "the search index has fewer entries than the records it indexes");
    }
    if (sa != SQLITE_ROW) {
        return store_error(s->db, sa, "cannot read the search index", err);
    }
    const char *t = (const char *)b->text.data;
    const struct search_prepared *p = &r->prep;
    const char *mine[6] = {t + r->id,
                           t + r->type,
                           t + r->title,
                           p->names.len ? (const char *)p->names.data : "",
                           p->body.len ? (const char *)p->body.data : "",
                           p->toks.len ? (const char *)p->toks.data : ""};
    size_t mlen[6] = {strlen(mine[0]), strlen(mine[1]), strlen(mine[2]),
                      p->names.len,    p->body.len,     p->toks.len};
    for (int c = 0; c < 6; c++) {
        const char *q = (const char *)sqlite3_column_blob(s->stored, c);
        size_t n = (size_t)sqlite3_column_bytes(s->stored, c);
        int same = c == 4   ? same_lines_raw(q, n, mine[c], mlen[c])
                   : c == 5 ? same_keys_raw(q, n, mine[c], mlen[c])
                            : n == mlen[c] && (n == 0 || memcmp(q, mine[c], n) == 0);
        if (same < 0) {
            return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
        if (!same) {
            return dft_fail(err, DFT_ERR_INTEGRITY,
                            "the search index differs from the records in the %s of entry %lld",
                            cols[c], s->row);
        }
    }
    s->row++;
    return DFT_OK;
}

/*
 * Compare the folded batches at the head, in order; then, while the ring is full (or, with
 * all, until every batch is compared), fold the oldest queued batch here or wait for it.
 */
static enum dft_err
stream_advance(struct dft_search_stream *s, int all, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        struct stream_batch *h = &s->b[s->head % STREAM_RING];
        if (s->head < s->next && h->folded) {
            pthread_mutex_unlock(&s->lock); /* a folded batch is the caller's alone */
            for (size_t i = 0; i < h->n && rc == DFT_OK; i++) {
                rc = stream_compare_row(s, h, &h->rows[i], err);
            }
            h->n = 0;
            dft_buf_reset(&h->text);
            pthread_mutex_lock(&s->lock);
            h->folded = 0;
            s->head++;
            if (rc != DFT_OK) {
                break;
            }
            continue;
        }
        if (all ? s->head == s->tail : s->tail - s->head < STREAM_RING) {
            break;
        }
        if (s->next < s->tail) {
            take_and_fold(s);
        } else {
            pthread_cond_wait(&s->cond, &s->lock); /* the worker folds the head batch */
        }
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* Queue the batch being filled and start the next. */
static enum dft_err
stream_queue(struct dft_search_stream *s, int all, struct dft_error *err)
{
    pthread_mutex_lock(&s->lock);
    if (s->b[s->tail % STREAM_RING].n > 0) {
        s->tail++;
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    return stream_advance(s, all, err);
}

void
search_stream_free(struct dft_search_stream *s)
{
    if (s == NULL) {
        return;
    }
    if (s->have_thread) {
        pthread_mutex_lock(&s->lock);
        s->quit = 1; /* the worker ends the batch it folds, then stops */
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->th, NULL);
    }
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    sqlite3_finalize(s->stored);
    for (int k = 0; k < STREAM_RING; k++) {
        dft_buf_release(&s->b[k].text);
        for (size_t i = 0; i < STREAM_BATCH; i++) {
            search_prepared_release(&s->b[k].rows[i].prep);
        }
    }
    free(s);
}

enum dft_err
search_stream_open(struct dft_search_stream **out, sqlite3 *db, struct dft_error *err)
{
    *out = NULL;
    struct dft_search_stream *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s);
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (pthread_cond_init(&s->cond, NULL) != 0) {
        pthread_mutex_destroy(&s->lock);
        free(s);
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    s->db = db;
    for (int k = 0; k < STREAM_RING; k++) {
        dft_buf_init(&s->b[k].text, SIZE_MAX / 2, 1);
        for (size_t i = 0; i < STREAM_BATCH; i++) {
            search_prepared_init(&s->b[k].rows[i].prep);
        }
    }
    int src = sqlite3_prepare_v2(
        db, "SELECT id, type, title, names, body, toks FROM search_doc ORDER BY id", -1, &s->stored,
        NULL);
    if (src != SQLITE_OK) {
        enum dft_err rc = store_error(db, src, "cannot read the search index", err);
        search_stream_free(s);
        return rc;
    }
    /* without a thread, the caller folds every batch (stream_advance) */
    s->have_thread = pthread_create(&s->th, NULL, stream_worker, s) == 0;
    *out = s;
    return DFT_OK;
}

enum dft_err
search_stream_put(struct dft_search_stream *s, const char *id, const char *type, const char *title,
                  const char *fields, size_t fields_len, struct dft_error *err)
{
    if (s == NULL || id == NULL || type == NULL || fields == NULL) {
        return dft_fail(err, DFT_ERR_USAGE, "search put needs a stream, an id and a type");
    }
    struct stream_batch *b = &s->b[s->tail % STREAM_RING];
    struct stream_row *r = &b->rows[b->n];
    const char *parts[4] = {id, type, title != NULL ? title : "", fields};
    size_t lens[4] = {strlen(id), strlen(type), strlen(parts[2]), fields_len};
    size_t *offs[4] = {&r->id, &r->type, &r->title, &r->fields};
    for (int k = 0; k < 4; k++) {
        *offs[k] = b->text.len;
        enum dft_err rc = dft_buf_add(&b->text, parts[k], lens[k]);
        if (rc == DFT_OK) {
            rc = dft_buf_add(&b->text, "", 1); /* each part ends with a NUL */
        }
        if (rc != DFT_OK) {
            return dft_fail(err, rc, "out of memory");
        }
    }
    r->fields_len = fields_len;
    b->n++;
    return b->n == STREAM_BATCH ? stream_queue(s, 0, err) : DFT_OK;
}

enum dft_err
search_stream_finish(struct dft_search_stream *s, struct dft_error *err)
{
    enum dft_err rc = stream_queue(s, 1, err);
    if (rc != DFT_OK) {
        return rc;
    }
    int sa = sqlite3_step(s->stored);
    if (sa == SQLITE_ROW) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "the search index has more entries than the records it indexes");
    }
    if (sa != SQLITE_DONE) {
        return store_error(s->db, sa, "cannot read the search index", err);
    }
    return DFT_OK;
}
