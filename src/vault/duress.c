/*
 * duress.c - a duress passphrase: a key slot under the vault's salt that, when typed, drops the
 * real and recovery slots in that unlock's ordinary rewrite (three slots change, as in any
 * unlock) and answers "wrong passphrase or damaged header".
 *
 * The decoy compartment (a second database that the duress or a decoy passphrase would open)
 * is not built yet: the slot layout reserves its slots. Never stores the duress passphrase or
 * anything in clear that says a duress slot exists.
 */
#include <string.h>

#include <sodium.h>

#include "defter/coercion.h"
#include "vault/vault_internal.h"

enum dft_err
dft_vault_duress_set(struct dft_vault *v, enum dft_duress_action action, const char *pass,
                     size_t pass_len, struct dft_error *err)
{
    if (action != DFT_DURESS_SHRED) {
        return dft_fail(err, DFT_ERR_USAGE,
                        "decoy compartments are not available yet: use --action shred");
    }
    if (pass_len == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "the duress passphrase is empty");
    }
    int fd = -1;
    enum dft_err rc = DFT_OK;
    struct dft_header *h = calloc(1, sizeof *h);
    unsigned char *kek = sodium_malloc(32);
    if (h == NULL || kek == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = dft_vault_lock(v, &fd, err)) != DFT_OK ||
        (rc = header_read(h, v->header_path, err)) != DFT_OK ||
        (rc = header_attach(h, &v->header, err)) != DFT_OK ||
        (rc = header_derive(h, kek, pass, pass_len, err)) != DFT_OK) {
        goto out;
    }
    if (header_slot_opens(h, h->own, kek)) {
        rc = dft_fail(err, DFT_ERR_INPUT,
                      "the duress passphrase must differ from the vault's passphrase");
        goto out;
    }
    int s = header_role_slot(h, HEADER_ROLE_SHRED);
    if (s < 0) {
        rc = dft_fail(err, DFT_ERR_INTERNAL, "the vault header has no duress slot");
        goto out;
    }
    header_slot_seal(h, s, HEADER_KIND_SHRED, 0, h->map, NULL, kek);
    if ((rc = header_write(h, v->header_path, err)) == DFT_OK) {
        v->header = *h;
    }
out:
    dft_vault_unlock(fd);
    if (h != NULL) {
        sodium_memzero(h, sizeof *h);
        free(h);
    }
    sodium_free(kek);
    return rc;
}
