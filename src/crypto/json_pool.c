/*
 * json_pool.c - jansson's memory comes from the wiped pool (secpool.c).
 *
 * Decrypted records pass through jansson: names, notes, whole envelopes' operations. Their
 * strings must not linger in freed heap memory, and live ones must not reach a core dump or
 * swap either: the pool's arenas are excluded from dumps (MADV_DONTDUMP), locked in RAM when the
 * limit allows, and every block is wiped when freed.
 */
#include <jansson.h>

#include "crypto/secpool.h"
#include "defter/core.h"

static void *
pool_malloc(size_t n)
{
    return crypto_secpool_alloc(n > 0 ? n : 1);
}

void
dft_json_string_free(char *s)
{
    json_free_t jfree = NULL;
    json_get_alloc_funcs(NULL, &jfree);
    if (s != NULL && jfree != NULL) {
        jfree(s);
    }
}

void
dft_json_wipe_on_free(void)
{
    json_set_alloc_funcs(pool_malloc, crypto_secpool_free);
}
