/*
 * duress.c - duress passphrases: a shred slot, or a decoy compartment.
 *
 * shred: a key slot under the vault's salt that, when typed, drops the real and recovery slots
 * in that unlock's ordinary rewrite (three slots change, as in any unlock) and answers "wrong
 * passphrase or damaged header".
 * shred+decoy: the same, then it opens the decoy compartment (the slot becomes its open slot).
 * decoy: a second compartment with its own keys, database (vault-1.db) and log; its open slot
 * takes one of the slots the real compartment's map calls "other", its log state the other
 * cell. Its map shows the real compartment's slots as "other", exactly as the real one shows
 * the decoy's, so neither slot says which compartment is the real one. Never stores a
 * passphrase or anything in clear that says a duress slot or a compartment exists.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "defter/coercion.h"
#include "vault/fsutil.h"
#include "vault/vault_internal.h"

/* Build the second compartment in dir/.decoy, keep its keys and state, move its database. */
static enum dft_err
make_store(struct dft_vault *v, const char *pass, size_t pass_len, struct dft_keys *bk,
           unsigned char state[HEADER_CELL_BYTES], struct dft_error *err)
{
    char tmp[PATH_MAX], from[PATH_MAX + 16], to[PATH_MAX], p[PATH_MAX + 16];
    struct dft_vault *b = NULL;
    enum dft_err rc;
    if ((rc = dft_path_join(tmp, sizeof tmp, v->dir, ".decoy", err)) != DFT_OK ||
        (rc = dft_path_join(to, sizeof to, v->dir, HEADER_STORE1_FILE, err)) != DFT_OK) {
        return rc;
    }
    if (access(to, F_OK) == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "a second compartment exists already");
    }
    if ((rc = dft_vault_create(tmp, pass, pass_len, DFT_KDF_INTERACTIVE, err)) != DFT_OK) {
        return rc;
    }
    if ((rc = dft_vault_open(&b, tmp, pass, pass_len, err)) == DFT_OK) {
        memcpy(bk, b->keys, sizeof *bk);
        memcpy(state, b->header.state, HEADER_CELL_BYTES);
        dft_vault_close(b);
        snprintf(from, sizeof from, "%s/vault.db", tmp);
        if (rename(from, to) != 0) {
            rc = dft_fail(err, DFT_ERR_IO, "cannot move '%s': %s", from, strerror(errno));
        }
    }
    snprintf(p, sizeof p, "%s/header", tmp);
    unlink(p);
    snprintf(p, sizeof p, "%s/vault.db-wal", tmp);
    unlink(p);
    snprintf(p, sizeof p, "%s/vault.db", tmp);
    unlink(p);
    snprintf(p, sizeof p, "%s/objects", tmp);
    rmdir(p);
    rmdir(tmp);
    return rc;
}

