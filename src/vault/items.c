/*
 * items.c - the default type of a batch (`defter add TYPE --from-json FILE`).
 */
#include <string.h>

#include "defter/vault.h"

enum dft_err
dft_vault_items_type(json_t *items, const char *type, struct dft_error *err)
{
    if (!dft_record_type_valid(type)) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "unknown record type '%.40s' (case, person, event, proceeding, source, "
                        "note, place, organization)",
                        type);
    }
    json_t *records = items;
    if (json_is_object(items) && json_is_array(json_object_get(items, "records"))) {
        records = json_object_get(items, "records");
    }
    if (!json_is_array(records)) {
        return dft_fail(err, DFT_ERR_INPUT, "expected a JSON array of records");
    }
    /* Check every element first, so that a refusal leaves items as they were. */
    size_t i;
    json_t *item;
    json_array_foreach(records, i, item)
    {
        if (!json_is_object(item)) {
            return dft_fail(err, DFT_ERR_INPUT, "record %zu is not a JSON object", i);
        }
        const json_t *t = json_object_get(item, "type");
        if (t == NULL) {
            continue;
        }
        if (!json_is_string(t) || strcmp(json_string_value(t), type) != 0) {
            return dft_fail(err, DFT_ERR_INPUT,
                            "record %zu has type '%.40s', not '%s' as the command says", i,
                            json_is_string(t) ? json_string_value(t) : "(not a string)", type);
        }
    }
    json_array_foreach(records, i, item)
    {
        if (json_object_get(item, "type") == NULL &&
            json_object_set_new(item, "type", json_string(type)) != 0) {
            return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    return DFT_OK;
}
