/*
 * query.c - search queries and duplicate candidates: candidate retrieval through the FTS5 index
 * (coarse keys, their deletion neighbourhood, roots and given-name forms), ranked by the
 * scorer of score.c. Nothing here writes to the database or logs a query.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "search/internal.h"

#define POSTINGS_MAX 20000 /* rows read per query word */
#define SCORED_MAX   400   /* candidates scored per query */
#define SINGLE_MAX   2000  /* rows read for one word alone */
#define FILL_FACTOR  3     /* lower-tier candidates scored: limit times this */
#define SCORE_FLOOR  0.30  /* hits below are noise */

/* ---- candidates: rid -> mask of matched query words ---- */

struct qtoks {
    struct dft_search_token t[SEARCH_NAME_TOKENS];
    struct search_ntok n[SEARCH_NAME_TOKENS];
    int count;
};

struct cand {
    sqlite3_int64 rid;
    unsigned mask; /* query words whose key or a one-deletion neighbour matched a name */
    unsigned text; /* query words found in the text fields */
    int tier;
};

struct candset {
    struct cand *v;
    size_t n, cap;
    size_t *slot; /* open addressing: index + 1, 0 = empty */
    size_t nslot;
};

static size_t
hash_rid(sqlite3_int64 rid)
{
    unsigned long long x = (unsigned long long)rid * 0x9E3779B97F4A7C15ULL;
    return (size_t)(x >> 17);
}

static enum dft_err
cand_grow(struct candset *cs)
{
    size_t nslot = cs->nslot ? cs->nslot * 2 : 1024;
    size_t *slot = calloc(nslot, sizeof *slot);
    if (slot == NULL) {
        return DFT_ERR_NOMEM;
    }
    for (size_t i = 0; i < cs->n; i++) {
        size_t h = hash_rid(cs->v[i].rid) & (nslot - 1);
        while (slot[h] != 0) {
            h = (h + 1) & (nslot - 1);
        }
        slot[h] = i + 1;
    }
    free(cs->slot);
    cs->slot = slot;
    cs->nslot = nslot;
    return DFT_OK;
}

static enum dft_err
cand_add(struct candset *cs, sqlite3_int64 rid, unsigned mask, unsigned text)
{
    if ((cs->n + 1) * 2 > cs->nslot && cand_grow(cs) != DFT_OK) {
        return DFT_ERR_NOMEM;
    }
    size_t h = hash_rid(rid) & (cs->nslot - 1);
    while (cs->slot[h] != 0) {
        struct cand *c = &cs->v[cs->slot[h] - 1];
        if (c->rid == rid) {
            c->mask |= mask;
            c->text |= text;
            return DFT_OK;
        }
        h = (h + 1) & (cs->nslot - 1);
    }
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? cs->cap * 2 : 512;
        struct cand *v = realloc(cs->v, cap * sizeof *v);
        if (v == NULL) {
            return DFT_ERR_NOMEM;
        }
        cs->v = v;
        cs->cap = cap;
    }
    cs->v[cs->n] = (struct cand){rid, mask, text, 0};
    cs->slot[h] = ++cs->n;
    return DFT_OK;
}

static void
cand_free(struct candset *cs)
{
    free(cs->v);
    free(cs->slot);
    memset(cs, 0, sizeof *cs);
}

struct expr {
    struct dft_buf *b;
    enum dft_err e;
};

static void
expr_add(void *ctx, const char *k, size_t n)
{
    struct expr *x = ctx;
    if (x->e != DFT_OK) {
        return;
    }
    if (x->b->len > 0) {
        x->e = dft_buf_adds(x->b, " OR ");
    }
    char q[3] = {'"', SEARCH_RAW_KEY, 0};
    if (x->e == DFT_OK) {
        x->e = dft_buf_adds(x->b, q);
    }
    if (x->e == DFT_OK) {
        x->e = dft_buf_add(x->b, k, n); /* keys are [a-zA-Z0-9]: no quoting needed */
    }
    if (x->e == DFT_OK) {
        x->e = dft_buf_adds(x->b, "\"");
    }
}