static enum dft_err
add_decoy(struct dft_vault *v, struct dft_header *h, const unsigned char *kek_d,
          const unsigned char *kek_r, const char *pass, size_t pass_len, struct dft_error *err)
{
    if (h->has_other) {
        return dft_fail(err, DFT_ERR_INPUT, "a second compartment exists already");
    }
    int others[3], n = 0;
    for (int i = 0; i < HEADER_SLOTS && n < 3; i++) {
        if (h->map[i] == HEADER_ROLE_OTHER && i != h->own) {
            others[n++] = i;
        }
    }
    if (n != 3) {
        return dft_fail(err, DFT_ERR_INTERNAL, "the vault header has no room for a compartment");
    }
    struct dft_keys *bk = keys_new();
    unsigned char state[HEADER_CELL_BYTES];
    if (bk == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    enum dft_err rc = make_store(v, pass, pass_len, bk, state, err);
    if (rc == DFT_OK) {
        uint8_t bmap[HEADER_SLOTS];
        for (int i = 0; i < HEADER_SLOTS; i++) {
            bmap[i] = h->map[i] == HEADER_ROLE_SPARE ? HEADER_ROLE_SPARE : HEADER_ROLE_OTHER;
        }
        bmap[others[0]] = HEADER_ROLE_OPEN;
        bmap[others[1]] = HEADER_ROLE_RECOVERY;
        bmap[others[2]] = HEADER_ROLE_SHRED;
        int bcell = 1 - h->cell;
        header_slot_seal_as(h, others[0], HEADER_KIND_OPEN, HEADER_HAS_OTHER, bcell, 1, bmap, bk,
                            kek_d);
        memcpy(h->image + HEADER_OFF_CELLS + (size_t)bcell * HEADER_CELL_BYTES, state,
               sizeof state);
        h->has_other = 1; /* and so the real slot says so too */
        header_slot_seal(h, h->own, HEADER_KIND_OPEN, 0, h->map, v->keys, kek_r);
    }
    keys_free(bk);
    sodium_memzero(state, sizeof state);
    return rc;
}

/* A shred slot that then opens the decoy compartment, which decoy opens now. */
static enum dft_err
add_shred_decoy(struct dft_vault *v, struct dft_header *h, const unsigned char *kek,
                const char *decoy, size_t decoy_len, struct dft_error *err)
{
    if (!h->has_other || decoy == NULL) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "make the decoy compartment first (duress set --action decoy)");
    }
    struct dft_header *hb = malloc(sizeof *hb);
    struct dft_keys *bk = keys_new();
    enum dft_err rc = DFT_OK;
    if (hb == NULL || bk == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(hb, h, sizeof *hb);
    struct dft_error e = {0};
    if (header_unlock(hb, bk, decoy, decoy_len, &e) != DFT_OK || hb->store == h->store ||
        hb->kind != HEADER_KIND_OPEN) {
        rc = dft_fail(err, DFT_ERR_PASSPHRASE, "the decoy passphrase opens no decoy compartment");
        goto out;
    }
    int s = header_role_slot(h, HEADER_ROLE_SHRED);
    if (s < 0) {
        rc = dft_fail(err, DFT_ERR_INTERNAL, "the vault header has no duress slot");
        goto out;
    }
    header_slot_seal_shred_opens(h, s, hb, bk, kek);
    (void)v;
out:
    if (hb != NULL) {
        sodium_memzero(hb, sizeof *hb);
        free(hb);
    }
    keys_free(bk);
    return rc;
}

enum dft_err
dft_vault_duress_set(struct dft_vault *v, enum dft_duress_action action, const char *pass,
                     size_t pass_len, const char *real, size_t real_len, const char *decoy,
                     size_t decoy_len, struct dft_error *err)
{
    if (pass_len == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "the duress passphrase is empty");
    }
    int fd = -1;
    enum dft_err rc = DFT_OK;
    struct dft_header *h = calloc(1, sizeof *h);
    unsigned char *kek = sodium_malloc(32);
    unsigned char *kek_r = sodium_malloc(32);
    if (h == NULL || kek == NULL || kek_r == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = vault_dir_lock(v, &fd, err)) != DFT_OK ||
        (rc = header_read(h, v->header_path, err)) != DFT_OK ||
        (rc = header_attach(h, &v->header, err)) != DFT_OK ||
        (rc = header_derive(h, kek, pass, pass_len, err)) != DFT_OK ||
        (rc = header_derive(h, kek_r, real, real_len, err)) != DFT_OK) {
        goto out;
    }
    if (!header_slot_opens(h, h->own, kek_r)) {
        rc = dft_fail(err, DFT_ERR_PASSPHRASE, "wrong passphrase or damaged header");
        goto out;
    }
    if (header_slot_opens(h, h->own, kek)) {
        rc = dft_fail(err, DFT_ERR_INPUT,
                      "the duress passphrase must differ from the vault's passphrase");
        goto out;
    }
    if (action == DFT_DURESS_DECOY) {
        rc = add_decoy(v, h, kek, kek_r, pass, pass_len, err);
    } else if (action == DFT_DURESS_SHRED_DECOY) {
        rc = add_shred_decoy(v, h, kek, decoy, decoy_len, err);
    } else {
        int s = header_role_slot(h, HEADER_ROLE_SHRED);
        if (s < 0) {
            rc = dft_fail(err, DFT_ERR_INTERNAL, "the vault header has no duress slot");
        } else {
            header_slot_seal(h, s, HEADER_KIND_SHRED, 0, h->map, NULL, kek);
        }
    }
    if (rc == DFT_OK && (rc = header_write(h, v->header_path, err)) == DFT_OK) {
        v->header = *h;
    }
out:
    vault_dir_unlock(fd);
    if (h != NULL) {
        sodium_memzero(h, sizeof *h);
        free(h);
    }
    sodium_free(kek);
    sodium_free(kek_r);
    return rc;
}
