/*
 * share.h - one recovery share as bytes and as 32 BIP-39 English words (11 bits each).
 *
 * Share bytes (DFT_SHARE_BYTES = 44): vault tag (2, from the vault id) | split tag (2, random
 * per split) | index x (1..n) | threshold m | count n | version 1 | y (32, libgfshare) | check
 * (4, BLAKE2b of the 40 bytes before). Words are matched by their first four letters (unique in
 * the BIP-39 list), so a typo after them does not matter; any other typo is caught and named.
 */
#ifndef DEFTER_VAULT_SHARE_H
#define DEFTER_VAULT_SHARE_H

#include "defter/coercion.h"

#define SHARE_WORDS   32
#define SHARE_OFF_X   4
#define SHARE_OFF_M   5
#define SHARE_OFF_N   6
#define SHARE_OFF_VER 7
#define SHARE_OFF_Y   8

extern const char *const words_bip39[2048]; /* generated from data/bip39-english.txt */

/* Fill the checksum of a share whose first 40 bytes are set. */
void share_seal(unsigned char share[DFT_SHARE_BYTES]);

/* The share as 32 space-separated words (out holds at least 32 * 9 bytes). */
void share_to_words(const unsigned char share[DFT_SHARE_BYTES], char *out, size_t cap);

/*
 * Parse 32 words (spaces, tabs or newlines between them; case ignored) into share and check it.
 * DFT_ERR_INPUT with a message naming the word: not in the list, or the one a checksum repair
 * points to. `which` names the share in messages (e.g. "share 2").
 */
enum dft_err share_from_words(unsigned char share[DFT_SHARE_BYTES], const char *text,
                              const char *which, struct dft_error *err) DFT_MUST_CHECK;

#endif
