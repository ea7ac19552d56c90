/*
 * index.c - the search index inside the vault database: the "defter" FTS5 tokenizer, the index
 * tables and the writes that keep them in step with the records.
 *
 * Tables (all a view, rebuilt from the records at will):
 *   search_doc   one row per record: id, type, title, the name strings and body text (the FTS
 *                content) and the serialised name tokens that the scorer reads
 *   search_name  FTS5 over the names: each word gives its coarse key and, for words of four or
 *                more letters, every single-deletion variant of it (typo neighbourhood); with
 *                tokenizer version 2 (tables made since) also the key of its root when it has
 *                a Russified or Turkic suffix, and of its given-name form (rules.c)
 *   search_text  FTS5 over the other text fields: one coarse key per word
 * Nothing here writes outside the connection it is given or logs any text it indexes.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "search/internal.h"
#include "search/sealed.h"

#define BODY_MAX          (256 * 1024) /* bytes of text fields indexed per record */
#define NAMES_MAX         (64 * 1024)  /* bytes of names indexed per record */
#define KEY_DELETIONS_MAX 24           /* longer keys get no deletion variants */

/* ---- deletion neighbourhood ---- */

void
search_deletions(const char *key, void (*fn)(void *ctx, const char *k, size_t n), void *ctx)
{
    size_t n = strlen(key);
    if (n < 4 || n > KEY_DELETIONS_MAX) {
        return;
    }
    char buf[DFT_SEARCH_TOKEN_MAX];
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && key[i] == key[i - 1]) {
            continue; /* same string as the previous deletion */
        }
        memcpy(buf, key, i);
        memcpy(buf + i, key + i + 1, n - i - 1);
        buf[n - 1] = '\0';
        fn(ctx, buf, n - 1);
    }
}

/* ---- the FTS5 tokenizer ---- */

/*
 * Tokens of the lines (names and text) that a put has already folded while preparing the
 * record, handed to the tokenizer of the FTS5 inserts that follow on the same thread, so each
 * line is folded once (and possibly on another thread: see batch.c). A piece of text whose
 * bytes equal a cached line reuses that line's tokens; any other text is tokenized as usual.
 * Only whole, untruncated lines are cached.
 */
static _Thread_local const struct search_token_cache *active_cache;

static const struct dft_search_token *
cached_tokens(const char *text, int n, int *count, int *line)
{
    const struct search_token_cache *c = active_cache;
    for (int i = 0; c != NULL && i < c->lines; i++) {
        if (c->line[i].len == (size_t)n && memcmp(c->line[i].text, text, (size_t)n) == 0) {
            *count = c->line[i].count;
            *line = i;
            return c->toks + c->line[i].first;
        }
    }
    return NULL;
}

struct tokenizer {
    int names;   /* 1: emit deletion variants too */
    int version; /* 2: also roots and given-name forms (tables made before have 1) */
};

struct emit_ctx {
    void *fts_ctx;
    int (*x_token)(void *, int, const char *, int, int, int);
    int start, end;
    int rc;
};

static void
emit_colocated(void *ctx, const char *k, size_t n)
{
    struct emit_ctx *e = ctx;
    if (e->rc == SQLITE_OK) {
        e->rc = e->x_token(e->fts_ctx, FTS5_TOKEN_COLOCATED, k, (int)n, e->start, e->end);
    }
}

static int
tok_create(void *ctx, const char **argv, int argc, Fts5Tokenizer **out)
{
    (void)ctx;
    struct tokenizer *t = calloc(1, sizeof *t);
    if (t == NULL) {
        return SQLITE_NOMEM;
    }
    t->names = argc > 0 && strcmp(argv[0], "names") == 0;
    t->version = argc > 1 && strcmp(argv[1], "2") == 0 ? 2 : 1;
    *out = (Fts5Tokenizer *)t;
    return SQLITE_OK;
}

