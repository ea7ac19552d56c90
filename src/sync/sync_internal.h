/*
 * sync_internal.h - small helpers shared by the files of src/sync/. Not for other layers.
 */
#ifndef DEFTER_SYNC_INTERNAL_H
#define DEFTER_SYNC_INTERNAL_H

#include <jansson.h>

/* Free what json_dumps returned, with jansson's allocator (the CLI installs a wiping one). */
static inline void
sync_json_free(char *s)
{
    json_free_t jf = NULL;
    json_get_alloc_funcs(NULL, &jf);
    if (s != NULL && jf != NULL) {
        jf(s);
    }
}

#endif
