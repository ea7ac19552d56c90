/*
 * csv_import.c - libFuzzer harness for the spreadsheet import path: CSV text -> libcsv ->
 * rows checked against the built-in schema as records (dft_csv_import, dry run, no vault),
 * and the same text through dft_csv_parse.
 *
 * The first byte picks the record type. An accepted file must give one entry per data row,
 * and re-exporting its parsed rows must parse again; a rejection must carry a code a user
 * error may have and a message. Never writes.
 */
#include <stdlib.h>
#include <string.h>

#include "defter/model.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    const char *const *types = dft_record_types();
    size_t ntypes = 0;
    while (types[ntypes] != NULL) {
        ntypes++;
    }
    const char *type = types[data[0] % ntypes];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    struct dft_error err = {0};
    json_t *ids = NULL;
    enum dft_err rc = dft_csv_import(NULL, text, len, type, NULL, 1, &ids, &err);
    if (rc != DFT_OK) {
        if ((rc != DFT_ERR_INPUT && rc != DFT_ERR_TOO_LARGE) || ids != NULL || err.msg[0] == '\0') {
            abort();
        }
    } else if (json_array_size(ids) == 0) {
        abort(); /* an accepted file has at least one record */
    }
    json_decref(ids);

    json_t *rows = NULL;
    struct dft_error perr = {0};
    if (dft_csv_parse(text, len, &rows, &perr) == DFT_OK) {
        /* what we parsed, written out as records and parsed again, keeps its cells */
        json_t *recs = json_array();
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row)
        {
            json_array_append_new(recs, json_pack("{ss ss ss sO}", "id", "x_0", "type", type,
                                                  "title", "t", "fields", row));
        }
        struct dft_buf out;
        dft_buf_init(&out, (size_t)1 << 28, 0);
        json_t *again = NULL;
        if (dft_csv_export(recs, &out, NULL) == DFT_OK &&
            (dft_csv_parse((const char *)out.data, out.len, &again, NULL) != DFT_OK ||
             json_array_size(again) != json_array_size(recs))) {
            abort();
        }
        json_decref(again);
        dft_buf_release(&out);
        json_decref(recs);
        json_decref(rows);
    }
    return 0;
}
