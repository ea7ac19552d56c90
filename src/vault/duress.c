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
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "defter/coercion.h"
#include "defter/safety.h"
#include "vault/camouflage.h"
#include "vault/fsutil.h"
#include "vault/vault_internal.h"

/*
 * New keys for a second compartment and its empty database at db1 (made as db1.tmp, fsynced,
 * then renamed: a crash leaves no half store under the final name).
 */
static enum dft_err
make_store(const char *db1, struct dft_keys *bk, unsigned char state[HEADER_CELL_BYTES],
           struct dft_error *err)
{
    char tmp[PATH_MAX + 8];
    enum dft_err rc;
    if (access(db1, F_OK) == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "a second compartment exists already");
    }
    randombytes_buf(bk->master, sizeof bk->master);
    crypto_sign_keypair(bk->sign_pk, bk->sign_sk);
    crypto_box_keypair(bk->box_pk, bk->box_sk);
    randombytes_buf(bk->vault_id, sizeof bk->vault_id);
    keys_derive(bk);
    snprintf(tmp, sizeof tmp, "%s.tmp", db1);
    unlink(tmp);
    if ((rc = vault_store_create(tmp, bk, state, err)) != DFT_OK) {
        return rc;
    }
    if (rename(tmp, db1) != 0) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot move '%s': %s", tmp, strerror(errno));
        unlink(tmp);
    }
    return rc;
}

/*
 * Seal a second compartment (keys bk, log state) into h under key: its open slot takes the
 * first of h's "other" slots, its log state the other cell, store 1.
 */
static enum dft_err
seal_second(struct dft_header *h, const struct dft_keys *bk,
            const unsigned char state[HEADER_CELL_BYTES], const unsigned char key[32],
            struct dft_error *err)
{
    int others[3], n = 0;
    for (int i = 0; i < HEADER_SLOTS && n < 3; i++) {
        if (h->map[i] == HEADER_ROLE_OTHER && i != h->own) {
            others[n++] = i;
        }
    }
    if (n != 3) {
        return dft_fail(err, DFT_ERR_INTERNAL, "the vault header has no room for a compartment");
    }
    uint8_t bmap[HEADER_SLOTS];
    for (int i = 0; i < HEADER_SLOTS; i++) {
        bmap[i] = h->map[i] == HEADER_ROLE_SPARE ? HEADER_ROLE_SPARE : HEADER_ROLE_OTHER;
    }
    bmap[others[0]] = HEADER_ROLE_OPEN;
    bmap[others[1]] = HEADER_ROLE_RECOVERY;
    bmap[others[2]] = HEADER_ROLE_SHRED;
    int bcell = 1 - h->cell;
    header_slot_seal_as(h, others[0], HEADER_KIND_OPEN, HEADER_HAS_OTHER, bcell, 1, bmap, bk, key);
    memcpy(h->image + HEADER_OFF_CELLS + (size_t)bcell * HEADER_CELL_BYTES, state,
           HEADER_CELL_BYTES);
    return DFT_OK;
}

