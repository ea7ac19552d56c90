/*
 * find.c - the vault's search verbs: cross-script search and duplicate candidates, over the
 * search layer's index in the vault's database.
 */
#include "search/search.h"
#include "vault/vault_internal.h"

enum dft_err
dft_vault_search(struct dft_vault *v, const char *query, const char *type, size_t limit,
                 json_t **out, struct dft_error *err)
{
    return search_query(v->db, query, type, limit, out, err);
}

enum dft_err
dft_vault_duplicates(struct dft_vault *v, const char *type, size_t limit, json_t **out,
                     struct dft_error *err)
{
    return search_duplicates(v->db, type, limit, out, err);
}
