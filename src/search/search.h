/*
 * search.h - cross-script search over the vault's records (names above all).
 *
 * Every name and text field is folded to layered keys (exact, script-folded, phonetic
 * skeleton, gender-neutral stem, deletion neighbourhood of the stem) by an FTS5 tokenizer
 * registered on the vault's connection; queries are ranked by a name-aware scorer so that exact
 * and folded forms come first. The index tables are a view: they may be dropped and rebuilt
 * from the records at any time. Everything lives in the vault's database; nothing is written
 * anywhere else, and names never reach logs or error messages.
 *
 * Ownership: json_t results are new references the caller must json_decref; inputs are
 * borrowed.
 */
#ifndef DEFTER_SEARCH_H
#define DEFTER_SEARCH_H

#include <stddef.h>
#include <jansson.h>
#include <sqlite3.h>

#include "defter/core.h"

#define DFT_SEARCH_QUERY_MAX 1024 /* bytes; longer queries fail with DFT_ERR_INPUT */
#define DFT_SEARCH_LIMIT_MAX 1000 /* most hits one query returns */
#define DFT_SEARCH_TOKEN_MAX 64   /* bytes of one folded token; longer words are cut */

/*
 * Register the "defter" FTS5 tokenizer on db and create the index tables if they do not exist.
 * Called on every vault open, outside a transaction.
 */
enum dft_err search_setup(sqlite3 *db, struct dft_error *err) DFT_MUST_CHECK;

/*
 * Index or re-index one record. fields is the record's full field object: "name" and
 * "name_variants" (array of strings) are indexed as names (fuzzy), "title", "summary", "text",
 * "case_number" and any other string values as text (folded words). Runs inside the caller's
 * transaction.
 */
enum dft_err search_put(sqlite3 *db, const char *id, const char *type, const char *title,
                        const json_t *fields, struct dft_error *err) DFT_MUST_CHECK;

/* Drop one record from the index; an unknown id is not an error. */
enum dft_err search_remove(sqlite3 *db, const char *id, struct dft_error *err) DFT_MUST_CHECK;

/*
 * verify's check of the index contents: _open a private in-memory index, _put every live record
 * (as search_put), then _compare: the stored index rows (id, type, title, names, body and
 * folded keys) must equal the rebuilt ones, else DFT_ERR_INTEGRITY naming the first difference.
 * _free releases (NULL allowed).
 */
struct dft_search_rebuild;
enum dft_err search_rebuild_open(struct dft_search_rebuild **out,
                                 struct dft_error *err) DFT_MUST_CHECK;
enum dft_err search_rebuild_put(struct dft_search_rebuild *r, const char *id, const char *type,
                                const char *title, const json_t *fields,
                                struct dft_error *err) DFT_MUST_CHECK;
enum dft_err search_rebuild_compare(struct dft_search_rebuild *r, sqlite3 *db,
                                    struct dft_error *err) DFT_MUST_CHECK;
void search_rebuild_free(struct dft_search_rebuild *r);

/*
 * Search. type may be NULL (all types). *out = {"hits":[{"id","type","title","score","why"}]}
 * sorted best first, higher score better, at most limit hits (capped at DFT_SEARCH_LIMIT_MAX).
 * An empty or blank query gives no hits; invalid UTF-8 or a query above DFT_SEARCH_QUERY_MAX
 * bytes fails with DFT_ERR_INPUT.
 */
enum dft_err search_query(sqlite3 *db, const char *query, const char *type, size_t limit,
                          json_t **out, struct dft_error *err) DFT_MUST_CHECK;

/*
 * Candidate duplicate pairs among records of type (NULL: persons): {"pairs":[{"a","b",
 * "a_title","b_title","score","why"}]} best first, at most limit pairs.
 */
enum dft_err search_duplicates(sqlite3 *db, const char *type, size_t limit, json_t **out,
                               struct dft_error *err) DFT_MUST_CHECK;

/* ---- folding, exposed for tests, fuzzing and benches ---- */

