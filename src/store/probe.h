/*
 * probe.h - internal: does a database file belong to a page key (vault/rekey.c uses it to tell
 * which of two database files an interrupted rekey left is the live one)?
 */
#ifndef DEFTER_STORE_PROBE_H
#define DEFTER_STORE_PROBE_H

#include "store/store.h"

/* 1 when page 1 of the file at path authenticates under page_key and vault_id; else 0. */
int store_probe(const char *path, const unsigned char page_key[DFT_KEY_BYTES],
                const unsigned char vault_id[DFT_VAULT_ID_BYTES]);

#endif
