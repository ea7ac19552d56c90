/*
 * idset.h - a set of borrowed id strings in first-add order (open addressing), for the work on
 * one batch of operations, where a jansson object per id cost more than the ids' use.
 */
#ifndef DEFTER_VAULT_IDSET_H
#define DEFTER_VAULT_IDSET_H

#include <stddef.h>
#include <stdint.h>

struct vault_idset {
    const char **ids; /* borrowed: must outlive the set */
    size_t n, cap;
    uint64_t *slot; /* index in ids + 1 (0 for a free slot), high 32 bits a hash tag */
    size_t mask;
};

#define VAULT_IDSET_INIT                                                                           \
    {                                                                                              \
        NULL, 0, 0, NULL, 0                                                                        \
    }

/* Adds id when absent; *pos (may be NULL) = its position. 1 added, 0 present, -1 no memory. */
int vault_idset_add(struct vault_idset *s, const char *id, size_t *pos);
/* The position of id + 1, or 0 when absent. */
size_t vault_idset_find(const struct vault_idset *s, const char *id);
void vault_idset_free(struct vault_idset *s);

#endif