static void
tok_delete(Fts5Tokenizer *t)
{
    free(t);
}

/* Tokenize one piece (no more than a few KB) of text at offset base. */
static int
tok_piece(const struct tokenizer *t, struct emit_ctx *e, const char *text, int n, int base)
{
    struct dft_search_token buf[256];
    const struct dft_search_token *toks = NULL;
    int cnt = 0;
    int line = -1;
    toks = cached_tokens(text, n, &cnt, &line);
    if (toks != NULL && t->names && t->version == 2 && active_cache->line[line].kcount >= 0) {
        /* the keys made ahead (cache_keys): the same keys the loop below emits, in order */
        const struct search_token_cache *c = active_cache;
        const struct search_cached_key *k = c->keys + c->line[line].kfirst;
        for (int i = 0; i < c->line[line].kcount && e->rc == SQLITE_OK; i++) {
            e->start = base;
            e->end = base + n;
            e->rc = e->x_token(e->fts_ctx, k[i].colocated, c->kbytes + k[i].off, k[i].len, e->start,
                               e->end);
        }
        return e->rc;
    }
    if (toks == NULL) {
        cnt = search_tokenize(text, (size_t)n, buf, 256);
        toks = buf;
    }
    for (int i = 0; i < cnt && e->rc == SQLITE_OK; i++) {
        e->start = base;
        e->end = base + n;
        size_t kl = strlen(toks[i].key);
        if (kl == 0) {
            continue;
        }
        e->rc = e->x_token(e->fts_ctx, 0, toks[i].key, (int)kl, e->start, e->end);
        if (t->names && e->rc == SQLITE_OK) {
            search_deletions(toks[i].key, emit_colocated, e);
        }
        if (t->names && t->version >= 2 && e->rc == SQLITE_OK) {
            char extra[2][DFT_SEARCH_TOKEN_MAX];
            int ne = search_extra_keys(&toks[i], extra);
            for (int k = 0; k < ne; k++) {
                emit_colocated(e, extra[k], strlen(extra[k]));
            }
        }
    }
    return e->rc;
}

static int
tok_tokenize(Fts5Tokenizer *tk, void *ctx, int flags, const char *text, int n,
             int (*x_token)(void *, int, const char *, int, int, int))
{
    const struct tokenizer *t = (const struct tokenizer *)tk;
    struct emit_ctx e = {ctx, x_token, 0, 0, SQLITE_OK};
    if (n <= 0) {
        return SQLITE_OK;
    }
    if ((flags & FTS5_TOKENIZE_QUERY) != 0 && text[0] == SEARCH_RAW_KEY) {
        return n > 1 ? x_token(ctx, 0, text + 1, n - 1, 0, n) : SQLITE_OK;
    }
    /* pieces end at a newline or at a space near 2 KB, so a token array stays small */
    int pos = 0;
    while (pos < n && e.rc == SQLITE_OK) {
        int end = pos;
        int last_space = -1;
        while (end < n && text[end] != '\n' && end - pos < 2048) {
            if (text[end] == ' ' || text[end] == '\t') {
                last_space = end;
            }
            end++;
        }
        if (end < n && text[end] != '\n' && last_space > pos) {
            end = last_space;
        }
        if (end > pos) {
            tok_piece(t, &e, text + pos, end - pos, pos);
        }
        pos = end + 1;
    }
    return e.rc;
}

