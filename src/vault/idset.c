/*
 * idset.c - see idset.h. Never copies or frees the ids it holds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vault/idset.h"

static size_t
idset_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
    for (; *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * 0x100000001b3u;
    }
    return (size_t)(h ^ (h >> 29));
}

/* The slot holding id, or the free slot where it would go. The table is never full. */
static size_t
idset_slot(const struct vault_idset *s, const char *id)
{
    size_t i = idset_hash(id) & s->mask;
    while (s->slot[i] != 0 && strcmp(s->ids[s->slot[i] - 1], id) != 0) {
        i = (i + 1) & s->mask;
    }
    return i;
}

size_t
vault_idset_find(const struct vault_idset *s, const char *id)
{
    return s->slot == NULL ? 0 : s->slot[idset_slot(s, id)];
}

int
vault_idset_add(struct vault_idset *s, const char *id, size_t *pos)
{
    if (s->slot == NULL || (s->n + 1) * 2 > s->mask + 1) {
        size_t size = s->slot == NULL ? 256 : (s->mask + 1) * 2;
        size_t *slot = calloc(size, sizeof *slot);
        if (slot == NULL) {
            return -1;
        }
        free(s->slot);
        s->slot = slot;
        s->mask = size - 1;
        for (size_t k = 0; k < s->n; k++) {
            s->slot[idset_slot(s, s->ids[k])] = k + 1;
        }
    }
    size_t i = idset_slot(s, id);
    if (s->slot[i] != 0) {
        if (pos != NULL) {
            *pos = s->slot[i] - 1;
        }
        return 0;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap != 0 ? s->cap * 2 : 256;
        const char **ids = realloc(s->ids, cap * sizeof *ids);
        if (ids == NULL) {
            return -1;
        }
        s->ids = ids;
        s->cap = cap;
    }
    s->ids[s->n++] = id;
    s->slot[i] = s->n;
    if (pos != NULL) {
        *pos = s->n - 1;
    }
    return 1;
}

void
vault_idset_free(struct vault_idset *s)
{
    free(s->ids);
    free(s->slot);
    s->ids = NULL;
    s->slot = NULL;
    s->n = s->cap = s->mask = 0;
}