/*
 * "(K OR D1 OR D2 ...)": a word's key and, for fuzzy lookups, its deletion neighbourhood, the
 * keys of its root and given-name form, and its root with one a/e shifted (names only).
 */
static enum dft_err
word_expr(struct dft_buf *out, const struct dft_search_token *t, int fuzzy)
{
    struct dft_buf b;
    dft_buf_init(&b, 2048, 0);
    struct expr x = {&b, DFT_OK};
    expr_add(&x, t->key, strlen(t->key));
    if (fuzzy) {
        search_deletions(t->key, expr_add, &x);
        char extra[2][DFT_SEARCH_TOKEN_MAX];
        int ne = search_extra_keys(t, extra);
        for (int k = 0; k < ne; k++) {
            expr_add(&x, extra[k], strlen(extra[k]));
        }
        search_shifted_roots(t, expr_add, &x);
        search_root_neighbours(t, expr_add, &x);
        search_adjective_neighbours(t, expr_add, &x);
    }
    enum dft_err e = x.e;
    if (e == DFT_OK) {
        e = dft_buf_adds(out, "(");
    }
    if (e == DFT_OK) {
        e = dft_buf_add(out, b.data, b.len);
    }
    if (e == DFT_OK) {
        e = dft_buf_adds(out, ")");
    }
    dft_buf_release(&b);
    return e;
}

/* Run one FTS5 expression; every row gets bits (names) or text bits. */
static enum dft_err
collect(sqlite3 *db, const char *table, const struct dft_buf *expr, unsigned bits, int text,
        int max_rows, struct candset *cs, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    enum dft_err e = DFT_OK;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT rowid FROM %s WHERE %s MATCH ?1 LIMIT %d", table, table,
             max_rows);
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        e = store_error(db, rc, "cannot search", err);
        goto out;
    }
    sqlite3_bind_text(st, 1, (const char *)expr->data, (int)expr->len, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cand_add(cs, sqlite3_column_int64(st, 0), text ? 0 : bits, text ? bits : 0) != DFT_OK) {
            e = dft_fail(err, DFT_ERR_NOMEM, "cannot search: out of memory");
            goto out;
        }
    }
    if (rc != SQLITE_DONE) {
        e = store_error(db, rc, "cannot search", err);
    }
out:
    sqlite3_finalize(st);
    return e;
}

/* Names matching every word of set (an AND of the words' neighbourhoods), or one word. */
static enum dft_err
collect_words(sqlite3 *db, const struct qtoks *qt, const int *idx, int n, int fuzzy, int max_rows,
              struct candset *cs, struct dft_error *err)
{
    struct dft_buf b;
    dft_buf_init(&b, 64 * 1024, 0);
    enum dft_err e = DFT_OK;
    unsigned bits = 0;
    for (int i = 0; i < n && e == DFT_OK; i++) {
        if (i > 0) {
            e = dft_buf_adds(&b, " AND ");
        }
        if (e == DFT_OK) {
            e = word_expr(&b, &qt->t[idx[i]], fuzzy);
        }
        bits |= 1u << idx[i];
    }
    if (e != DFT_OK) {
        e = dft_fail(err, e, "cannot search: query too complex");
    } else {
        e = collect(db, "search_name", &b, bits, 0, max_rows, cs, err);
    }
    dft_buf_release(&b);
    return e;
}

static int
popcount(unsigned x)
{
    return __builtin_popcount(x);
}

static int
cmp_tier(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->tier != y->tier) {
        return y->tier - x->tier;
    }
    return x->rid < y->rid ? -1 : x->rid > y->rid;
}

struct hit {
    sqlite3_int64 rid;
    double score;
    json_t *obj;
};

static int
cmp_hit(const void *a, const void *b)
{
    const struct hit *x = a, *y = b;
    if (x->score != y->score) {
        return x->score < y->score ? 1 : -1;
    }
    return x->rid < y->rid ? -1 : x->rid > y->rid;
}

