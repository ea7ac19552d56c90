/*
 * safety.c - defter/safety.h for the vault layer: a passphrase check on an open vault (the
 * check that dft_vault_duress_set and dft_vault_wipe_after make first), and share words.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "defter/safety.h"
#include "vault/share.h"
#include "vault/vault_internal.h"

_Static_assert(DFT_SHARE_WORDS == SHARE_WORDS, "share words");

enum dft_err
dft_vault_passphrase_check(struct dft_vault *v, const char *pass, size_t pass_len,
                           struct dft_error *err)
{
    if (v == NULL || pass == NULL || pass_len == 0) {
        return dft_fail(err, DFT_ERR_PASSPHRASE, "wrong passphrase or damaged header");
    }
    int fd = -1;
    enum dft_err rc = DFT_OK;
    struct dft_header *h = calloc(1, sizeof *h);
    unsigned char *kek = sodium_malloc(32);
    if (h == NULL || kek == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = vault_dir_lock(v, &fd, err)) != DFT_OK ||
        (rc = header_read(h, v->header_path, err)) != DFT_OK ||
        (rc = header_attach(h, &v->header, err)) != DFT_OK ||
        (rc = header_derive(h, kek, pass, pass_len, err)) != DFT_OK) {
        goto out;
    }
    if (!header_own_opens(h, kek)) {
        rc = dft_fail(err, DFT_ERR_PASSPHRASE, "wrong passphrase or damaged header");
    }
out:
    vault_dir_unlock(fd);
    if (h != NULL) {
        sodium_memzero(h, sizeof *h);
        free(h);
    }
    sodium_free(kek);
    return rc;
}

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