enum dft_err
duress_second_create(struct dft_header *h, const char *db1, struct dft_error *err)
{
    struct dft_keys *bk = keys_new();
    unsigned char state[HEADER_CELL_BYTES], dk[32];
    if (bk == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    enum dft_err rc = make_store(db1, bk, state, err);
    if (rc == DFT_OK) {
        header_second_key(dk, h->tag_key); /* dormant: no passphrase opens it yet */
        rc = seal_second(h, bk, state, dk, err);
        if (rc != DFT_OK) {
            unlink(db1);
        }
    }
    keys_free(bk);
    sodium_memzero(dk, sizeof dk);
    sodium_memzero(state, sizeof state);
    return rc;
}

static enum dft_err
add_decoy(struct dft_vault *v, struct dft_header *h, const unsigned char *kek_d,
          const unsigned char *kek_r, struct dft_error *err)
{
    if (h->has_other) {
        /* Made at init: give it the decoy passphrase (once). */
        if (!header_second_arm(h, kek_d)) {
            return dft_fail(err, DFT_ERR_INPUT, "a second compartment exists already");
        }
        return DFT_OK;
    }
    /* A vault made before compartments at init: make the second one now. */
    struct dft_keys *bk = keys_new();
    unsigned char state[HEADER_CELL_BYTES];
    char db1[PATH_MAX];
    struct vault_layout l;
    if (bk == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    vault_layout_of_header(v->header_path, &l);
    enum dft_err rc = vault_layout_path(&l, v->dir, VAULT_FILE_DB1, db1, sizeof db1, err);
    if (rc == DFT_OK) {
        /* No slot names a second store: one there was left by a crash before the header
         * write that would have named it (nothing can open it), so it is made again. */
        unlink(db1);
    }
    if (rc == DFT_OK && (rc = make_store(db1, bk, state, err)) == DFT_OK) {
        if ((rc = seal_second(h, bk, state, kek_d, err)) == DFT_OK) {
            h->has_other = 1; /* and so the real slot says so too */
            header_slot_seal(h, h->own, HEADER_KIND_OPEN, 0, h->map, v->keys, kek_r);
        } else {
            unlink(db1);
        }
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
    if (!h->has_other || decoy == NULL || header_second_dormant(h)) {
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
    if (!header_own_opens(h, kek_r)) {
        rc = dft_fail(err, DFT_ERR_PASSPHRASE, "wrong passphrase or damaged header");
        goto out;
    }
    if (header_own_opens(h, kek)) {
        rc = dft_fail(err, DFT_ERR_INPUT,
                      "the duress passphrase must differ from the vault's passphrase");
        goto out;
    }
    if (action == DFT_DURESS_DECOY) {
        rc = add_decoy(v, h, kek, kek_r, err);
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

/*
 * The header as it is on disk, read under the directory lock (*fd) and attached to the open
 * vault, with kek derived from pass: DFT_OK only if pass opens the own slot as it is now (plain
 * or chained). Writes nothing; the caller releases *fd, h and kek (own_header_release).
 */
static enum dft_err
own_header_checked(struct dft_vault *v, const char *pass, size_t pass_len, struct dft_header *h,
                   unsigned char kek[32], int *fd, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    if ((rc = vault_dir_lock(v, fd, err)) != DFT_OK ||
        (rc = header_read(h, v->header_path, err)) != DFT_OK ||
        (rc = header_attach(h, &v->header, err)) != DFT_OK ||
        (rc = header_derive(h, kek, pass, pass_len, err)) != DFT_OK) {
        return rc;
    }
    if (!header_own_opens(h, kek)) {
        return dft_fail(err, DFT_ERR_PASSPHRASE, "wrong passphrase or damaged header");
    }
    return DFT_OK;
}

/* Undo what a caller of own_header_checked holds: the directory lock, the header, the kek. */
static void
own_header_release(int fd, struct dft_header *h, unsigned char *kek)
{
    vault_dir_unlock(fd);
    if (h != NULL) {
        sodium_memzero(h, sizeof *h);
        free(h);
    }
    sodium_free(kek);
}

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
    } else {
        rc = own_header_checked(v, pass, pass_len, h, kek, &fd, err);
    }
    own_header_release(fd, h, kek);
    return rc;
}

_Static_assert(DFT_WIPE_AFTER_MIN == HEADER_WIPE_MIN && DFT_WIPE_AFTER_MAX == HEADER_WIPE_MAX,
               "wipe after limits");

enum dft_err
dft_vault_wipe_after(struct dft_vault *v, unsigned n, const char *real, size_t real_len,
                     struct dft_error *err)
{
    if (n != 0 && (n < DFT_WIPE_AFTER_MIN || n > DFT_WIPE_AFTER_MAX)) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "wipe after must be off or %d to %d wrong passphrases (got %u)",
                        DFT_WIPE_AFTER_MIN, DFT_WIPE_AFTER_MAX, n);
    }
    int fd = -1;
    enum dft_err rc = DFT_OK;
    struct dft_header *h = calloc(1, sizeof *h);
    unsigned char *kek = sodium_malloc(32);
    if (h == NULL || kek == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = own_header_checked(v, real, real_len, h, kek, &fd, err)) != DFT_OK) {
        goto out;
    }
    header_set_wipe_after(h, v->keys, kek, (uint8_t)n);
    if ((rc = header_write(h, v->header_path, err)) == DFT_OK) {
        v->header = *h;
    }
out:
    own_header_release(fd, h, kek);
    return rc;
}