static fts5_api *
get_fts5(sqlite3 *db)
{
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK) {
        return NULL;
    }
    sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(st);
    sqlite3_finalize(st);
    return api;
}

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS search_doc("
    " rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,"
    " title TEXT NOT NULL, names TEXT NOT NULL, body TEXT NOT NULL, toks TEXT NOT NULL);"
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_name USING fts5(names, content='search_doc',"
    " content_rowid='rid', tokenize='defter names 2', detail=none, columnsize=0);"
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_text USING fts5(body, content='search_doc',"
    " content_rowid='rid', tokenize='defter text', detail=none, columnsize=0);";

enum dft_err
search_setup(sqlite3 *db, struct dft_error *err)
{
    fts5_api *api = get_fts5(db);
    if (api == NULL || api->iVersion < 2) {
        return dft_fail(err, DFT_ERR_INTERNAL, "cannot set up search: sqlite has no fts5");
    }
    static fts5_tokenizer tok = {tok_create, tok_delete, tok_tokenize};
    int rc = api->xCreateTokenizer(api, "defter", NULL, &tok, NULL);
    if (rc != SQLITE_OK) {
        return store_error(db, rc, "cannot set up search", err);
    }
    rc = sqlite3_exec(db, schema, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        return store_error(db, rc, "cannot set up search", err);
    }
    return DFT_OK;
}

/* ---- serialised names ---- */

static enum dft_err
add_token(struct dft_buf *out, const struct dft_search_token *t, int first)
{
    enum dft_err e = DFT_OK;
    char sep[2] = {SEARCH_SEP_FIELD, 0};
    char tsep[2] = {SEARCH_SEP_TOKEN, 0};
    char fl[2] = {(char)('0' + (t->flags & DFT_SEARCH_TOK_PATRONYMIC)), 0};
    if (!first && (e = dft_buf_adds(out, tsep)) != DFT_OK) {
        return e;
    }
    /* skel and stem are recomputed from folded when scoring; exact only when it differs */
    const char *parts[] = {fl, strcmp(t->exact, t->folded) == 0 ? "" : t->exact, t->folded};
    for (size_t i = 0; i < 3; i++) {
        if (i > 0 && (e = dft_buf_adds(out, sep)) != DFT_OK) {
            return e;
        }
        if ((e = dft_buf_adds(out, parts[i])) != DFT_OK) {
            return e;
        }
    }
    return DFT_OK;
}

/* One name's tokens; alias_pos >= 0: that alias replaces the word before it, others dropped. */
static enum dft_err
add_variant(struct dft_buf *out, const struct dft_search_token *t, int n, int alias_pos)
{
    enum dft_err e = DFT_OK;
    int first = 1;
    if (out->len > 0) {
        char nsep[2] = {SEARCH_SEP_NAME, 0};
        if ((e = dft_buf_adds(out, nsep)) != DFT_OK) {
            return e;
        }
    }
    for (int i = 0; i < n; i++) {
        if ((t[i].flags & DFT_SEARCH_TOK_ALIAS) != 0 && i != alias_pos) {
            continue;
        }
        if (alias_pos >= 0 && i == alias_pos - 1) {
            continue; /* the word the alias stands for */
        }
        if ((e = add_token(out, &t[i], first)) != DFT_OK) {
            return e;
        }
        first = 0;
    }
    return DFT_OK;
}

/*
 * Grow a buffer that holds name-derived text (tokens, keys): a new block, the old contents
 * copied, the old block wiped and freed; never realloc, which could leave a copy behind.
 */
static void *
grow_wiped(void *old, size_t used, size_t cap)
{
    void *v = malloc(cap);
    if (v == NULL) {
        return NULL;
    }
    if (old != NULL) {
        memcpy(v, old, used);
        sodium_memzero(old, used);
        free(old);
    }
    return v;
}

/*
 * The tokenizer takes a line as one piece when it is shorter than its 2 KB piece limit; a line
 * with fewer tokens than the most asked for was not cut short. Only such lines are cached; a
 * full cache or a failed allocation only means the line is folded again when inserted.
 */
static void
cache_line(struct search_token_cache *c, const char *text, size_t len,
           const struct dft_search_token *t, int n, int max)
{
    if (c == NULL || c->lines >= SEARCH_CACHE_LINES || n < 0 || n >= max || len >= 2048) {
        return;
    }
    if (c->ntoks + n > c->cap) {
        int cap = c->cap ? c->cap : 64;
        while (cap < c->ntoks + n) {
            cap *= 2;
        }
        struct dft_search_token *v =
            grow_wiped(c->toks, (size_t)c->cap * sizeof *v, (size_t)cap * sizeof *v);
        if (v == NULL) {
            return;
        }
        c->toks = v;
        c->cap = cap;
    }
    c->line[c->lines].text = text;
    c->line[c->lines].len = len;
    c->line[c->lines].first = c->ntoks;
    c->line[c->lines].count = n;
    c->line[c->lines].kfirst = 0;
    c->line[c->lines].kcount = -1;
    if (n > 0) {
        memcpy(c->toks + c->ntoks, t, (size_t)n * sizeof *t);
    }
    c->ntoks += n;
    c->lines++;
}

static enum dft_err
serialise_names(const char *names, size_t len, struct dft_buf *out,
                struct search_token_cache *cache)
{
    enum dft_err e = DFT_OK;
    size_t pos = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && names[end] != '\n') {
            end++;
        }
        struct dft_search_token t[SEARCH_NAME_TOKENS];
        int n = search_tokenize(names + pos, end - pos, t, SEARCH_NAME_TOKENS);
        cache_line(cache, names + pos, end - pos, t, n, SEARCH_NAME_TOKENS);
        if (n > 0) {
            if ((e = add_variant(out, t, n, -1)) != DFT_OK) {
                return e;
            }
            for (int i = 1; i < n; i++) {
                if ((t[i].flags & DFT_SEARCH_TOK_ALIAS) != 0 &&
                    (t[i - 1].flags & DFT_SEARCH_TOK_ALIAS) == 0) {
                    if ((e = add_variant(out, t, n, i)) != DFT_OK) {
                        return e;
                    }
                }
            }
        }
        pos = end + 1;
    }
    return DFT_OK;
}

/* ---- the names tokenizer's keys, made ahead ---- */

struct key_sink {
    struct search_token_cache *c;
    int colocated;
    int ok;
};

static void
sink_key(void *ctx, const char *k, size_t n)
{
    struct key_sink *s = ctx;
    struct search_token_cache *c = s->c;
    if (!s->ok) {
        return;
    }
    if (c->nkeys == c->keys_cap) {
        int cap = c->keys_cap ? c->keys_cap * 2 : 128;
        struct search_cached_key *v = realloc(c->keys, (size_t)cap * sizeof *v);
        if (v == NULL) {
            s->ok = 0;
            return;
        }
        c->keys = v;
        c->keys_cap = cap;
    }
    if (c->kbytes_len + n > c->kbytes_cap) {
        size_t cap = c->kbytes_cap ? c->kbytes_cap : 1024;
        while (cap < c->kbytes_len + n) {
            cap *= 2;
        }
        char *v = grow_wiped(c->kbytes, c->kbytes_cap, cap);
        if (v == NULL) {
            s->ok = 0;
            return;
        }
        c->kbytes = v;
        c->kbytes_cap = cap;
    }
    memcpy(c->kbytes + c->kbytes_len, k, n);
    c->keys[c->nkeys].off = (int)c->kbytes_len;
    c->keys[c->nkeys].len = (int)n;
    c->keys[c->nkeys].colocated = s->colocated;
    c->kbytes_len += n;
    c->nkeys++;
    s->colocated = FTS5_TOKEN_COLOCATED;
}

/*
 * The keys tok_piece emits for cached line i with the names tokenizer of version 2, in its
 * order: each token's key, then colocated its deletions and extra keys. Without memory the line
 * keeps kcount -1 and the tokenizer makes them itself.
 */
static void
cache_keys(struct search_token_cache *c, int i)
{
    struct key_sink s = {c, 0, 1};
    int kfirst = c->nkeys;
    size_t kbytes = c->kbytes_len;
    const struct dft_search_token *toks = c->toks + c->line[i].first;
    for (int j = 0; j < c->line[i].count && s.ok; j++) {
        size_t kl = strlen(toks[j].key);
        if (kl == 0) {
            continue;
        }
        s.colocated = 0;
        sink_key(&s, toks[j].key, kl);
        search_deletions(toks[j].key, sink_key, &s);
        char extra[2][DFT_SEARCH_TOKEN_MAX];
        int ne = search_extra_keys(&toks[j], extra);
        for (int k = 0; k < ne; k++) {
            sink_key(&s, extra[k], strlen(extra[k]));
        }
    }
    if (!s.ok) {
        c->nkeys = kfirst;
        c->kbytes_len = kbytes;
        return;
    }
    c->line[i].kfirst = kfirst;
    c->line[i].kcount = c->nkeys - kfirst;
}

/* Fold the short lines of the text fields ahead, as the text tokenizer will cut them. */
static void
cache_text(const char *body, size_t len, struct search_token_cache *cache)
{
    size_t pos = 0;
    while (pos < len && cache->lines < SEARCH_CACHE_LINES) {
        size_t end = pos;
        while (end < len && body[end] != '\n') {
            end++;
        }
        if (end - pos > 0 && end - pos < 2048) {
            struct dft_search_token t[SEARCH_TEXT_TOKENS];
            int n = search_tokenize(body + pos, end - pos, t, SEARCH_TEXT_TOKENS);
            cache_line(cache, body + pos, end - pos, t, n, SEARCH_TEXT_TOKENS);
        }
        pos = end + 1;
    }
}

enum dft_err
search_serialise_names(const char *names, size_t len, struct dft_buf *out)
{
    return serialise_names(names, len, out, NULL);
}

/* ---- put / remove ---- */

static enum dft_err
add_line(struct dft_buf *b, const char *s)
{
    enum dft_err e = DFT_OK;
    if (s == NULL || s[0] == '\0') {
        return DFT_OK;
    }
    if (b->len > 0 && (e = dft_buf_adds(b, "\n")) != DFT_OK) {
        return e;
    }
    /* newlines inside a value would split a name: make them spaces */
    size_t start = b->len;
    if ((e = dft_buf_adds(b, s)) != DFT_OK) {
        return e;
    }
    for (size_t i = start; i < b->len; i++) {
        if (b->data[i] == '\n' || b->data[i] == '\r') {
            b->data[i] = ' ';
        }
    }
    return DFT_OK;
}

/*
 * A writer keeps its statements prepared across puts: preparing them costs more than the
 * inserts themselves in a 100k-record batch. Without a writer, each call prepares its own.
 */
enum writer_stmt {
    W_FIND,
    W_DEL_NAME,
    W_DEL_TEXT,
    W_DEL_DOC,
    W_INS_DOC,
    W_INS_NAME,
    W_INS_TEXT,
    W_COUNT
};

static const char *const writer_sql[W_COUNT] = {
    "SELECT rid, names, body FROM search_doc WHERE id = ?1",
    "INSERT INTO search_name(search_name, rowid, names) VALUES('delete', ?1, ?2)",
    "INSERT INTO search_text(search_text, rowid, body) VALUES('delete', ?1, ?2)",
    "DELETE FROM search_doc WHERE rid = ?1",
    ("INSERT INTO search_doc(id, type, title, names, body, toks) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
     " ON CONFLICT(id) DO NOTHING"),
    "INSERT INTO search_name(rowid, names) VALUES(?1, ?2)",
    "INSERT INTO search_text(rowid, body) VALUES(?1, ?2)",
};

struct dft_search_writer {
    sqlite3 *db;
    sqlite3_stmt *st[W_COUNT];    /* prepared on first use */
    struct search_prepared *prep; /* reused by each put; NULL: the put makes its own */
};

enum dft_err
search_writer_open(sqlite3 *db, struct dft_search_writer **out, struct dft_error *err)
{
    struct dft_search_writer *w = calloc(1, sizeof *w);
    if (w == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    w->db = db;
    w->prep = malloc(sizeof *w->prep); /* optional: without it each put allocates its own */
    if (w->prep != NULL) {
        search_prepared_init(w->prep);
    }
    *out = w;
    return DFT_OK;
}

void
search_writer_close(struct dft_search_writer *w)
{
    if (w == NULL) {
        return;
    }
    for (int i = 0; i < W_COUNT; i++) {
        sqlite3_finalize(w->st[i]);
    }
    if (w->prep != NULL) {
        search_prepared_release(w->prep);
        free(w->prep);
    }
    free(w);
}

/* The statement for k, reset and ready to bind; NULL with *rc set on failure. */
static sqlite3_stmt *
writer_stmt(struct dft_search_writer *w, enum writer_stmt k, int *rc)
{
    if (w->st[k] == NULL) {
        *rc = sqlite3_prepare_v3(w->db, writer_sql[k], -1, SQLITE_PREPARE_PERSISTENT, &w->st[k],
                                 NULL);
        if (*rc != SQLITE_OK) {
            return NULL;
        }
    }
    *rc = SQLITE_OK;
    return w->st[k];
}

static void
writer_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* len: bytes of text, or -1 up to its NUL (SQLite then measures it) */
static enum dft_err
run(struct dft_search_writer *w, enum writer_stmt k, sqlite3_int64 rid, const char *text, int len,
    struct dft_error *err)
{
    sqlite3 *db = w->db;
    int rc;
    sqlite3_stmt *st = writer_stmt(w, k, &rc);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, rid);
        if (text != NULL) {
            sqlite3_bind_text(st, 2, text, len, SQLITE_STATIC);
        }
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
        writer_done(st);
    }
    if (rc != SQLITE_OK) {
        return store_error(db, rc, "cannot update the search index", err);
    }
    return DFT_OK;
}

