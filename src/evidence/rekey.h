/*
 * rekey.h - internal: rewrapping evidence object headers under a new object key (the master-key
 * rekey of src/vault/rekey.c). Only the 184-byte header changes; chunks and pad stay as they
 * are, since the per-file key inside the wrap does not change.
 */
#ifndef DEFTER_EVIDENCE_REKEY_H
#define DEFTER_EVIDENCE_REKEY_H

#include "defter/evidence.h"

/*
 * out = the header in rewrapped under new_key (fresh nonce; same id, uid, file key, SHA-256 and
 * size). DFT_ERR_INTEGRITY when in does not parse or open under old_key.
 */
enum dft_err evidence_header_rewrap(const unsigned char in[DFT_EVIDENCE_HEADER_BYTES],
                                    unsigned char out[DFT_EVIDENCE_HEADER_BYTES],
                                    const unsigned char old_key[DFT_KEY_BYTES],
                                    const unsigned char new_key[DFT_KEY_BYTES],
                                    struct dft_error *err) DFT_MUST_CHECK;

/* 1 when the header parses and its wrap opens under key. */
int evidence_header_opens(const unsigned char hdr[DFT_EVIDENCE_HEADER_BYTES],
                          const unsigned char key[DFT_KEY_BYTES]);

#endif