static enum dft_err
run_query(sqlite3 *db, struct qtoks *qt, const char *type, const char *skip_id, size_t limit,
          json_t *hits_out, struct dft_error *err)
{
    enum dft_err e = DFT_OK;
    struct candset cs = {0};
    struct hit *hits = NULL;
    size_t nhits = 0;
    sqlite3_stmt *st = NULL;
    int want_text = type == NULL || strcmp(type, "person") != 0;
    /*
     * Distinct keys (words sharing a key share a bit). Names matching all main words come
     * from one AND inside FTS5, then (three or more words) every pair; single words only
     * when that did not fill the page, and capped: they rank below anyway.
     */
    int uniq[SEARCH_NAME_TOKENS], nuniq = 0, mainw[SEARCH_NAME_TOKENS], nmain = 0;
    unsigned optmask = 0;
    for (int i = 0; i < qt->count; i++) {
        int dup = 0;
        for (int j = 0; j < i; j++) {
            dup |= strcmp(qt->t[i].key, qt->t[j].key) == 0;
        }
        if (qt->t[i].flags & (DFT_SEARCH_TOK_PATRONYMIC | DFT_SEARCH_TOK_ALIAS)) {
            optmask |= 1u << i;
        }
        if (dup) {
            continue;
        }
        uniq[nuniq++] = i;
        if ((optmask & (1u << i)) == 0) {
            mainw[nmain++] = i;
        }
    }
    if (nmain >= 2) {
        /* exact keys first; their neighbourhoods only when few names share them */
        e = collect_words(db, qt, mainw, nmain, 0, POSTINGS_MAX, &cs, err);
        if (e == DFT_OK && cs.n < limit * FILL_FACTOR) {
            e = collect_words(db, qt, mainw, nmain, 1, POSTINGS_MAX, &cs, err);
        }
    }
    for (int a = 0; nmain >= 3 && a < nmain && e == DFT_OK; a++) {
        for (int b = a + 1; b < nmain && e == DFT_OK; b++) {
            int pair[2] = {mainw[a], mainw[b]};
            e = collect_words(db, qt, pair, 2, 1, POSTINGS_MAX, &cs, err);
        }
    }
    if (nmain < 2 || cs.n < limit * FILL_FACTOR) {
        for (int k = 0; k < nuniq && e == DFT_OK; k++) {
            e = collect_words(db, qt, &uniq[k], 1, 1, SINGLE_MAX, &cs, err);
        }
    }
    for (int k = 0; k < nuniq && e == DFT_OK && want_text; k++) {
        struct dft_buf b;
        dft_buf_init(&b, 4096, 0);
        e = word_expr(&b, &qt->t[uniq[k]], 0);
        if (e == DFT_OK) {
            e = collect(db, "search_text", &b, 1u << uniq[k], 1, SINGLE_MAX, &cs, err);
        }
        dft_buf_release(&b);
    }
    if (e != DFT_OK || cs.n == 0) {
        goto out;
    }
    /* tier: a main word counts 2, an optional one 1; text matches count half */
    for (size_t i = 0; i < cs.n; i++) {
        const struct cand *c = &cs.v[i];
        unsigned text = c->text & ~c->mask;
        cs.v[i].tier = 4 * popcount(c->mask & ~optmask) + 2 * popcount(c->mask & optmask) +
                       2 * popcount(text & ~optmask) + popcount(text & optmask);
    }
    qsort(cs.v, cs.n, sizeof cs.v[0], cmp_tier);
    hits = calloc(cs.n < SCORED_MAX ? cs.n : SCORED_MAX, sizeof *hits);
    if (hits == NULL) {
        e = dft_fail(err, DFT_ERR_NOMEM, "cannot search: out of memory");
        goto out;
    }
    int rc = sqlite3_prepare_v2(db, "SELECT id, type, title, toks FROM search_doc WHERE rid = ?1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        e = store_error(db, rc, "cannot search", err);
        goto out;
    }
    size_t scored = 0, good = 0;
    /*
     * The best tier is scored whole (up to SCORED_MAX); lower tiers only until the page is
     * filled a few times over: they match fewer words, so they rank below anyway.
     */
    for (size_t i = 0; i < cs.n && scored < SCORED_MAX; i++) {
        if (cs.v[i].tier < cs.v[0].tier && good >= limit * FILL_FACTOR) {
            break;
        }
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, cs.v[i].rid);
        if (sqlite3_step(st) != SQLITE_ROW) {
            continue;
        }
        scored++;
        const char *rtype = (const char *)sqlite3_column_text(st, 1);
        const char *rid = (const char *)sqlite3_column_text(st, 0);
        if (rtype == NULL || rid == NULL || (type != NULL && strcmp(rtype, type) != 0) ||
            (skip_id != NULL && strcmp(rid, skip_id) == 0)) {
            continue;
        }
        const char *toks = (const char *)sqlite3_column_text(st, 3);
        char *copy = strdup(toks != NULL ? toks : "");
        if (copy == NULL) {
            e = dft_fail(err, DFT_ERR_NOMEM, "cannot search: out of memory");
            goto out;
        }
        char why[256] = "";
        double s =
            cs.v[i].mask != 0 ? search_score_doc(qt->n, qt->count, copy, why, sizeof why) : 0.0;
        free(copy);
        if (cs.v[i].text) {
            double ts = 0.5 * popcount(cs.v[i].text) / qt->count;
            if (ts > s) {
                s = ts;
                snprintf(why, sizeof why, "text: %d of %d words", popcount(cs.v[i].text),
                         qt->count);
            }
        }
        if (s < SCORE_FLOOR) {
            continue;
        }
        good++;
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:f, s:s}", "id", rid, "type", rtype, "title",
                      sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "",
                      "score", (double)((long)(s * 10000.0 + 0.5)) / 10000.0, "why", why);
        if (o == NULL) {
            e = dft_fail(err, DFT_ERR_NOMEM, "cannot search: out of memory");
            goto out;
        }
        hits[nhits++] = (struct hit){cs.v[i].rid, s, o};
    }
    qsort(hits, nhits, sizeof hits[0], cmp_hit);
    for (size_t i = 0; i < nhits; i++) {
        if (i < limit) {
            json_array_append(hits_out, hits[i].obj);
        }
    }
