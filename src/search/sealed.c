/*
 * sealed.c - the search layer's test for a sealed privileged note (sealed.h). It must agree
 * with src/vault/privileged.c, which writes that shape; it reads the fields, never a box.
 */
#include "search/sealed.h"

int
search_fields_sealed(const json_t *fields)
{
    return json_is_object(fields) && json_is_object(json_object_get(fields, "sealed")) &&
           json_is_true(json_object_get(fields, "privileged"));
}
