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
    /* derived on first use by search_ntok_derive (rules.c) */
    int derived;
    int suffix;                      /* enum search_suffix of stem */
    int cognate;                     /* group of skel in the cognate table, or -1 */
    char root[DFT_SEARCH_TOKEN_MAX]; /* stem without a "son of" suffix ("" if too short) */
    char rootkey[DFT_SEARCH_TOKEN_MAX];
    char given[DFT_SEARCH_TOKEN_MAX];  /* East Slavic given-name form of skel */
    char slavic[DFT_SEARCH_TOKEN_MAX]; /* given with the Ukrainian v = l and -yi = -oy */
    char skelbuf[DFT_SEARCH_TOKEN_MAX], stembuf[DFT_SEARCH_TOKEN_MAX]; /* when recomputed */
};

/* Russified and Turkic "son of" suffixes of a surname or patronymic (rules.c). */
enum search_suffix {
    SEARCH_SUF_NONE,
    SEARCH_SUF_RUSSIAN,    /* -ov / -ev (and -ova / -eva, unified by the stem) */
    SEARCH_SUF_PATRONYMIC, /* -ovich / -evich / -ovna / -evna */
    SEARCH_SUF_TURKIC,     /* -oğlu / -oglu / -ogly / -uly */
};

/* Kind of suffix of stem, and its root (stem without it; "" and NONE if under 3 letters). */
enum search_suffix search_root(const char *stem, char root[DFT_SEARCH_TOKEN_MAX]);

/* The East Slavic given-name form of a skeleton: Ukrainian and Russian forms meet. */
void search_given_form(const char *skel, char out[DFT_SEARCH_TOKEN_MAX]);

/*
 * The given-name form after two Ukrainian / Russian correspondences of surnames: o + v before
 * a consonant in the first syllable as o + l (Vovk / Volk), the ending -yi as -oy (Lisovyi /
 * Lesovoy). Scorer only: not an index term.
 */
void search_slavic_form(const char *skel, char out[DFT_SEARCH_TOKEN_MAX]);

/* Vowels that differ between two equally long skeletons; -1 if a consonant differs. */
int search_vowel_shifts(const char *a, const char *b);

/*
 * Index terms of a name word beyond its key and key deletions: the key of its root when it
 * carries a suffix, and the key of its given-name form when that is new. Returns 0 to 2.
 */
int search_extra_keys(const struct dft_search_token *t, char keys[2][DFT_SEARCH_TOKEN_MAX]);

/*
 * The keys of a word's root (the word itself when bare) with one a shifted to e or e to a,
 * passed to fn: a query meets the roots of Russified forms whose stem vowel moved (Täyfur /
 * Teyfurov), which the index holds unshifted. Roots under four letters give none.
 */
void search_shifted_roots(const struct dft_search_token *t,
                          void (*fn)(void *ctx, const char *k, size_t n), void *ctx);

/*
 * The one-deletion neighbourhoods of a word's root (the word itself when bare) and of its
 * Russian forms root + ov / ev, passed to fn: with the deletions the index holds of every key,
 * a bare or Turkic form meets a Russian form whose root has one letter changed (Akhtem /
 * Aktemov). Roots under ROOT_FUZZY_MIN letters give none.
 */
#define ROOT_FUZZY_MIN 5
void search_root_neighbours(const struct dft_search_token *t,
                            void (*fn)(void *ctx, const char *k, size_t n), void *ctx);

/*
 * The deletions of a word's other adjective ending, passed to fn: a Ukrainian -yi (-ий) word
 * meets the Russian -oy (-ой) form with one more letter changed (Lisovyi / Lesovoy), and back.
 */
void search_adjective_neighbours(const struct dft_search_token *t,
                                 void (*fn)(void *ctx, const char *k, size_t n), void *ctx);

/* Fill the derived fields (suffix, root, rootkey, given) of a token once. */
void search_ntok_derive(struct search_ntok *t);

