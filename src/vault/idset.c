/*
 * idset.c - see idset.h. Never copies or frees the ids it holds.
 *
 * Each slot holds an id's position + 1 (low 32 bits, 0 for a free slot) and the high half of
 * its hash (high 32 bits): a probe compares that tag before it reads the id's string, so a
 * lookup of an absent id (most lookups in a batch of fresh records) reads no string at all.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vault/idset.h"

#define POS_MASK 0xffffffffu

/* A 64-bit hash of the id, eight bytes at a time (ids are short ASCII) */
static uint64_t
idset_hash(const char *s)
{
    size_t n = strlen(s);
    uint64_t h = 0x9e3779b97f4a7c15u ^ (uint64_t)n;
    size_t i = 0;
    uint64_t w;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdu;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, s + i, n - i);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
    h ^= h >> 29;
    h *= 0xff51afd7ed558ccdu;
    return h ^ (h >> 32);
}

/* The slot holding id, or the free slot where it would go. The table is never full. */
static size_t
idset_slot(const struct vault_idset *s, const char *id, uint64_t h)
{
    size_t i = (size_t)h & s->mask;
    uint64_t tag = h >> 32;
    while (s->slot[i] != 0 &&
           ((s->slot[i] >> 32) != tag || strcmp(s->ids[(s->slot[i] & POS_MASK) - 1], id) != 0)) {
        i = (i + 1) & s->mask;
    }
    return i;
}

size_t
vault_idset_find(const struct vault_idset *s, const char *id)
{
    return s->slot == NULL ? 0 : (size_t)(s->slot[idset_slot(s, id, idset_hash(id))] & POS_MASK);
}

int
vault_idset_add(struct vault_idset *s, const char *id, size_t *pos)
{
    if (s->n + 1 >= POS_MASK) {
        return -1; /* positions are 32 bits: far beyond a batch (DFT_BATCH_MAX) */
    }
    if (s->slot == NULL || (s->n + 1) * 2 > s->mask + 1) {
        size_t size = s->slot == NULL ? 256 : (s->mask + 1) * 2;
        uint64_t *slot = calloc(size, sizeof *slot);
        if (slot == NULL) {
            return -1;
        }
        free(s->slot);
        s->slot = slot;
        s->mask = size - 1;
        for (size_t k = 0; k < s->n; k++) {
            uint64_t h = idset_hash(s->ids[k]);
            s->slot[idset_slot(s, s->ids[k], h)] = (h >> 32) << 32 | (uint64_t)(k + 1);
        }
    }
    uint64_t h = idset_hash(id);
    size_t i = idset_slot(s, id, h);
    if (s->slot[i] != 0) {
        if (pos != NULL) {
            *pos = (size_t)(s->slot[i] & POS_MASK) - 1;
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
    s->slot[i] = (h >> 32) << 32 | (uint64_t)s->n;
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
