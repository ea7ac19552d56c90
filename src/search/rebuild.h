/*
 * rebuild.h - verify's streaming check of the search index (src/search/rebuild.c).
 *
 * _open on the vault's connection; _put every live record in id order (its fields as the
 * stored canonical JSON, copied); each is folded as search_put folds it, on this thread or a
 * worker, and compared with the stored index row of the same rank in id order, by the rules of
 * search_rebuild_compare; _finish compares the rest and fails when rows are left on either side.
 * The first difference is DFT_ERR_INTEGRITY naming the column. The connection is only used on
 * the calling thread. _free (NULL allowed) waits for the worker and wipes the copies.
 */
#ifndef DEFTER_SEARCH_REBUILD_H
#define DEFTER_SEARCH_REBUILD_H

#include <stddef.h>

#include <sqlite3.h>

#include "defter/core.h"

struct dft_search_stream;
enum dft_err search_stream_open(struct dft_search_stream **out, sqlite3 *db,
                                struct dft_error *err) DFT_MUST_CHECK;
enum dft_err search_stream_put(struct dft_search_stream *s, const char *id, const char *type,
                               const char *title, const char *fields, size_t fields_len,
                               struct dft_error *err) DFT_MUST_CHECK;
enum dft_err search_stream_finish(struct dft_search_stream *s,
                                  struct dft_error *err) DFT_MUST_CHECK;
void search_stream_free(struct dft_search_stream *s);

#endif