static enum dft_err
remove_rid(struct dft_search_writer *w, const char *id, struct dft_error *err)
{
    sqlite3 *db = w->db;
    enum dft_err e = DFT_OK;
    int rc;
    sqlite3_stmt *st = writer_stmt(w, W_FIND, &rc);
    if (rc != SQLITE_OK) {
        e = store_error(db, rc, "cannot update the search index", err);
        goto out;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        goto out;
    }
    if (rc != SQLITE_ROW) {
        e = store_error(db, rc, "cannot update the search index", err);
        goto out;
    }
    sqlite3_int64 rid = sqlite3_column_int64(st, 0);
    const char *names = (const char *)sqlite3_column_text(st, 1);
    const char *body = (const char *)sqlite3_column_text(st, 2);
    if (names != NULL && names[0] != '\0') {
        e = run(w, W_DEL_NAME, rid, names, -1, err);
    }
    if (e == DFT_OK && body != NULL && body[0] != '\0') {
        e = run(w, W_DEL_TEXT, rid, body, -1, err);
    }
    if (e == DFT_OK) {
        e = run(w, W_DEL_DOC, rid, NULL, -1, err);
    }
out:
    /* names and body point into st's row: reset only after the deletes used them */
    if (st != NULL) {
        writer_done(st);
    }
    return e;
}