out:
    for (size_t i = 0; i < nhits; i++) {
        json_decref(hits[i].obj);
    }
    free(hits);
    sqlite3_finalize(st);
    cand_free(&cs);
    return e;
}

static int
blank(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') {
            return 0;
        }
    }
    return 1;
}

static void
qtoks_link(struct qtoks *qt)
{
    for (int i = 0; i < qt->count; i++) {
        struct dft_search_token *t = &qt->t[i];
        search_ntok_set(&qt->n[i], t->flags, t->exact, t->folded, t->skel, t->stem);
    }
}

enum dft_err
search_query(sqlite3 *db, const char *query, const char *type, size_t limit, json_t **out,
             struct dft_error *err)
{
    enum dft_err e = DFT_OK;
    json_t *res = NULL, *arr = NULL;
    struct qtoks *qt = NULL;
    if (db == NULL || query == NULL || out == NULL) {
        return dft_fail(err, DFT_ERR_USAGE, "search needs a database and a query");
    }
    *out = NULL;
    size_t len = strlen(query);
    if (len > DFT_SEARCH_QUERY_MAX) {
        return dft_fail(err, DFT_ERR_INPUT, "query is too long (%zu bytes; at most %d)", len,
                        DFT_SEARCH_QUERY_MAX);
    }
    if (!dft_utf8_valid(query, len)) {
        return dft_fail(err, DFT_ERR_INPUT, "query is not valid UTF-8");
    }
    if (limit == 0) {
        limit = 10;
    }
    if (limit > DFT_SEARCH_LIMIT_MAX) {
        limit = DFT_SEARCH_LIMIT_MAX;
    }
    res = json_object();
    arr = json_array();
    qt = calloc(1, sizeof *qt);
    if (res == NULL || arr == NULL || qt == NULL) {
        e = dft_fail(err, DFT_ERR_NOMEM, "cannot search: out of memory");
        goto out;
    }
    if (!blank(query)) {
        qt->count = search_tokenize(query, len, qt->t, SEARCH_NAME_TOKENS);
        if (qt->count < 0) {
            e = dft_fail(err, DFT_ERR_INPUT, "query is not valid UTF-8");
            goto out;
        }
        qtoks_link(qt);
        if (qt->count > 0) {
            e = run_query(db, qt, type, NULL, limit, arr, err);
        }
    }
    if (e == DFT_OK) {
        json_object_set(res, "hits", arr);
        *out = res;
        res = NULL;
    }
out:
    free(qt);
    json_decref(arr);
    json_decref(res);
    return e;
}

