/*
 * rekey.h - internal to src/vault: the hooks of the master-key rekey (rekey.c) in open.
 */
#ifndef DEFTER_VAULT_REKEY_H
#define DEFTER_VAULT_REKEY_H

#include "defter/core.h"

struct dft_vault;

/*
 * At open, after the header unlocked v->keys and before the database opens: finish or undo a
 * rekey that a crash interrupted (rekey.c explains how it decides). A no-op without one.
 */
enum dft_err vault_rekey_recover(struct dft_vault *v, struct dft_error *err) DFT_MUST_CHECK;

/* After the database opened: a rekeyed vault's content keys (seal, dedup) replace the derived. */
enum dft_err vault_rekey_load_keys(struct dft_vault *v, struct dft_error *err) DFT_MUST_CHECK;

#endif