enum dft_err
search_writer_remove(struct dft_search_writer *w, const char *id, struct dft_error *err)
{
    if (w == NULL || id == NULL) {
        return dft_fail(err, DFT_ERR_USAGE, "search remove needs a database and an id");
    }
    return remove_rid(w, id, err);
}

enum dft_err
search_remove(sqlite3 *db, const char *id, struct dft_error *err)
{
    struct dft_search_writer w = {db, {NULL}, NULL};
    if (db == NULL) {
        return dft_fail(err, DFT_ERR_USAGE, "search remove needs a database and an id");
    }
    enum dft_err e = search_writer_remove(&w, id, err);
    for (int i = 0; i < W_COUNT; i++) {
        sqlite3_finalize(w.st[i]);
    }
    return e;
}

static int
is_name_key(const char *k)
{
    return strcmp(k, "name") == 0 || strcmp(k, "name_variants") == 0 || strcmp(k, "aliases") == 0;
}

/* ---- preparing a record: folding only, no database, any thread ---- */

void
search_prepared_init(struct search_prepared *p)
{
    dft_buf_init(&p->names, NAMES_MAX, 0);
    dft_buf_init(&p->body, BODY_MAX, 0);
    dft_buf_init(&p->toks, 8 * NAMES_MAX, 0);
    memset(&p->cache, 0, sizeof p->cache);
    p->make_keys = 0;
}

