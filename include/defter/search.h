/*
 * search.h - cross-script search index inside the vault database.
 */
#ifndef DEFTER_SEARCH_H
#define DEFTER_SEARCH_H

#include <jansson.h>
#include <sqlite3.h>

#include "defter/core.h"

DFT_EXPORT enum dft_err dft_search_setup(sqlite3 *db, struct dft_error *err) DFT_MUST_CHECK;
DFT_EXPORT enum dft_err dft_search_put(sqlite3 *db, const char *id, const char *type,
                                       const char *title, const json_t *fields,
                                       struct dft_error *err) DFT_MUST_CHECK;
DFT_EXPORT enum dft_err dft_search_remove(sqlite3 *db, const char *id,
                                          struct dft_error *err) DFT_MUST_CHECK;
DFT_EXPORT enum dft_err dft_search_query(sqlite3 *db, const char *query, const char *type,
                                         size_t limit, json_t **out,
                                         struct dft_error *err) DFT_MUST_CHECK;

#endif
