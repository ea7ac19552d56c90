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
 * size), clear or camouflaged as in was. DFT_ERR_INTEGRITY when in does not parse or open
 * under old_key.
 */
enum dft_err evidence_header_rewrap(const unsigned char in[DFT_EVIDENCE_HEADER_BYTES],
                                    unsigned char out[DFT_EVIDENCE_HEADER_BYTES],
                                    const unsigned char old_key[DFT_KEY_BYTES],
                                    const unsigned char new_key[DFT_KEY_BYTES],
                                    struct dft_error *err) DFT_MUST_CHECK;

/* The encoding of a rewrapped header: as the input's, clear, or camouflaged. */
enum evidence_encoding {
    EVIDENCE_ENC_KEEP = 0,       /* as in: rekey keeps a vault's encoding */
    EVIDENCE_ENC_CLEAR = 1,      /* the clear format (sync chunks leave a vault in it) */
    EVIDENCE_ENC_CAMOUFLAGED = 2 /* encoded under new_key (a camouflaged vault's objects) */
};

/*
 * evidence_header_rewrap, with the output's encoding chosen. The input may be clear or
 * camouflaged under old_key (docs/evidence-format.md, "Camouflaged vaults").
 */
enum dft_err evidence_header_rewrap_as(const unsigned char in[DFT_EVIDENCE_HEADER_BYTES],
                                       unsigned char out[DFT_EVIDENCE_HEADER_BYTES],
                                       const unsigned char old_key[DFT_KEY_BYTES],
                                       const unsigned char new_key[DFT_KEY_BYTES],
                                       enum evidence_encoding enc,
                                       struct dft_error *err) DFT_MUST_CHECK;

/* 1 when a header has no clear magic (a camouflaged vault's object, or not an object). */
int evidence_header_camouflaged(const unsigned char hdr[DFT_EVIDENCE_HEADER_BYTES]);

/* 1 when the header (clear, or camouflaged under key) parses and its wrap opens under key. */
int evidence_header_opens(const unsigned char hdr[DFT_EVIDENCE_HEADER_BYTES],
                          const unsigned char key[DFT_KEY_BYTES]);

#endif