static void
prepared_reset(struct search_prepared *p)
{
    dft_buf_reset(&p->names);
    dft_buf_reset(&p->body);
    dft_buf_reset(&p->toks);
    p->cache.lines = 0;
    p->cache.ntoks = 0;
    p->cache.nkeys = 0;
    p->cache.kbytes_len = 0;
}

void
search_prepared_release(struct search_prepared *p)
{
    dft_buf_release(&p->names);
    dft_buf_release(&p->body);
    dft_buf_release(&p->toks);
    if (p->cache.toks != NULL) {
        sodium_memzero(p->cache.toks, (size_t)p->cache.cap * sizeof *p->cache.toks);
    }
    if (p->cache.kbytes != NULL) {
        sodium_memzero(p->cache.kbytes, p->cache.kbytes_cap);
    }
    free(p->cache.toks);
    free(p->cache.keys);
    free(p->cache.kbytes);
    memset(&p->cache, 0, sizeof p->cache);
}

enum dft_err
search_prepare(struct search_prepared *p, const char *title, const json_t *fields,
               struct dft_error *err)
{
    enum dft_err e = DFT_OK;
    prepared_reset(p);
    if (search_fields_sealed(fields)) {
        fields = NULL; /* a sealed privileged note: its title only (sealed.h) */
    }
    /* names: name, then name_variants / aliases; a record without a name is found by title */
    const json_t *name = json_is_object(fields) ? json_object_get(fields, "name") : NULL;
    if (json_is_string(name)) {
        e = add_line(&p->names, json_string_value(name));
    }
    static const char *const vkeys[] = {"name_variants", "aliases"};
    for (size_t k = 0; k < 2 && e == DFT_OK && json_is_object(fields); k++) {
        const json_t *arr = json_object_get(fields, vkeys[k]);
        size_t i;
        const json_t *v;
        json_array_foreach(arr, i, v)
        {
            if (json_is_string(v) && e == DFT_OK) {
                e = add_line(&p->names, json_string_value(v));
            }
        }
    }
    if (e == DFT_OK && p->names.len == 0 && title != NULL) {
        e = add_line(&p->names, title);
    }
    /* text: title (unless it is the name) and every other string field */
    if (e == DFT_OK && title != NULL && !json_is_string(name)) {
        e = add_line(&p->body, title);
    }
    if (e == DFT_OK && json_is_object(fields)) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)(uintptr_t)fields, k, v)
        {
            if (e != DFT_OK) {
                break;
            }
            if (!is_name_key(k) && json_is_string(v)) {
                e = add_line(&p->body, json_string_value(v));
            }
        }
    }
    if (e != DFT_OK) {
        /* over-long text is cut, not refused: the record itself is already accepted */
        if (e != DFT_ERR_TOO_LARGE) {
            return dft_fail(err, e, "cannot index record");
        }
        e = DFT_OK;
    }
    if ((e = serialise_names(p->names.len ? (const char *)p->names.data : "", p->names.len,
                             &p->toks, &p->cache)) != DFT_OK) {
        return dft_fail(err, e, "cannot index record: names too long");
    }
    for (int i = 0; p->make_keys && i < p->cache.lines; i++) {
        cache_keys(&p->cache, i); /* the lines cached so far are the names' */
    }
    if (p->body.len > 0) {
        cache_text((const char *)p->body.data, p->body.len, &p->cache);
    }
    return DFT_OK;
}

