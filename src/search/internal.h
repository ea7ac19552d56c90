/*
 * internal.h - shared between the search files: the serialised token form kept in search_doc
 * and the name scorer. Not a public interface; must never be included outside src/search/.
 */
#ifndef DEFTER_SEARCH_INTERNAL_H
#define DEFTER_SEARCH_INTERNAL_H

#include "search/search.h"

#define SEARCH_NAME_TOKENS 16 /* tokens of one name (or query) that take part in matching */
#define SEARCH_SEP_NAME    '\x1e'
#define SEARCH_SEP_TOKEN   '\x1f'
#define SEARCH_SEP_FIELD   '\x1d'
#define SEARCH_RAW_KEY     '\x01' /* a query string starting with it is one index term as is */

struct search_ntok {
    unsigned flags;
    const char *exact, *folded, *skel, *stem;
};

/*
 * Serialise the names (separated by '\n') into out: names split at SEP_NAME, tokens at
 * SEP_TOKEN, fields at SEP_FIELD; a name with bracketed aliases becomes its variants.
 */
enum dft_err search_serialise_names(const char *names, size_t len, struct dft_buf *out);

/* Score query tokens against one name; why (may be NULL) gets a short reason. */
double search_score_name(const struct search_ntok *q, int nq, const struct search_ntok *d, int nd,
                         char *why, size_t why_len);

/* Every single-deletion variant of key, passed to fn (distinct consecutive ones only). */
void search_deletions(const char *key, void (*fn)(void *ctx, const char *k, size_t n), void *ctx);

/* 1 when two word skeletons are forms of one given name (Mykola / Nikolai); cognates.c. */
int search_cognate_names(const char *skel_a, const char *skel_b);

/* search_fold_word through ICU only, without the table for plain Cyrillic words. */
void search_fold_word_icu(const char *word, size_t len, char out[DFT_SEARCH_TOKEN_MAX]);

#endif
