/*
 * view.h - the queryable tables derived from the envelopes.
 *
 * Internal to src/vault. The view of schema "main" is what commands read; verify builds the
 * same tables in an in-memory schema "rebuild" from the envelopes alone and compares. Applying
 * an operation must be deterministic: it depends only on the operation and earlier ones.
 */
#ifndef DEFTER_VAULT_VIEW_H
#define DEFTER_VAULT_VIEW_H

#include <jansson.h>
#include <sqlite3.h>

#include "defter/core.h"
#include "search/search.h"

struct dft_view {
    sqlite3 *db;
    const char *schema;               /* "main" or "rebuild" */
    int index_search;                 /* call the search index (main only) */
    struct dft_search_writer *search; /* open while index_search: statements stay prepared */
    sqlite3_stmt *ins_record, *get_record, *upd_record, *del_record;
    sqlite3_stmt *ins_link, *get_link, *del_link;
    sqlite3_stmt *ins_evidence, *del_evidence;
    sqlite3_stmt *ins_history, *ins_entry;
    struct dft_view_ahead *ahead; /* optional: canonical JSON made on another thread */
    unsigned sync_mode;           /* VIEW_NO_LOG, VIEW_LOG_ONLY (sync_view.c); 0: both */
    const json_t *skip;           /* op ids kept out of the tables, history only (sync_view.c) */
    struct view_pending *pending; /* creates to index in one batch (view_apply, main only) */
};

/* Merged (synced) views: tables and the log tables are built in two passes (sync_view.c). */
#define VIEW_NO_LOG     1u /* records, links, evidence only: no history or entries rows */
#define VIEW_LOG_ONLY   2u /* history and entries rows only */
#define VIEW_NO_HISTORY 4u /* no history rows (verify sums them: verify_history.h) */

/*
 * Canonical JSON of each operation and of each create's fields, made ahead on a second thread
 * (view_ahead_run) in a window of slots while view_apply, given it in vw->ahead, uses
 * them in order; an entry it could not make is made by view_apply as before. The strings
 * are the same either way: the ops are only read on both threads.
 */
struct dft_view_ahead;
enum dft_err view_ahead_new(struct dft_view_ahead **out, const json_t *ops,
                            struct dft_error *err) DFT_MUST_CHECK;
void view_ahead_run(struct dft_view_ahead *a);
/*
 * The same made by a producer that already has op i's canonical JSON (the sealer writes it into
 * the envelope): ops are put in order, 0 first; one out of order is ignored (the view makes it).
 * Blocks while the window is full; returns at once after view_ahead_cancel.
 */
void view_ahead_put(struct dft_view_ahead *a, size_t i, const unsigned char *op, size_t len);
/*
 * Stop the producer (it returns from view_ahead_run / view_ahead_put soon) and tell the view that
 * nothing more comes: it makes what was not made itself. Safe to call more than once.
 */
void view_ahead_cancel(struct dft_view_ahead *a);
void view_ahead_free(struct dft_view_ahead *a);

/* Create the envelope table (main only) and the view tables in schema, if missing. */
enum dft_err view_create_tables(sqlite3 *db, const char *schema,
                                struct dft_error *err) DFT_MUST_CHECK;

enum dft_err view_init(struct dft_view *vw, sqlite3 *db, const char *schema, int index_search,
                       struct dft_error *err) DFT_MUST_CHECK;
void view_release(struct dft_view *vw);

/* Apply every operation of one envelope (leaf index idx) and record its log entry. */
enum dft_err view_apply(struct dft_view *vw, int64_t idx, const json_t *ops,
                        struct dft_error *err) DFT_MUST_CHECK;

/* A record's title from its type and fields: person -> name; else title, name, case_number. */
const char *view_title(const char *type, const json_t *fields, const char *fallback);

/* In compact JSON: the end of the string starting (with its quote) at s[i], past the closing
 * quote; the end of the value starting at s[i] (at the ',' or '}' after a scalar). */
size_t view_skip_string(const unsigned char *s, size_t n, size_t i);
size_t view_skip_value(const unsigned char *s, size_t n, size_t i);

/*
 * Where the value of the top-level member key lies in s[0..n), the canonical (compact) JSON of
 * an object: 0 with *off and *len set, or -1 if there is no such member or s is not such JSON.
 */
int view_canonical_member(const unsigned char *s, size_t n, const char *key, size_t *off,
                          size_t *len);

/* The ids an operation touches: "record" and "to" when present. */
void op_touched(const json_t *op, const char **a, const char **b);

#endif
