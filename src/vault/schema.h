/*
 * schema.h - the check of operations against the vault's schema (schema.c), for the commit
 * pipeline only.
 */
#ifndef DEFTER_VAULT_SCHEMA_H
#define DEFTER_VAULT_SCHEMA_H

#include <jansson.h>

#include "defter/core.h"

struct dft_vault;

/*
 * Check ops before they are signed: create (known fields of their kinds, required fields),
 * update (the same; removing an absent field is dropped from the op, and an update left empty
 * is removed), link (known role, neither end deleted), evidence (record not deleted, the same
 * file not attached twice). *nothing_left is set when every op was a no-op and was removed.
 * Other actions pass unchanged. DFT_ERR_INPUT with a suggestion on a typo. v NULL: the
 * built-in schema only, and no look-ups of the records (for checks without a vault).
 */
enum dft_err schema_check_ops(struct dft_vault *v, json_t *ops, int *nothing_left,
                              struct dft_error *err) DFT_MUST_CHECK;

/*
 * Whether name is a field a record of type may have (type NULL: of any type), or one of the
 * columns every record has (id, type, title, created, updated). DFT_ERR_INPUT with a
 * suggestion if not.
 */
enum dft_err schema_field_known(struct dft_vault *v, const char *type, const char *name,
                                struct dft_error *err) DFT_MUST_CHECK;

/* The kind of a field ("date", "list"...), or NULL if it has none (unknown, or a column). */
const char *schema_field_kind(const char *type, const char *name);

#endif