/* ---- writing a prepared record: the database thread ---- */

enum dft_err
search_insert(struct dft_search_writer *w, const char *id, const char *type, const char *title,
              const struct search_prepared *p, struct dft_error *err)
{
    enum dft_err e = DFT_OK;
    sqlite3 *db = w->db;
    /*
     * A new id is one insert (its uniqueness is checked by the insert anyway); a known one is
     * removed with its index entries and inserted again.
     */
    int rc = SQLITE_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (attempt == 1 && (e = remove_rid(w, id, err)) != DFT_OK) {
            return e;
        }
        sqlite3_stmt *st = writer_stmt(w, W_INS_DOC, &rc);
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, title != NULL ? title : "", -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, p->names.len ? (const char *)p->names.data : "",
                              (int)p->names.len, SQLITE_STATIC);
            sqlite3_bind_text(st, 5, p->body.len ? (const char *)p->body.data : "",
                              (int)p->body.len, SQLITE_STATIC);
            sqlite3_bind_text(st, 6, p->toks.len ? (const char *)p->toks.data : "",
                              (int)p->toks.len, SQLITE_STATIC);
            rc = sqlite3_step(st);
            rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
            writer_done(st);
        }
        if (rc != SQLITE_OK) {
            return store_error(db, rc, "cannot update the search index", err);
        }
        if (sqlite3_changes(db) > 0) {
            break;
        }
    }
    sqlite3_int64 rid = sqlite3_last_insert_rowid(db);
    active_cache = &p->cache;
    if (p->names.len > 0) {
        e = run(w, W_INS_NAME, rid, (const char *)p->names.data, (int)p->names.len, err);
    }
    if (e == DFT_OK && p->body.len > 0) {
        e = run(w, W_INS_TEXT, rid, (const char *)p->body.data, (int)p->body.len, err);
    }
    active_cache = NULL;
    return e;
}