/*
 * Set a scorer token: exact ("" = same as folded) and folded are borrowed; skel and stem are
 * borrowed too, or computed from folded when NULL. The derived fields wait for their first use.
 */
void search_ntok_set(struct search_ntok *t, unsigned flags, const char *exact, const char *folded,
                     const char *skel, const char *stem);

#define SEARCH_TEXT_TOKENS 64 /* tokens of one text line folded ahead (longer: at insert) */
#define SEARCH_CACHE_LINES 16 /* lines of one record folded ahead */

/* One key the names tokenizer emits, made ahead: its bytes in search_token_cache.kbytes. */
struct search_cached_key {
    int off, len;
    int colocated; /* FTS5_TOKEN_COLOCATED or 0 */
};

/* Folded lines of one record, for the FTS5 tokenizer (index.c). */
struct search_token_cache {
    int lines;
    struct {
        const char *text; /* into the names or body buffer of the record */
        size_t len;
        int first, count;   /* into toks */
        int kfirst, kcount; /* into keys; kcount < 0: the names keys were not made ahead */
    } line[SEARCH_CACHE_LINES];
    struct dft_search_token *toks;
    int ntoks, cap;
    struct search_cached_key *keys; /* every key of the names lines, in the order emitted */
    int nkeys, keys_cap;
    char *kbytes;
    size_t kbytes_len, kbytes_cap;
};

/*
 * A record folded for the index, ready to be written: any thread may prepare it. With
 * make_keys set (a batch's worker), the keys the names tokenizer emits for each name line (its
 * key, deletions, roots and given-name forms) are made too, so the writer only hands them over.
 */
struct search_prepared {
    struct dft_buf names, body, toks;
    struct search_token_cache cache;
    int make_keys;
};

void search_prepared_init(struct search_prepared *p);
void search_prepared_release(struct search_prepared *p);

/* Fold a record's names and text into p (no database: safe on any thread). */
enum dft_err search_prepare(struct search_prepared *p, const char *title, const json_t *fields,
                            struct dft_error *err);

/* Replace the record id in the index by the prepared one (the writer's connection thread). */
enum dft_err search_insert(struct dft_search_writer *w, const char *id, const char *type,
                           const char *title, const struct search_prepared *p,
                           struct dft_error *err);

/*
 * Serialise the names (separated by '\n') into out: names split at SEP_NAME, tokens at
 * SEP_TOKEN, fields at SEP_FIELD; a name with bracketed aliases becomes its variants.
 */
enum dft_err search_serialise_names(const char *names, size_t len, struct dft_buf *out);

/*
 * Score query tokens against one name; why (may be NULL) gets a short reason. Derived fields
 * of the tokens are filled as they are needed.
 */
double search_score_name(struct search_ntok *q, int nq, struct search_ntok *d, int nd, char *why,
                         size_t why_len);

/*
 * Parse a serialised name list (toks is modified in place) and score the query against each
 * name; the best score wins and why gets its reason.
 */
double search_score_doc(struct search_ntok *q, int nq, char *toks, char *why, size_t why_len);

/* Every single-deletion variant of key, passed to fn (distinct consecutive ones only). */
void search_deletions(const char *key, void (*fn)(void *ctx, const char *k, size_t n), void *ctx);

/* 1 when two word skeletons are forms of one given name (Mykola / Nikolai); cognates.c. */
int search_cognate_names(const char *skel_a, const char *skel_b);

/* The table group of a given name's skeleton, or -1 (cognates.c). */
int search_cognate_group(const char *skel);

/* search_fold_word through ICU only, without the table for plain Cyrillic words. */
void search_fold_word_icu(const char *word, size_t len, char out[DFT_SEARCH_TOKEN_MAX]);

/*
 * search_tokenize through utf8proc always (the path of non-ASCII text): search_tokenize takes a
 * faster path on ASCII text that must give byte for byte the same tokens (tests, fuzz).
 */
int search_tokenize_unicode(const char *text, size_t len, struct dft_search_token *toks, int max);

#endif