#define DUP_THRESHOLD 0.80

enum dft_err
search_duplicates(sqlite3 *db, const char *type, size_t limit, json_t **out, struct dft_error *err)
{
    enum dft_err e = DFT_OK;
    sqlite3_stmt *st = NULL;
    json_t *pairs = json_array(), *res = NULL, *hits = NULL;
    struct qtoks *qt = calloc(1, sizeof *qt);
    if (db == NULL || out == NULL) {
        e = dft_fail(err, DFT_ERR_USAGE, "duplicates needs a database");
        goto out;
    }
    if (pairs == NULL || qt == NULL) {
        e = dft_fail(err, DFT_ERR_NOMEM, "cannot find duplicates: out of memory");
        goto out;
    }
    if (type == NULL) {
        type = "person";
    }
    if (limit == 0) {
        limit = 100;
    }
    int rc = sqlite3_prepare_v2(db,
                                "SELECT id, title, names FROM search_doc WHERE type = ?1"
                                " ORDER BY id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        e = store_error(db, rc, "cannot find duplicates", err);
        goto out;
    }
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *title = (const char *)sqlite3_column_text(st, 1);
        const char *names = (const char *)sqlite3_column_text(st, 2);
        if (id == NULL || names == NULL) {
            continue;
        }
        size_t nl = strcspn(names, "\n");
        qt->count = search_tokenize(names, nl, qt->t, SEARCH_NAME_TOKENS);
        if (qt->count <= 0) {
            continue;
        }
        qtoks_link(qt);
        hits = json_array();
        if (hits == NULL) {
            e = dft_fail(err, DFT_ERR_NOMEM, "cannot find duplicates: out of memory");
            goto out;
        }
        if ((e = run_query(db, qt, type, id, 20, hits, err)) != DFT_OK) {
            goto out;
        }
        size_t i;
        json_t *h;
        json_array_foreach(hits, i, h)
        {
            const char *other = json_string_value(json_object_get(h, "id"));
            double s = json_real_value(json_object_get(h, "score"));
            if (other == NULL || s < DUP_THRESHOLD || strcmp(other, id) <= 0) {
                continue;
            }
            json_array_append_new(pairs, json_pack("{s:s, s:s, s:s, s:s, s:f, s:O}", "a", id, "b",
                                                   other, "a_title", title ? title : "", "b_title",
                                                   json_string_value(json_object_get(h, "title")),
                                                   "score", s, "why", json_object_get(h, "why")));
        }
        json_decref(hits);
        hits = NULL;
    }
    if (rc != SQLITE_DONE) {
        e = store_error(db, rc, "cannot find duplicates", err);
        goto out;
    }
    /* best first, then cut */
    size_t n = json_array_size(pairs);
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0; j--) {
            double a = json_real_value(json_object_get(json_array_get(pairs, j - 1), "score"));
            double b = json_real_value(json_object_get(json_array_get(pairs, j), "score"));
            if (a >= b) {
                break;
            }
            json_t *t = json_incref(json_array_get(pairs, j - 1));
            json_array_set(pairs, j - 1, json_array_get(pairs, j));
            json_array_set_new(pairs, j, t);
        }
    }
    while (json_array_size(pairs) > limit) {
        json_array_remove(pairs, json_array_size(pairs) - 1);
    }
    res = json_pack("{s:O}", "pairs", pairs);
    if (res == NULL) {
        e = dft_fail(err, DFT_ERR_NOMEM, "cannot find duplicates: out of memory");
        goto out;
    }
    *out = res;
out:
    json_decref(hits);
    json_decref(pairs);
    sqlite3_finalize(st);
    free(qt);
    return e;
}