enum dft_err
search_writer_put(struct dft_search_writer *w, const char *id, const char *type, const char *title,
                  const json_t *fields, struct dft_error *err)
{
    if (w == NULL || w->db == NULL || id == NULL || type == NULL) {
        return dft_fail(err, DFT_ERR_USAGE, "search put needs a database, an id and a type");
    }
    struct search_prepared own;
    struct search_prepared *p = w->prep;
    if (p == NULL) {
        search_prepared_init(&own);
        p = &own;
    }
    enum dft_err e = search_prepare(p, title, fields, err);
    if (e == DFT_OK) {
        e = search_insert(w, id, type, title, p, err);
    }
    if (p == &own) {
        search_prepared_release(&own);
    }
    return e;
}

enum dft_err
search_put(sqlite3 *db, const char *id, const char *type, const char *title, const json_t *fields,
           struct dft_error *err)
{
    struct dft_search_writer w = {db, {NULL}, NULL};
    enum dft_err e = search_writer_put(&w, id, type, title, fields, err);
    for (int i = 0; i < W_COUNT; i++) {
        sqlite3_finalize(w.st[i]);
    }
    return e;
}

enum dft_err
search_check(sqlite3 *db, struct dft_error *err)
{
    static const char *const checks[] = {
        "INSERT INTO search_name(search_name) VALUES('integrity-check')",
        "INSERT INTO search_text(search_text) VALUES('integrity-check')",
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        int rc = sqlite3_exec(db, checks[i], NULL, NULL, NULL);
        if ((rc & 0xff) == SQLITE_CORRUPT) {
            return dft_fail(err, DFT_ERR_INTEGRITY,
                            "the search index does not match the records it indexes");
        }
        if (rc != SQLITE_OK) {
            return store_error(db, rc, "cannot check the search index", err);
        }
    }
    return DFT_OK;
}
