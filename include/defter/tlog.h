/*
 * tlog.h - the transparency log over the vault's envelopes (RFC 9162 Merkle tree).
 */
#ifndef DEFTER_TLOG_H
#define DEFTER_TLOG_H

#include <sqlite3.h>

#include "defter/core.h"

DFT_EXPORT enum dft_err dft_tlog_setup(sqlite3 *db, struct dft_error *err) DFT_MUST_CHECK;
DFT_EXPORT enum dft_err dft_tlog_append(sqlite3 *db, uint64_t index,
                                        const unsigned char leaf_hash[32],
                                        struct dft_error *err) DFT_MUST_CHECK;

#endif
