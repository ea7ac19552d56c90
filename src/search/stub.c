/* stub.c - placeholder search (substring match on titles) until the search subsystem lands. */
#include <string.h>

#include "defter/search.h"
#include "defter/store.h"

enum dft_err
dft_search_setup(sqlite3 *db, struct dft_error *err)
{
    (void)db;
    (void)err;
    return DFT_OK;
}

enum dft_err
dft_search_put(sqlite3 *db, const char *id, const char *type, const char *title,
               const json_t *fields, struct dft_error *err)
{
    (void)db, (void)id, (void)type, (void)title, (void)fields, (void)err;
    return DFT_OK;
}

enum dft_err
dft_search_remove(sqlite3 *db, const char *id, struct dft_error *err)
{
    (void)db, (void)id, (void)err;
    return DFT_OK;
}

enum dft_err
dft_search_query(sqlite3 *db, const char *query, const char *type, size_t limit, json_t **out,
                 struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT id, type, title FROM records WHERE deleted=0 AND"
                                " (?2 IS NULL OR type=?2) AND instr(lower(title), lower(?1)) > 0"
                                " ORDER BY title LIMIT ?3",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        return dft_store_error(db, rc, "cannot search", err);
    }
    sqlite3_bind_text(st, 1, query, -1, SQLITE_STATIC);
    if (type != NULL) {
        sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
    json_t *hits = json_array();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_array_append_new(hits, json_pack("{sssssssf}", "id", sqlite3_column_text(st, 0),
                                              "type", sqlite3_column_text(st, 1), "title",
                                              sqlite3_column_text(st, 2), "score", 1.0));
    }
    sqlite3_finalize(st);
    *out = json_pack("{so}", "hits", hits);
    return DFT_OK;
}