enum dft_search_tok_flags {
    DFT_SEARCH_TOK_PATRONYMIC = 1 << 0, /* -ovich/-ovna/-ivna/oglu...: optional in matching */
    DFT_SEARCH_TOK_ALIAS = 1 << 1,      /* written in brackets: an alternative of a name */
};

struct dft_search_token {
    char exact[DFT_SEARCH_TOKEN_MAX];  /* NFKC, case-folded, apostrophes dropped (UTF-8) */
    char folded[DFT_SEARCH_TOKEN_MAX]; /* script-folded to lower-case ASCII letters and digits */
    char skel[DFT_SEARCH_TOKEN_MAX];   /* phonetic skeleton of folded (ASCII, classes upper) */
    char stem[DFT_SEARCH_TOKEN_MAX];   /* skel with feminine/masculine surname endings unified */
    char key[DFT_SEARCH_TOKEN_MAX];    /* coarse retrieval key of stem (index term) */
    unsigned flags;                    /* enum dft_search_tok_flags */
};

/*
 * Split text (UTF-8, len bytes) into at most max tokens and fold each. Returns the number of
 * tokens written to toks (words beyond max are ignored). Invalid UTF-8 gives -1.
 */
int search_tokenize(const char *text, size_t len, struct dft_search_token *toks, int max);

/* Fold one word (no separators) into folded ASCII: out has DFT_SEARCH_TOKEN_MAX bytes. */
void search_fold_word(const char *word, size_t len, char out[DFT_SEARCH_TOKEN_MAX]);

/* Skeleton, stem and key of a folded ASCII word (each DFT_SEARCH_TOKEN_MAX bytes). */
void search_skeleton(const char *folded, char skel[DFT_SEARCH_TOKEN_MAX]);
void search_stem(const char *skel, char stem[DFT_SEARCH_TOKEN_MAX]);
void search_key(const char *stem, char key[DFT_SEARCH_TOKEN_MAX]);

/*
 * Weighted edit distance between two skeletons (Damerau, transpositions cost 1): letters that
 * differ only by a lost diacritic or romanisation (s/sh, c/ch/dzh/ts, z/zh, k/kh, vowels) cost
 * less than 1. Gives a value above cap as soon as the distance exceeds cap.
 */
double search_distance(const char *a, const char *b, double cap);

/* Similarity of two names in [0, 1] (the ranking's core), with a short reason in why. */
double search_name_similarity(const char *a, const char *b, char *why, size_t why_len);

/* Check the full-text indexes against their content (FTS5 integrity-check). */
enum dft_err search_check(sqlite3 *db, struct dft_error *err) DFT_MUST_CHECK;

/*
 * A writer for many puts in one transaction (a batch): it keeps its statements prepared.
 * Close it before the connection. search_put/remove are one-shot forms of the same.
 */
struct dft_search_writer;
enum dft_err search_writer_open(sqlite3 *db, struct dft_search_writer **out,
                                struct dft_error *err) DFT_MUST_CHECK;
enum dft_err search_writer_put(struct dft_search_writer *w, const char *id, const char *type,
                               const char *title, const json_t *fields,
                               struct dft_error *err) DFT_MUST_CHECK;
enum dft_err search_writer_remove(struct dft_search_writer *w, const char *id,
                                  struct dft_error *err) DFT_MUST_CHECK;
void search_writer_close(struct dft_search_writer *w);

/* One record of dft_search_writer_put_many (all borrowed). */
struct dft_search_record {
    const char *id, *type, *title;
    const json_t *fields;
};

/*
 * Index or re-index n records in the caller's transaction, as n calls of
 * search_writer_put would (same rows, same row numbers; of two records with one id, the later
 * wins), but faster: a worker thread folds the names and text while the calling thread writes
 * the records folded before, in order. The fields must not change until it returns. On an error
 * nothing is rolled back here: the caller's transaction is to be rolled back.
 */
DFT_EXPORT enum dft_err dft_search_writer_put_many(struct dft_search_writer *w,
                                                   const struct dft_search_record *recs, size_t n,
                                                   struct dft_error *err) DFT_MUST_CHECK;

#endif
