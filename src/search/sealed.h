/*
 * sealed.h - which records the search index leaves out: a sealed privileged note's fields
 * (docs/vault-format.md "Privileged notes") are never indexed; it is found by its title only.
 */
#ifndef DEFTER_SEARCH_SEALED_H
#define DEFTER_SEARCH_SEALED_H

#include <jansson.h>

/* 1 when fields are those of a sealed privileged note ({"privileged": true, "sealed": {...}}). */
int search_fields_sealed(const json_t *fields);

#endif
