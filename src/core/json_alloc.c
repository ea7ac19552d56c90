/*
 * json_alloc.c - make jansson wipe every block it frees.
 *
 * Decrypted records pass through jansson; its strings must not linger in freed heap memory
 * where a later core dump or swap could find them. Each block carries its size in a 16-byte
 * prefix so free can sodium_memzero it.
 */
#include <stdlib.h>

#include <jansson.h>
#include <sodium.h>

#include "defter/core.h"

#define PREFIX_BYTES 16

static void *
wiping_malloc(size_t n)
{
    if (n > SIZE_MAX - PREFIX_BYTES) {
        return NULL;
    }
    unsigned char *p = malloc(n + PREFIX_BYTES);
    if (p == NULL) {
        return NULL;
    }
    *(size_t *)(void *)p = n;
    return p + PREFIX_BYTES;
}

static void
wiping_free(void *q)
{
    if (q == NULL) {
        return;
    }
    unsigned char *p = (unsigned char *)q - PREFIX_BYTES;
    sodium_memzero(q, *(size_t *)(void *)p);
    free(p);
}

void
dft_json_wipe_on_free(void)
{
    json_set_alloc_funcs(wiping_malloc, wiping_free);
}
