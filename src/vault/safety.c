/*
 * safety.c - defter/safety.h for the vault layer: share words (the passphrase check on an open
 * vault, dft_vault_passphrase_check, is in duress.c beside the settings that make it first).
 */
#include "defter/safety.h"
#include "vault/share.h"
#include "vault/vault_internal.h"

_Static_assert(DFT_SHARE_WORDS == SHARE_WORDS, "share words");

void
dft_share_words(const unsigned char share[DFT_SHARE_BYTES], char *out, size_t cap)
{
    share_to_words(share, out, cap);
}

enum dft_err
dft_share_parse_words(unsigned char share[DFT_SHARE_BYTES], const char *text, const char *which,
                      struct dft_error *err)
{
    return share_from_words(share, text, which, err);
}
